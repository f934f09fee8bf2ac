#!/usr/bin/env node
// npm run bench:replication: write throughput of a master with one redis-server
// replica attached, Mnemo master against Redis master (each followed by its own
// Debian redis-server 7.0 replica), redis-benchmark in the same run, as ratios.
// After each run the replica must have caught up (master_repl_offset reached),
// so a master that drops or garbles its stream cannot score.
// Env: BENCH_REQUESTS (default 400000), BENCH_ROUNDS (default 2), BENCH_TESTS (default SET,INCR,LPUSH).
import { command, redisBenchmark, ratio, startMnemo, startRedis } from './lib.mjs';

const requests = Number(process.env.BENCH_REQUESTS ?? 400000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const TESTS = (process.env.BENCH_TESTS ?? 'SET,INCR,LPUSH').split(',');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const field = (info, name) => info.match(new RegExp(`^${name}:(\\S+)`, 'm'))?.[1];

/** A master with a redis-server replica that has finished its first sync. */
async function pair(startMaster) {
  const master = await startMaster();
  const replica = await startRedis(['--replicaof', '127.0.0.1', String(master.port)]);
  for (let i = 0; i < 200; i++) {
    if (field(await command(replica.port, ['INFO', 'replication']), 'master_link_status') === 'up') break;
    await sleep(50);
  }
  return { name: master.name, master, replica, stop: async () => (await replica.stop(), await master.stop()) };
}

/** Waits until the replica processed everything the master produced; fails after 30 s. */
async function caughtUp(p) {
  for (let i = 0; i < 600; i++) {
    const want = field(await command(p.master.port, ['INFO', 'replication']), 'master_repl_offset');
    const have = field(await command(p.replica.port, ['INFO', 'replication']), 'slave_repl_offset');
    if (want === have) return;
    await sleep(50);
  }
  throw new Error(`${p.name}: the replica did not catch up`);
}

const pairs = [await pair(startRedis), await pair(startMnemo)];
const rows = [];
try {
  for (const pipeline of [1, 16]) {
    const best = { redis: {}, mnemo: {} };
    for (let r = 0; r < rounds; r++) {
      for (const p of r % 2 === 0 ? pairs : [...pairs].reverse()) {
        const res = redisBenchmark(p.master.port, { tests: TESTS, requests: requests * (pipeline === 16 ? 4 : 1), pipeline });
        await caughtUp(p);
        for (const [t, v] of Object.entries(res)) best[p.name][t] = Math.max(best[p.name][t] ?? 0, v);
      }
    }
    for (const t of Object.keys(best.redis)) rows.push({ t, pipeline, redis: best.redis[t], mnemo: best.mnemo[t] ?? 0 });
  }
} finally {
  for (const p of pairs) await p.stop();
}
console.log(`\nWrites with one redis-server replica attached (redis-benchmark -c 50, best of ${rounds} alternating rounds, requests/s; each run waits for the replica to catch up)`);
console.log('| test | pipeline | redis | mnemo | mnemo/redis |\n|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.t} | ${r.pipeline} | ${Math.round(r.redis)} | ${Math.round(r.mnemo)} | ${ratio(r.mnemo, r.redis)} |`);
