/**
 * printf-style number formatting as C does it, for the report modes (--bigkeys, --stat,
 * --latency) whose lines must match redis-cli's: "%.2f" rounds exact ties to even (JS's
 * toFixed rounds them up), "%05.2f" pads with zeros, nan/inf are spelled as glibc does.
 */

/** "%.{digits}f" */
export function fixed(x: number, digits: number): string {
  if (Number.isNaN(x)) return x < 0 ? '-nan' : 'nan';
  if (!Number.isFinite(x)) return x < 0 ? '-inf' : 'inf';
  const exact = Math.abs(x).toFixed(20);
  const dot = exact.indexOf('.');
  const rest = exact.slice(dot + 1 + digits);
  let s: string;
  if (/^50*$/.test(rest)) {
    // An exact tie: round half to even, as glibc does in the default rounding mode.
    const kept = exact.slice(0, dot + 1 + digits).replace(/\.$/, '');
    const lastDigit = Number(kept[kept.length - 1]);
    s = lastDigit % 2 === 0 ? kept : Math.abs(x).toFixed(digits);
  } else {
    s = Math.abs(x).toFixed(digits);
  }
  return (x < 0 || Object.is(x, -0) ? '-' : '') + s;
}

/** "%0{width}.{digits}f": zero padding after the sign (spaces for nan/inf). */
export function zeroPadFixed(x: number, width: number, digits: number): string {
  const s = fixed(x, digits);
  if (!Number.isFinite(x)) return s.padStart(width, ' ');
  if (s[0] === '-') return '-' + s.slice(1).padStart(width - 1, '0');
  return s.padStart(width, '0');
}

/** "%-{width}s" */
export const padRight = (s: string, width: number): string => s.padEnd(width, ' ');
/** "%{width}s" */
export const padLeft = (s: string, width: number): string => s.padStart(width, ' ');

/** redis-cli's bytesToHuman(): 1023B, 1.00K, 1.82M, ... */
export function bytesToHuman(n: number): string {
  let sign = '';
  if (n < 0) {
    sign = '-';
    n = -n;
  }
  const units = ['K', 'M', 'G', 'T', 'P'];
  if (n < 1024) return `${sign}${n}B`;
  let scale = 1024;
  for (const u of units) {
    if (n < scale * 1024) return `${sign}${fixed(n / scale, 2)}${u}`;
    scale *= 1024;
  }
  return `${sign}${n}B`;
}

/** C's view of a string passed to printf("%s"): it ends at the first NUL byte. */
export function cString(s: string): string {
  const z = s.indexOf('\0');
  return z < 0 ? s : s.slice(0, z);
}
