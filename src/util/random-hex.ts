/** n random lowercase hex characters (run ids, replication ids, diskless EOF marks), as Redis's getRandomHexChars. */
export function randomHex(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += '0123456789abcdef'[Math.floor(Math.random() * 16)];
  return s;
}
