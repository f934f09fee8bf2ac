#!/usr/bin/env node
// npm run bench:complexity — per-operation cost of list, set and hash commands at
// 1,000 ... 1,000,000 elements, over the wire with deep pipelining, on Mnemo and on
// real Redis in the same run. Flat cost (ratio of largest to smallest size near 1)
// shows O(1) operations. Env: COMPLEXITY_SIZES (comma list), COMPLEXITY_OPS.
import { connect } from 'node:net';
import { startRedis, startMnemo, encode } from './lib.mjs';

const SIZES = (process.env.COMPLEXITY_SIZES ?? '1000,10000,100000,1000000').split(',').map(Number);
const OPS = Number(process.env.COMPLEXITY_OPS ?? 50000);

/** A connection that sends a batch of commands and resolves when all replies arrived. */
function open(port) {
  const sock = connect(port, '127.0.0.1');
  let pending = 0;
  let done = null;
  let tail = '';
  sock.on('data', (d) => {
    // Every command used here replies with a single line (+OK, :n, $-1, or a short bulk).
    const s = tail + d.toString('latin1');
    let i = 0;
    for (;;) {
      const j = s.indexOf('\r\n', i);
      if (j < 0) break;
      const line = s.slice(i, j);
      if (line[0] === '-') throw new Error(`server replied an error: ${line}`);
      if (line[0] === '$' && line !== '$-1') {
        const len = Number(line.slice(1));
        if (s.length < j + 2 + len + 2) break;
        i = j + 2 + len + 2;
      } else i = j + 2;
      pending--;
    }
    tail = s.slice(i);
    if (pending === 0 && done) done();
  });
  return {
    ready: new Promise((r) => sock.once('connect', r)),
    run(cmds) {
      return new Promise((resolve) => {
        pending += cmds.length;
        done = resolve;
        let chunk = '';
        for (const c of cmds) chunk += encode(c);
        sock.write(chunk, 'latin1');
      });
    },
    close: () => sock.destroy(),
  };
}

async function fill(conn, n, make) {
  for (let i = 0; i < n; i += 1000) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 1000); j++) batch.push(make(j));
    await conn.run(batch);
  }
}

async function timeOps(conn, ops, make) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < ops; i += 1000) {
    const batch = [];
    for (let j = i; j < Math.min(ops, i + 1000); j++) batch.push(make(j));
    await conn.run(batch);
  }
  return Number(process.hrtime.bigint() - start) / 1000 / ops; // µs per op
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
  const conn = open(srv.port);
  await conn.ready;
  try {
    for (const c of CASES) {
      const row = { server: srv.name, op: c.name };
      for (const n of SIZES) {
        await conn.run([['FLUSHALL']]);
        // Pops get OPS extra elements so the size stays at least n while measuring.
        await fill(conn, n + (c.extra ?? 0), c.fill);
        row[n] = await timeOps(conn, OPS, (i) => c.op(i, n));
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
