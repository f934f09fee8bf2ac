#!/usr/bin/env node
// npm run bench:complexity — per-operation cost of list, set and hash commands at
// 1,000 ... 1,000,000 elements, over the wire with deep pipelining, on Mnemo and on
// real Redis in the same run. Flat cost (ratio of largest to smallest size near 1)
// shows O(1) operations. Env: COMPLEXITY_SIZES (comma list), COMPLEXITY_OPS.
import { startRedis, startMnemo, pipelinedConnection, timedBatches } from './lib.mjs';

const SIZES = (process.env.COMPLEXITY_SIZES ?? '1000,10000,100000,1000000').split(',').map(Number);
const OPS = Number(process.env.COMPLEXITY_OPS ?? 50000);

async function fill(conn, n, make) {
  for (let i = 0; i < n; i += 1000) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 1000); j++) batch.push(make(j));
    await conn.run(batch);
  }
}

const rnd = (n) => Math.floor(Math.random() * n);
const CASES = [
  { name: 'LPUSH', fill: (i) => ['RPUSH', 'l', 'e' + i], op: (i) => ['LPUSH', 'l', 'n' + i] },
  { name: 'RPOP', fill: (i) => ['RPUSH', 'l', 'e' + i], op: () => ['RPOP', 'l'], extra: OPS },
  { name: 'SADD', fill: (i) => ['SADD', 's', 'm' + i], op: (i) => ['SADD', 's', 'n' + i] },
  { name: 'SISMEMBER', fill: (i) => ['SADD', 's', 'm' + i], op: (i, n) => ['SISMEMBER', 's', 'm' + rnd(n)] },
  { name: 'SPOP', fill: (i) => ['SADD', 's', 'm' + i], op: () => ['SPOP', 's'], extra: OPS },
  { name: 'HSET', fill: (i) => ['HSET', 'h', 'f' + i, 'v'], op: (i) => ['HSET', 'h', 'n' + i, 'v'] },
  { name: 'HGET', fill: (i) => ['HSET', 'h', 'f' + i, 'v'], op: (i, n) => ['HGET', 'h', 'f' + rnd(n)] },
];

const results = [];
for (const start of [startMnemo, startRedis]) {
  const srv = await start();
  const conn = pipelinedConnection(srv.port);
  await conn.ready;
  try {
    for (const c of CASES) {
      const row = { server: srv.name, op: c.name };
      for (const n of SIZES) {
        await conn.run([['FLUSHALL']]);
        // Pops get OPS extra elements so the size stays at least n while measuring.
        await fill(conn, n + (c.extra ?? 0), c.fill);
        row[n] = await timedBatches(conn, OPS, (i) => c.op(i, n));
      }
      results.push(row);
    }
  } finally {
    conn.close();
    await srv.stop();
  }
}

console.log(`\nPer-operation cost in µs (pipelined batches of 1000, ${OPS} ops per size)`);
console.log(`| server | op | ${SIZES.join(' | ')} | largest/smallest |`);
console.log(`|---|---|${SIZES.map(() => '---').join('|')}|---|`);
for (const r of results) {
  const ratio = (r[SIZES[SIZES.length - 1]] / r[SIZES[0]]).toFixed(2);
  console.log(`| ${r.server} | ${r.op} | ${SIZES.map((n) => r[n].toFixed(2)).join(' | ')} | ${ratio} |`);
}
