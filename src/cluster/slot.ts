/**
 * Hash slots: CRC16 (the XMODEM variant: polynomial 0x1021, initial value 0,
 * no reflection, as the cluster specification names it) of the key, or of its
 * hash tag, modulo 16384. The hash tag is the part between the first `{` and
 * the first `}` after it, when that part is not empty.
 *
 * Keys are latin1 strings (one char per byte), so char codes are the bytes.
 */
export const CLUSTER_SLOTS = 16384;

const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let b = 0; b < 8; b++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    t[i] = crc;
  }
  return t;
})();

/** CRC16-XMODEM of s[from, to). */
export function crc16(s: string, from = 0, to = s.length): number {
  let crc = 0;
  for (let i = from; i < to; i++) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ s.charCodeAt(i)) & 0xff];
  return crc;
}

/** The hash slot of a key (CLUSTER KEYSLOT). */
export function keyHashSlot(key: string): number {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) return crc16(key, open + 1, close) & (CLUSTER_SLOTS - 1);
  }
  return crc16(key) & (CLUSTER_SLOTS - 1);
}
