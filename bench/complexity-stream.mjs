#!/usr/bin/env node
// Stream complexity: per-operation cost of XADD (auto ID, the hot path) and of
// XRANGE from a random ID (COUNT 10) at 10,000 / 100,000 / 1,000,000 entries.
//  1. in-process, against StreamValue directly (a microbenchmark of the data structure);
//  2. over the wire with pipelined commands, on Mnemo and (if installed) real Redis.
// XADD should cost the same at any size (O(1) amortised append) and XRANGE
// should grow at most like log(n) (binary search over nodes, then within one).
// Also prints the memory of the 1,000,000-entry stream (RSS growth of each server).
//
// Needs a build (npm run build). Env: STREAM_SIZES (comma list), STREAM_OPS (ops per
// measurement, default 20000), STREAM_WIRE=0 to skip the wire part, STREAM_REDIS=0 to
// skip Redis, MNEMO_DIST (a build directory other than ./dist).
import { pathToFileURL } from 'node:url';
import { startRedis, DIST, startMnemo, pipelinedConnection, timedBatches, rssBytes } from './lib.mjs';
const SIZES = (process.env.STREAM_SIZES ?? '10000,100000,1000000').split(',').map(Number);
const OPS = Number(process.env.STREAM_OPS ?? 20000);
const { StreamValue, MAX_ID } = await import(pathToFileURL(`${DIST}/src/data/stream.js`).href);

const NODE_BYTES = 4096;
const NODE_ENTRIES = 100;
const rnd = (n) => Math.floor(Math.random() * n);
/** Entry i (1-based) has ID i-0 and two small fields, like an order event. */
const fieldsOf = (i) => ['order_id', String(i), 'total', '99.99'];

// ---- 1. in-process -------------------------------------------------------------------

const REPEAT = 3;
function since(start) {
  return Number(process.hrtime.bigint() - start);
}
/** Best of REPEAT runs of fn, which performs OPS operations and returns nanoseconds; µs per op. */
function best(fn) {
  let min = Infinity;
  for (let r = 0; r < REPEAT; r++) min = Math.min(min, fn());
  return min / 1000 / OPS;
}

function fill(n) {
  const s = new StreamValue();
  for (let i = 1; i <= n; i++) s.append({ ms: i, seq: 0 }, fieldsOf(i), 0, 2, NODE_BYTES, NODE_ENTRIES);
  return s;
}

function microbench(n) {
  const row = {};
  // XADD with an auto ID: next ID from the clock, append; a fresh copy of the stream per run.
  row.XADD = best(() => {
    const s = fill(n);
    const argv = ['XADD', 'k', '*', ...fieldsOf(0)];
    const start = process.hrtime.bigint();
    for (let i = 0; i < OPS; i++) {
      const id = s.nextId(n + 1 + (i >> 4), null, true);
      s.append(id, argv, 3, 2, NODE_BYTES, NODE_ENTRIES);
    }
    return since(start);
  });
  const s = fill(n);
  row.XRANGE = best(() => {
    let sink = 0;
    const start = process.hrtime.bigint();
    for (let i = 0; i < OPS; i++) {
      s.range({ ms: 1 + rnd(n), seq: 0 }, MAX_ID, 10, false, (node, e) => {
        sink += node.fieldsAt(e).length;
      });
    }
    return since(start) + (sink & 0);
  });
  return row;
}

// ---- 2. over the wire ------------------------------------------------------------------

async function bestAsync(fn) {
  let min = Infinity;
  for (let r = 0; r < REPEAT; r++) min = Math.min(min, await fn());
  return min;
}

/** Loads entries 1..n with explicit IDs (so XRANGE can pick random existing ones). */
async function load(conn, key, n) {
  await conn.run([['DEL', key]]);
  for (let i = 1; i <= n; i += 1000) {
    const batch = [];
    for (let j = i; j < Math.min(n + 1, i + 1000); j++) batch.push(['XADD', key, `${j}-0`, ...fieldsOf(j)]);
    await conn.run(batch);
  }
}

async function wire(conn, n) {
  await load(conn, 's', n);
  await timedBatches(conn, 2000, () => ['XRANGE', 's', `${1 + rnd(n)}`, '+', 'COUNT', '10']); // warm-up
  const row = {};
  // XADD * on a copy of the loaded size: reload between runs so every run starts at n.
  row.XADD = await bestAsync(async () => {
    await load(conn, 'w', n);
    return timedBatches(conn, OPS, (i) => ['XADD', 'w', '*', ...fieldsOf(i)]);
  });
  await conn.run([['DEL', 'w']]);
  row.XRANGE = await bestAsync(() => timedBatches(conn, OPS, () => ['XRANGE', 's', `${1 + rnd(n)}`, '+', 'COUNT', '10']));
  return row;
}

/**
 * RSS growth of a fresh server when a 1,000,000-entry stream is loaded into it
 * with XADD * (pipelined). A fresh process, so earlier runs leave nothing behind.
 */
async function memory(start) {
  const server = await start();
  try {
    const conn = pipelinedConnection(server.port);
    await conn.ready;
    await new Promise((r) => setTimeout(r, 300));
    const before = rssBytes(server.pid);
    for (let i = 0; i < 1_000_000; i += 1000) {
      const batch = [];
      for (let j = i; j < i + 1000; j++) batch.push(['XADD', 'mem', '*', ...fieldsOf(j)]);
      await conn.run(batch);
    }
    await new Promise((r) => setTimeout(r, 1000));
    const after = rssBytes(server.pid);
    conn.close();
    return { before, after, growth: after - before };
  } finally {
    await server.stop();
  }
}

// ---- report ------------------------------------------------------------------------------

const OPS_NAMES = ['XADD', 'XRANGE'];

function table(title, rows) {
  const base = SIZES[0];
  const top = SIZES[SIZES.length - 1];
  console.log(`\n${title} (µs per operation)`);
  console.log(['entries'.padStart(10), ...OPS_NAMES.map((o) => o.padStart(10))].join(' '));
  for (const n of SIZES) console.log([String(n).padStart(10), ...OPS_NAMES.map((o) => rows[n][o].toFixed(3).padStart(10))].join(' '));
  const growth = OPS_NAMES.map((o) => (rows[top][o] / rows[base][o]).toFixed(2).padStart(10));
  console.log(['growth'.padStart(10), ...growth].join(' '));
  console.log(`  (log2 ${top} / log2 ${base} = ${(Math.log2(top) / Math.log2(base)).toFixed(2)}; XADD should stay near 1)`);
}

const mb = (b) => `${(b / 1048576).toFixed(1)} MB`;

const local = {};
for (const n of SIZES) local[n] = microbench(n);
table('In-process StreamValue', local);

if (process.env.STREAM_WIRE !== '0') {
  const servers = [await startMnemo()];
  if (process.env.STREAM_REDIS !== '0') {
    try {
      servers.push(await startRedis());
    } catch (e) {
      console.log(`\n(redis-server not available: ${e.message})`);
    }
  }
  const withRedis = servers.length > 1;
  try {
    for (const srv of servers) {
      const conn = pipelinedConnection(srv.port);
      await conn.ready;
      const rows = {};
      for (const n of SIZES) rows[n] = await wire(conn, n);
      conn.close();
      table(`Pipelined over the wire: ${srv.name}`, rows);
    }
  } finally {
    for (const srv of servers) await srv.stop();
  }
  const mem = { mnemo: await memory(startMnemo) };
  if (withRedis) mem.redis = await memory(startRedis);
  console.log('\nMemory of 1,000,000 entries (2 small fields each), RSS growth of a fresh server:');
  for (const [name, m] of Object.entries(mem)) console.log(`  ${name.padEnd(6)} ${mb(m.growth).padStart(10)}   (RSS ${mb(m.before)} -> ${mb(m.after)})`);
  if (mem.mnemo && mem.redis) console.log(`  mnemo / redis growth: ${(mem.mnemo.growth / mem.redis.growth).toFixed(2)}x`);
}
