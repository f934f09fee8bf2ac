/**
 * DEBUG DIGEST and DEBUG DIGEST-VALUE: Redis's dataset digest, reproduced
 * byte for byte (so a digest taken on Mnemo equals the one Redis reports for
 * the same data).
 *
 * Building blocks over a 20-byte state d:
 *   xor(d, data): d ^= SHA1(data)              (order-independent)
 *   mix(d, data): xor(d, data); d = SHA1(d)     (order-dependent)
 * A key contributes mix(key), mix(type as 4 big-endian bytes), then its
 * value: strings mix their bytes; lists mix each element in order; sets xor
 * each member; sorted sets xor, per element, a fresh digest of mix(member)
 * and mix(score printed with %.17g); hashes likewise per field/value;
 * streams mix "<ms>.<seq>" then each field and value, entry by entry. A key
 * with a TTL also xors "!!expire!!". The dataset digest mixes each non-empty
 * db's number (4 big-endian bytes) and xors every key's digest into it.
 */
import { createHash } from 'node:crypto';
import { MutableString, type Value } from '../../data/values.js';
import type { Database } from '../../db/database.js';
import type { ListValue } from '../../data/list.js';
import type { SetValue } from '../../data/set.js';
import type { HashValue } from '../../data/hash.js';
import type { ZSetValue } from '../../data/zset.js';
import type { StreamValue } from '../../data/stream.js';
import { formatDouble17g } from '../../util/numbers.js';

function sha1(data: Uint8Array): Buffer {
  return createHash('sha1').update(data).digest();
}

function bytesOf(s: string | Uint8Array): Uint8Array {
  return typeof s === 'string' ? Buffer.from(s, 'latin1') : s;
}

function xorInto(d: Buffer, data: string | Uint8Array): void {
  const h = sha1(bytesOf(data));
  for (let i = 0; i < 20; i++) d[i] ^= h[i];
}

function mixInto(d: Buffer, data: string | Uint8Array): void {
  xorInto(d, data);
  sha1(d).copy(d, 0);
}

function u32be(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

/** Redis's object type numbers (OBJ_STRING ... OBJ_STREAM). */
function typeCode(v: Value): number {
  if (typeof v === 'string' || v instanceof MutableString) return 0;
  switch (v.type) {
    case 'list':
      return 1;
    case 'set':
      return 2;
    case 'zset':
      return 3;
    case 'hash':
      return 4;
    case 'stream':
      return 6;
  }
  return 5;
}

/** xorObjectDigest: mixes one value (and its TTL flag) into d. */
export function mixValueDigest(d: Buffer, v: Value, hasExpire: boolean): void {
  mixInto(d, u32be(typeCode(v)));
  if (typeof v === 'string') {
    mixInto(d, v);
  } else if (v instanceof MutableString) {
    mixInto(d, v.view());
  } else {
    switch (v.type) {
      case 'list': {
        const l = v as ListValue;
        for (let i = 0; i < l.length; i++) mixInto(d, l.at(i));
        break;
      }
      case 'set':
        (v as SetValue).forEach((m) => xorInto(d, m));
        break;
      case 'zset':
        (v as ZSetValue).forEach((m, s) => {
          const e = Buffer.alloc(20);
          mixInto(e, m);
          mixInto(e, formatDouble17g(s));
          xorInto(d, e);
        });
        break;
      case 'hash':
        (v as HashValue).forEach((f, val) => {
          const e = Buffer.alloc(20);
          mixInto(e, f);
          mixInto(e, val);
          xorInto(d, e);
        });
        break;
      case 'stream': {
        const s = v as StreamValue;
        for (let p = s.firstPos(); p !== null; p = s.nextPos(p)) {
          const id = s.idAt(p);
          mixInto(d, `${id.ms}.${id.seq}`);
          for (const x of s.fieldsAt(p)) mixInto(d, x);
        }
        break;
      }
    }
  }
  if (hasExpire) xorInto(d, '!!expire!!');
}

/** DEBUG DIGEST-VALUE for one key of db: 20 bytes (all zero when the key is missing). */
export function keyValueDigest(db: Database, key: string): Buffer {
  const d = Buffer.alloc(20);
  const v = db.peek(key);
  if (v !== undefined) mixValueDigest(d, v, db.getExpire(key) !== -1);
  return d;
}

/** DEBUG DIGEST: the digest of every database. */
export function datasetDigest(dbs: readonly Database[]): Buffer {
  const final = Buffer.alloc(20);
  for (const db of dbs) {
    if (db.size === 0) continue;
    mixInto(final, u32be(db.id));
    const keys = db.keys.keys;
    const vals = db.keys.vals;
    for (let i = 0; i < keys.length; i++) {
      const d = Buffer.alloc(20);
      mixInto(d, keys[i]);
      mixValueDigest(d, vals[i], db.expires.size !== 0 && db.expires.has(keys[i]));
      xorInto(final, d);
    }
  }
  return final;
}
