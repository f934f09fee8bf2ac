#!/usr/bin/env node
// Sorted set complexity: per-operation cost of ZADD, ZRANK, ZRANGE (10 elements at a
// random rank) and ZREMRANGEBYSCORE (one element) at 1,000 ... 1,000,000 members.
//  1. in-process, against ZSetValue directly (a microbenchmark of the data structure);
//  2. over the wire with pipelined commands, on Mnemo and (if installed) real Redis.
// Costs should grow at most like log(n): the table shows each cost relative to the
// smallest size next to log2(n)/log2(smallest).
//
// Needs a build (npm run build). Env: ZSET_SIZES (comma list), ZSET_OPS (ops per
// measurement, default 20000), ZSET_WIRE=0 to skip the wire part, ZSET_REDIS=0 to
// skip Redis, MNEMO_DIST (a build directory other than ./dist).
import { pathToFileURL } from 'node:url';
import { startRedis, DIST, startMnemo, pipelinedConnection, timedBatches } from './lib.mjs';
const SIZES = (process.env.ZSET_SIZES ?? '1000,10000,100000,1000000').split(',').map(Number);
const OPS = Number(process.env.ZSET_OPS ?? 20000);
const { ZSetValue } = await import(pathToFileURL(`${DIST}/src/data/zset.js`).href);

const LIMITS = { maxEntries: 128, maxValue: 64 };
const rnd = (n) => Math.floor(Math.random() * n);
const member = (i) => `member:${i}`;
/** Member i has score 2i: distinct, so ZREMRANGEBYSCORE s s removes exactly one. */
const scoreOf = (i) => 2 * i;

// ---- 1. in-process -------------------------------------------------------------------

/** Best of `REPEAT` runs of fn, which performs OPS operations and returns nanoseconds spent. */
const REPEAT = 3;
function best(fn) {
  let min = Infinity;
  for (let r = 0; r < REPEAT; r++) min = Math.min(min, fn());
  return min / 1000 / OPS;
}

function since(start) {
  return Number(process.hrtime.bigint() - start);
}

function microbench(n) {
  const z = new ZSetValue();
  for (let i = 0; i < n; i++) z.insert(member(i), scoreOf(i), LIMITS);
  const row = {};
  // ZADD of a new member (removed again, untimed, so the size stays n).
  row.ZADD = best(() => {
    let ns = 0;
    for (let done = 0; done < OPS; done += 1000) {
      const k = Math.min(1000, OPS - done);
      const start = process.hrtime.bigint();
      for (let j = 0; j < k; j++) z.insert(`new:${done + j}`, Math.random() * 2 * n, LIMITS);
      ns += since(start);
      for (let j = 0; j < k; j++) z.delete(`new:${done + j}`);
    }
    return ns;
  });
  const keys = Array.from({ length: OPS }, () => member(rnd(n)));
  row.ZSCORE = best(() => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < OPS; i++) z.score(keys[i]);
    return since(start);
  });
  row.ZRANK = best(() => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < OPS; i++) z.rank(keys[i]);
    return since(start);
  });
  row.ZRANGE = best(() => {
    let sink = 0;
    const start = process.hrtime.bigint();
    for (let i = 0; i < OPS; i++) {
      const r = rnd(n - 10);
      z.forRange(r, r + 9, false, (m) => (sink += m.length));
    }
    return since(start) + (sink & 0);
  });
  // ZREMRANGEBYSCORE s s: find the score range and remove it; the member goes back untimed.
  row.ZREMRANGEBYSCORE = best(() => {
    let ns = 0;
    for (let i = 0; i < OPS; i++) {
      const k = rnd(n);
      const s = scoreOf(k);
      const start = process.hrtime.bigint();
      const [first, last] = z.scoreRange({ min: s, max: s, minex: false, maxex: false });
      z.removeRange(first, last);
      ns += since(start);
      z.insert(member(k), s, LIMITS);
    }
    return ns;
  });
  return row;
}

// ---- 2. over the wire ------------------------------------------------------------------

async function bestAsync(fn) {
  let min = Infinity;
  for (let r = 0; r < REPEAT; r++) min = Math.min(min, await fn());
  return min;
}

async function wire(conn, n) {
  await conn.run([['DEL', 'z']]);
  for (let i = 0; i < n; i += 1000) {
    const cmd = ['ZADD', 'z'];
    for (let j = i; j < Math.min(n, i + 1000); j++) cmd.push(String(scoreOf(j)), member(j));
    await conn.run([cmd]);
  }
  await timedBatches(conn, 2000, () => ['ZRANK', 'z', member(rnd(n))]); // warm-up
  const row = {};
  // ZADD of new members, removed again untimed in rounds so the size stays near n.
  row.ZADD = await bestAsync(async () => {
    let total = 0;
    for (let done = 0; done < OPS; done += 1000) {
      const k = Math.min(1000, OPS - done);
      total += (await timedBatches(conn, k, (j) => ['ZADD', 'z', String(Math.random() * 2 * n), `new:${done + j}`])) * k;
      const rem = ['ZREM', 'z'];
      for (let j = 0; j < k; j++) rem.push(`new:${done + j}`);
      await conn.run([rem]);
    }
    return total / OPS;
  });
  row.ZSCORE = await bestAsync(() => timedBatches(conn, OPS, () => ['ZSCORE', 'z', member(rnd(n))]));
  row.ZRANK = await bestAsync(() => timedBatches(conn, OPS, () => ['ZRANK', 'z', member(rnd(n))]));
  row.ZRANGE = await bestAsync(() =>
    timedBatches(conn, OPS, () => {
      const r = rnd(n - 10);
      return ['ZRANGE', 'z', String(r), String(r + 9)];
    }),
  );
  // ZREMRANGEBYSCORE of one element, in rounds of distinct members re-added untimed.
  row.ZREMRANGEBYSCORE = await bestAsync(async () => {
    let total = 0;
    for (let done = 0; done < OPS; ) {
      const k = Math.min(1000, OPS - done, Math.floor(n / 2));
      const picked = new Set();
      while (picked.size < k) picked.add(rnd(n));
      const ids = [...picked];
      total += (await timedBatches(conn, k, (j) => ['ZREMRANGEBYSCORE', 'z', String(scoreOf(ids[j])), String(scoreOf(ids[j]))])) * k;
      const add = ['ZADD', 'z'];
      for (const id of ids) add.push(String(scoreOf(id)), member(id));
      await conn.run([add]);
      done += k;
    }
    return total / OPS;
  });
  return row;
}

// ---- report ------------------------------------------------------------------------------

const OPS_NAMES = ['ZADD', 'ZRANK', 'ZRANGE', 'ZREMRANGEBYSCORE'];

/**
 * Prints costs per size. "growth" is cost(largest)/cost(smallest). Part of it is
 * memory, not algorithm: at 1M members most accesses miss the CPU caches. ZSCORE is
 * O(1) (a hash lookup) and pays the same misses, so "growth / ZSCORE growth" isolates
 * the algorithmic part, which must stay within log2(largest)/log2(smallest)
 * (with 25% slack for noise; an O(n) operation would show ~1000 here).
 */
function table(title, rows) {
  const base = SIZES[0];
  const top = SIZES[SIZES.length - 1];
  const logGrowth = Math.log2(top) / Math.log2(base);
  const growthOf = (op) => rows[top][op] / rows[base][op];
  const ref = growthOf('ZSCORE');
  console.log(`\n${title}`);
  console.log(`| op | ${SIZES.map((n) => n.toLocaleString('en-US')).join(' | ')} | growth | growth / ZSCORE growth | log2 growth | at most logarithmic |`);
  console.log(`|---|${SIZES.map(() => '---').join('|')}|---|---|---|---|`);
  for (const op of ['ZSCORE', ...OPS_NAMES]) {
    const cells = SIZES.map((n) => rows[n][op]);
    const g = growthOf(op);
    const rel = g / ref;
    // 25% slack for noise: on a shared machine two runs of the same size differ that much.
    const verdict = op === 'ZSCORE' ? '(O(1) reference)' : rel <= logGrowth * 1.25 ? 'yes' : 'NO';
    console.log(`| ${op} | ${cells.map((v) => v.toFixed(3)).join(' | ')} | ${g.toFixed(2)} | ${rel.toFixed(2)} | ${logGrowth.toFixed(2)} | ${verdict} |`);
  }
}

// Warm the JIT up on a small set first, so the smallest size is not measured cold.
microbench(Math.min(...SIZES));
const micro = {};
for (const n of SIZES) micro[n] = microbench(n);
table(`In-process ZSetValue (µs per operation, ${OPS} ops per size)`, micro);

if (process.env.ZSET_WIRE !== '0') {
  const servers = [startMnemo];
  if (process.env.ZSET_REDIS !== '0') servers.push(startRedis);
  for (const start of servers) {
    let srv;
    try {
      srv = await start();
    } catch (e) {
      console.log(`\n(skipping ${start === startRedis ? 'redis' : 'mnemo'}: ${e.message})`);
      continue;
    }
    const conn = pipelinedConnection(srv.port);
    await conn.ready;
    try {
      const rows = {};
      for (const n of SIZES) rows[n] = await wire(conn, n);
      table(`Over the wire, ${srv.name} (µs per command, pipelined batches of 1000, ${OPS} ops per size)`, rows);
    } finally {
      conn.close();
      await srv.stop();
    }
  }
}
