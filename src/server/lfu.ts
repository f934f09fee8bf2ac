/**
 * Redis's 24-bit LFU word of a key, kept while an LFU maxmemory-policy is on
 * (Database keys.evict[2 * i]): the minute of the last decrement on a 16-bit
 * clock, shifted left by 8, plus an 8-bit logarithmic counter. Eviction
 * (server/eviction.ts) and the RDB code (which stores only the counter,
 * decayed to the save time, as RDB_OPCODE_FREQ) share this arithmetic.
 */

/** The counter of a new key (Redis's LFU_INIT_VAL). */
export const LFU_INIT_VAL = 5;

/** Minutes on a 16-bit clock (Redis's LFUGetTimeInMinutes). */
export function lfuMinutes(nowMs: number): number {
  return Math.floor(nowMs / 60000) & 0xffff;
}

/** The word of a key whose counter is `counter` as of `nowMs`. */
export function lfuWord(nowMs: number, counter: number): number {
  return (lfuMinutes(nowMs) << 8) | (counter & 0xff);
}

/** The counter after decay: one less per lfu-decay-time minutes since the word was last decremented (0: no decay). */
export function lfuDecayed(word: number, nowMin: number, decayTime: number): number {
  const counter = word & 0xff;
  if (decayTime <= 0) return counter;
  const ldt = word >>> 8;
  const elapsed = nowMin >= ldt ? nowMin - ldt : 65535 - ldt + nowMin;
  const periods = Math.floor(elapsed / decayTime);
  return periods >= counter ? 0 : counter - periods;
}

/** lfuDecayed at a time in ms (Redis's LFUDecrAndReturn, as RDB saves it). */
export function lfuCounterAt(word: number, nowMs: number, decayTime: number): number {
  return lfuDecayed(word, lfuMinutes(nowMs), decayTime);
}
