/**
 * While an AOF loads, TTL-setting commands run with the clock at the epoch,
 * so that an absolute time already past sets a TTL instead of deleting the
 * key (Redis does not expire anything while loading). Commands that give a
 * TTL relative to "now" (hand-written or pre-7.0 files; Redis 7.0 and Mnemo
 * log absolute times) are first turned into absolute ones using the real time
 * of the load, which is what Redis computes for them.
 */
import { parseInt64 } from '../../util/numbers.js';

/** A positive TTL in ms from `amount` in the given unit, or null when it is not a valid one. */
function ttlMs(amount: string, unitMs: number): number | null {
  const n = parseInt64(amount);
  if (n === null || n <= 0) return null;
  const ms = n * unitMs;
  return Number.isSafeInteger(ms) ? ms : null;
}

/** The command with relative TTLs made absolute at `now` (ms), or the same argv. */
export function absolutizeTtl(argv: string[], now: number): string[] {
  if (argv.length < 3) return argv;
  const name = argv[0].toLowerCase();
  switch (name) {
    case 'expire':
    case 'pexpire': {
      const ms = ttlMs(argv[2], name === 'expire' ? 1000 : 1);
      if (ms === null) return argv;
      return ['PEXPIREAT', argv[1], String(now + ms), ...argv.slice(3)];
    }
    case 'setex':
    case 'psetex': {
      if (argv.length !== 4) return argv;
      const ms = ttlMs(argv[2], name === 'setex' ? 1000 : 1);
      if (ms === null) return argv;
      return ['SET', argv[1], argv[3], 'PXAT', String(now + ms)];
    }
    case 'set':
    case 'getex': {
      const from = name === 'set' ? 3 : 2;
      for (let i = from; i < argv.length - 1; i++) {
        const opt = argv[i].toLowerCase();
        if (opt !== 'ex' && opt !== 'px') continue;
        const ms = ttlMs(argv[i + 1], opt === 'ex' ? 1000 : 1);
        if (ms === null) return argv;
        const out = argv.slice();
        out[i] = 'PXAT';
        out[i + 1] = String(now + ms);
        return out;
      }
      return argv;
    }
    case 'restore': {
      if (argv.length < 4) return argv;
      if (argv.slice(4).some((a) => a.toLowerCase() === 'absttl')) return argv;
      const ms = ttlMs(argv[2], 1);
      if (ms === null) return argv;
      const out = argv.slice();
      out[2] = String(now + ms);
      out.push('ABSTTL');
      return out;
    }
    default:
      return argv;
  }
}
