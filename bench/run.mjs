#!/usr/bin/env node
// npm run bench: redis-benchmark against Mnemo and real Redis in the same run,
// printing requests/s and the ratio Mnemo/Redis, then memory for 1M keys.
// Env: BENCH_REQUESTS (default 200000), BENCH_ROUNDS (default 2), BENCH_KEYS (default 1000000),
// BENCH_TESTS / BENCH_CUSTOM (throughput tests), BENCH_MEMORY (memory scenarios: strings,
// small-hashes, big-hash, stream, stream-unique), BENCH_SKIP_THROUGHPUT=1, BENCH_SKIP_MEMORY=1.
import { startRedis, startMnemo, redisBenchmark, rssBytes, infoField, pipelineLoad, pipelinedConnection, ratio } from './lib.mjs';

const requests = Number(process.env.BENCH_REQUESTS ?? 200000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const keys = Number(process.env.BENCH_KEYS ?? 1000000);
const TESTS = (process.env.BENCH_TESTS ?? 'SET,GET,INCR,MSET,LPUSH,RPOP,LPOP,SADD,SPOP,HSET,LRANGE_100,LRANGE_600,ZADD,ZPOPMIN').split(',');
/** Commands redis-benchmark has no built-in test for: name -> argv (with __rand_int__ placeholders, -r 100000). */
const CUSTOM = {
  ZRANGEBYSCORE: ['ZRANGEBYSCORE', 'bench:z', '0', '50', 'LIMIT', '0', '10'],
  ZRANK: ['ZRANK', 'bench:z', 'm:__rand_int__'],
  PFADD: ['PFADD', 'bench:hll', 'e:__rand_int__'],
  GEOADD: ['GEOADD', 'bench:geo', '13.361389', '38.115556', 'm:__rand_int__'],
  // redis-benchmark 7.0 has no built-in stream test (-t xadd runs nothing).
  XADD: ['XADD', 'bench:s', '*', 'f1', 'v1', 'f2', '__rand_int__'],
  XRANGE: ['XRANGE', 'bench:s', '-', '+', 'COUNT', '10'],
  XREAD: ['XREAD', 'COUNT', '10', 'STREAMS', 'bench:s', '0'],
};
const CUSTOM_TESTS = (process.env.BENCH_CUSTOM ?? Object.keys(CUSTOM).join(',')).split(',').filter(Boolean);
const MEMORY = (process.env.BENCH_MEMORY ?? 'strings,small-hashes,big-hash').split(',');

/**
 * Data the custom read tests need: a 100,000-member zset, and a stream reset to
 * the same 1,000 entries (explicit IDs, so both servers hold identical data
 * whatever an earlier XADD run appended).
 */
async function prepareCustom(port) {
  await pipelineLoad(port, 100, (i) => ['ZADD', 'bench:z', ...Array.from({ length: 1000 }, (_, j) => [String((i * 1000 + j) % 100), `m:${i * 1000 + j}`]).flat()]);
  // XADD replies are bulk strings (two lines each), so not pipelineLoad's one-line counting.
  const conn = pipelinedConnection(port);
  await conn.ready;
  await conn.run([['DEL', 'bench:s'], ...Array.from({ length: 1000 }, (_, i) => ['XADD', 'bench:s', `1-${i + 1}`, 'f1', 'v1', 'f2', String(i).padStart(12, '0')])]);
  conn.close();
}

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
          const n = requests * (pipeline === 16 ? 4 : 1);
          const res = redisBenchmark(srv.port, { tests: TESTS, requests: n, pipeline });
          for (const name of CUSTOM_TESTS) {
            await prepareCustom(srv.port);
            const r = redisBenchmark(srv.port, { tests: [], requests: n, pipeline, extra: ['-r', '100000', ...CUSTOM[name]] });
            res[name] = Object.values(r)[0] ?? 0;
          }
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

/**
 * Memory scenarios: name -> [number of commands, command for index i, options].
 * Options: `bulk` when replies are bulk strings (loaded through the RESP-parsing
 * connection, not pipelineLoad's one-line count); `idleMs` to read RSS again
 * after that long without commands (and to wait that long before reading the
 * base RSS), the same for both servers: Mnemo returns V8's young generation
 * once it has been quiet for about 7 s (src/server/memory-reclaim.ts).
 */
/** 12 decimal digits that look random (a multiplicative hash of i), the same for both servers. */
const digits = (i) => String((Math.imul(i + 1, 2654435761) >>> 0) * 1000 + (i % 997)).padStart(12, '0').slice(-12);

const SCENARIOS = {
  strings: [keys, (i) => ['SET', `key:${String(i).padStart(12, '0')}`, 'v'.repeat(16)]],
  'small-hashes': [keys, (i) => ['HSET', `user:${i}`, 'name', 'John', 'email', 'john@test.com', 'age', '30', 'city', 'Paris', 'visits', String(i % 1000)]],
  'big-hash': [keys, (i) => ['HSET', 'bighash', `field:${i}`, `value:${i}`]],
  stream: [keys, () => ['XADD', 'bench:stream', '*', 'field1', 'value1', 'field2', 'value2'], { bulk: true, idleMs: 10000 }],
  // The same with values that repeat nothing (12 pseudo-random digits each): what node compression cannot shrink.
  'stream-unique': [keys, (i) => ['XADD', 'bench:stream', '*', 'field1', digits(i), 'field2', digits(i + keys)], { bulk: true, idleMs: 10000 }],
};

/** Sends count commands in pipelined batches of 10,000, parsing each reply. */
async function bulkLoad(port, count, make) {
  const conn = pipelinedConnection(port);
  await conn.ready;
  for (let i = 0; i < count; i += 10000) {
    const batch = [];
    for (let j = i; j < Math.min(count, i + 10000); j++) batch.push(make(j));
    await conn.run(batch);
  }
  conn.close();
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function memory() {
  const out = [];
  for (const name of MEMORY) {
    const [count, make, opts = {}] = SCENARIOS[name];
    const row = { scenario: name, idleMs: opts.idleMs };
    for (const start of [startRedis, startMnemo]) {
      const srv = await start();
      try {
        // The base is read after the same settling time as the final reading.
        await sleep(opts.idleMs ?? 500);
        const base = rssBytes(srv.pid);
        await (opts.bulk ? bulkLoad : pipelineLoad)(srv.port, count, make);
        await sleep(500);
        row[srv.name] = { base, used: await infoField(srv.port, 'used_memory'), rss: rssBytes(srv.pid) };
        if (opts.idleMs) {
          await sleep(opts.idleMs - 500);
          row[srv.name].rssIdle = rssBytes(srv.pid);
        }
      } finally {
        await srv.stop();
      }
    }
    out.push(row);
  }
  return out;
}

const mb = (n) => (n / 1048576).toFixed(1) + ' MB';
const rows = process.env.BENCH_SKIP_THROUGHPUT === '1' ? [] : await throughput();
if (rows.length) console.log(`\nThroughput (redis-benchmark -c 50, best of ${rounds} alternating rounds, requests/s)`);
if (rows.length) console.log('| test | pipeline | redis | mnemo | mnemo/redis |\n|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.test} | ${r.pipeline} | ${Math.round(r.redis)} | ${Math.round(r.mnemo)} | ${r.ratio} |`);
if (process.env.BENCH_SKIP_MEMORY !== '1') {
  const mem = await memory();
  console.log(`\nMemory (${keys} commands per scenario: strings = SET of 16-byte values, small-hashes = HSET of 5 fields per key, big-hash = one hash of ${keys} fields, stream = XADD of 2 small fields, stream-unique = the same with 12-digit values that differ)`);
  console.log('| scenario | redis used_memory | mnemo used_memory | redis RSS | mnemo RSS | RSS mnemo/redis |\n|---|---|---|---|---|---|');
  for (const m of mem) console.log(`| ${m.scenario} | ${mb(m.redis.used)} | ${mb(m.mnemo.used)} | ${mb(m.redis.rss)} | ${mb(m.mnemo.rss)} | ${ratio(m.mnemo.rss, m.redis.rss)} |`);
  console.log('\nRSS growth (RSS after the load minus RSS before it) and total RSS, 0.5 s after the last command and after the scenario\'s idle time');
  console.log('| scenario | idle | redis growth | mnemo growth | growth mnemo/redis | redis RSS | mnemo RSS | RSS mnemo/redis |\n|---|---|---|---|---|---|---|---|');
  for (const m of mem) {
    for (const [idle, key] of [[500, 'rss'], ...(m.idleMs ? [[m.idleMs, 'rssIdle']] : [])]) {
      const g = (s) => s[key] - s.base;
      const total = `${mb(m.redis[key])} | ${mb(m.mnemo[key])} | ${ratio(m.mnemo[key], m.redis[key])}`;
      console.log(`| ${m.scenario} | ${idle / 1000} s | ${mb(g(m.redis))} | ${mb(g(m.mnemo))} | ${ratio(g(m.mnemo), g(m.redis))} | ${total} |`);
    }
  }
}
