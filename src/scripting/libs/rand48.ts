/**
 * Redis's math.random: a 48-bit linear congruential generator (lrand48's
 * constants) with a process-wide state that starts at the same seed on every
 * server and is never reseeded between scripts, so sequences match Redis's.
 */
const A = 0x5deece66dn;
const C = 0xbn;
const MASK48 = (1n << 48n) - 1n;
export const LRAND48_MAX = 2147483647;

export class Rand48 {
  private x = 0x1234abcd330en;

  /** redisLrand48: the next 31-bit value. */
  next(): number {
    this.x = (this.x * A + C) & MASK48;
    return Number(this.x >> 17n);
  }

  /** A generator in the same state (what a forked process has). */
  copy(): Rand48 {
    const r = new Rand48();
    r.x = this.x;
    return r;
  }

  /** redisSrand48(seed): seed is a 32-bit int. */
  seed(seed: number): void {
    const s = BigInt(seed >>> 0);
    this.x = ((s << 16n) | 0x330en) & MASK48;
  }
}
