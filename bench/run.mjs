#!/usr/bin/env node
// npm run bench: redis-benchmark against Mnemo and real Redis in the same run,
// printing requests/s and the ratio Mnemo/Redis, then memory for 1M keys.
// Env: BENCH_REQUESTS (default 200000), BENCH_ROUNDS (default 2), BENCH_KEYS (default 1000000).
import { startRedis, startMnemo, redisBenchmark, rssBytes, infoField, pipelineLoad, ratio } from './lib.mjs';

const requests = Number(process.env.BENCH_REQUESTS ?? 200000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const keys = Number(process.env.BENCH_KEYS ?? 1000000);
const TESTS = (process.env.BENCH_TESTS ?? 'SET,GET,INCR,MSET').split(',');

async function throughput() {
  const redis = await startRedis();
  const mnemo = await startMnemo();
  const rows = [];
  try {
    for (const pipeline of [1, 16]) {
      const best = { redis: {}, mnemo: {} };
      // Alternate servers each round and keep the best of each: the machine is shared and noisy.
      for (let r = 0; r < rounds; r++) {
        for (const srv of r % 2 === 0 ? [redis, mnemo] : [mnemo, redis]) {
          const res = redisBenchmark(srv.port, { tests: TESTS, requests: requests * (pipeline === 16 ? 4 : 1), pipeline });
          for (const [t, v] of Object.entries(res)) best[srv.name][t] = Math.max(best[srv.name][t] ?? 0, v);
        }
      }
      for (const t of Object.keys(best.redis)) {
        rows.push({ test: t, pipeline, redis: best.redis[t], mnemo: best.mnemo[t] ?? 0, ratio: ratio(best.mnemo[t] ?? 0, best.redis[t]) });
      }
    }
  } finally {
    await redis.stop();
    await mnemo.stop();
  }
  return rows;
}

async function memory() {
  const out = [];
  for (const start of [startRedis, startMnemo]) {
    const srv = await start();
    try {
      const value = 'v'.repeat(16);
      await pipelineLoad(srv.port, keys, (i) => ['SET', `key:${String(i).padStart(12, '0')}`, value]);
      await new Promise((r) => setTimeout(r, 500));
      out.push({ server: srv.name, keys, used_memory: await infoField(srv.port, 'used_memory'), rss: rssBytes(srv.pid) });
    } finally {
      await srv.stop();
    }
  }
  return out;
}

const mb = (n) => (n / 1048576).toFixed(1) + ' MB';
const rows = await throughput();
console.log(`\nThroughput (redis-benchmark -c 50, best of ${rounds} alternating rounds, requests/s)`);
console.log('| test | pipeline | redis | mnemo | mnemo/redis |\n|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.test} | ${r.pipeline} | ${Math.round(r.redis)} | ${Math.round(r.mnemo)} | ${r.ratio} |`);
if (process.env.BENCH_SKIP_MEMORY !== '1') {
  const mem = await memory();
  console.log(`\nMemory after loading ${keys} keys with 16-byte values`);
  console.log('| server | used_memory | RSS |\n|---|---|---|');
  for (const m of mem) console.log(`| ${m.server} | ${mb(m.used_memory)} | ${mb(m.rss)} |`);
  const [r, m] = mem;
  console.log(`RSS ratio mnemo/redis: ${ratio(m.rss, r.rss)}`);
}
