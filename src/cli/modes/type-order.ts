/**
 * The order in which redis-cli's --bigkeys / --memkeys summary lists key types.
 *
 * redis-cli keeps its per-type counters in a Redis dict (SipHash-1-2 with an all-zero
 * seed, 4 buckets growing to 8, incremental rehashing) and prints them in that dict's
 * iteration order. The order therefore depends on how many lookups happened (each one
 * moves the rehash forward) and on module types added on the way. This models exactly
 * that, so the summary lines come out in the same order as redis-cli's.
 */

const MASK = (1n << 64n) - 1n;
const rotl = (x: bigint, b: bigint): bigint => ((x << b) | (x >> (64n - b))) & MASK;

/** SipHash-1-2 (one compression round, two finalization rounds), key 0. */
export function siphash12(data: Buffer): bigint {
  let v0 = 0x736f6d6570736575n;
  let v1 = 0x646f72616e646f6dn;
  let v2 = 0x6c7967656e657261n;
  let v3 = 0x7465646279746573n;
  const round = () => {
    v0 = (v0 + v1) & MASK;
    v1 = rotl(v1, 13n) ^ v0;
    v0 = rotl(v0, 32n);
    v2 = (v2 + v3) & MASK;
    v3 = rotl(v3, 16n) ^ v2;
    v0 = (v0 + v3) & MASK;
    v3 = rotl(v3, 21n) ^ v0;
    v2 = (v2 + v1) & MASK;
    v1 = rotl(v1, 17n) ^ v2;
    v2 = rotl(v2, 32n);
  };
  const tail = data.length % 8;
  const end = data.length - tail;
  for (let i = 0; i < end; i += 8) {
    const m = data.readBigUInt64LE(i);
    v3 ^= m;
    round();
    v0 ^= m;
  }
  let last = BigInt(data.length & 0xff) << 56n;
  for (let i = 0; i < tail; i++) last |= BigInt(data[end + i]) << BigInt(8 * i);
  v3 ^= last;
  round();
  v0 ^= last;
  v2 ^= 0xffn;
  round();
  round();
  return v0 ^ v1 ^ v2 ^ v3;
}

/** Just enough of Redis's dict to know its iteration order. */
export class DictOrder {
  /** Two tables of buckets; each bucket lists its keys head first. */
  private tables: [string[][] | null, string[][] | null] = [null, null];
  private used: [number, number] = [0, 0];
  private rehashIdx = -1;
  private readonly hashes = new Map<string, bigint>();

  private hash(key: string): bigint {
    let h = this.hashes.get(key);
    if (h === undefined) {
      h = siphash12(Buffer.from(key, 'latin1'));
      this.hashes.set(key, h);
    }
    return h;
  }

  private bucket(table: string[][], key: string): number {
    return Number(this.hash(key) & BigInt(table.length - 1));
  }

  /** One step of incremental rehashing: moves one bucket (visiting at most 10 empty ones). */
  private rehashStep(): void {
    if (this.rehashIdx === -1) return;
    const [from, to] = this.tables as [string[][], string[][]];
    let emptyVisits = 10;
    if (this.used[0] !== 0) {
      while (from[this.rehashIdx].length === 0) {
        this.rehashIdx++;
        if (--emptyVisits === 0) return;
      }
      for (const key of from[this.rehashIdx]) {
        to[this.bucket(to, key)].unshift(key);
        this.used[0]--;
        this.used[1]++;
      }
      from[this.rehashIdx] = [];
      this.rehashIdx++;
    }
    if (this.used[0] === 0) {
      this.tables = [to, null];
      this.used = [this.used[1], 0];
      this.rehashIdx = -1;
    }
  }

  private expand(size: number): void {
    let n = 4;
    while (n < size) n *= 2;
    const table = Array.from({ length: n }, () => [] as string[]);
    if (this.tables[0] === null) {
      this.tables[0] = table;
    } else {
      this.tables[1] = table;
      this.rehashIdx = 0;
    }
  }

  add(key: string): void {
    this.rehashStep();
    if (this.rehashIdx === -1) {
      if (this.tables[0] === null) this.expand(4);
      else if (this.used[0] >= this.tables[0].length) this.expand(this.used[0] + 1);
    }
    const t = this.rehashIdx === -1 ? 0 : 1;
    const table = this.tables[t]!;
    table[this.bucket(table, key)].unshift(key);
    this.used[t]++;
  }

  /** A lookup: only its side effect (a rehash step) matters here. */
  find(): void {
    if (this.used[0] + this.used[1] === 0) return;
    this.rehashStep();
  }

  /** Keys in iteration order: table 0 bucket by bucket, then table 1 while rehashing. */
  keys(): string[] {
    const out: string[] = [];
    for (const table of this.tables) {
      if (table) for (const bucket of table) out.push(...bucket);
    }
    return out;
  }
}
