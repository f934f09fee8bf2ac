#!/usr/bin/env node
// npm run bench:aof: SET at pipeline 1 with the append-only file on, for
// appendfsync everysec and always, Mnemo against real Redis in the same run
// (best of alternating rounds), with the ratio Mnemo/Redis.
// Env: BENCH_REQUESTS (default 200000; always uses a quarter), BENCH_ROUNDS (default 3),
// BENCH_CLIENTS (default 50).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis, startMnemo, redisBenchmark, ratio } from './lib.mjs';

const requests = Number(process.env.BENCH_REQUESTS ?? 200000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const clients = Number(process.env.BENCH_CLIENTS ?? 50);

/** Both servers with the AOF on in their own fresh directory. */
async function startPair(fsync) {
  const dirs = [mkdtempSync(join(tmpdir(), 'aof-bench-redis-')), mkdtempSync(join(tmpdir(), 'aof-bench-mnemo-'))];
  const aof = (dir) => ['--appendonly', 'yes', '--appendfsync', fsync, '--dir', dir, '--save', ''];
  const redis = await startRedis(aof(dirs[0]));
  const mnemo = await startMnemo(aof(dirs[1]));
  return {
    servers: [redis, mnemo],
    async stop() {
      await redis.stop();
      await mnemo.stop();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}

const rows = [];
for (const fsync of ['everysec', 'always']) {
  const n = fsync === 'always' ? Math.max(1000, Math.floor(requests / 4)) : requests;
  const pair = await startPair(fsync);
  const best = { redis: 0, mnemo: 0 };
  try {
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? pair.servers : [...pair.servers].reverse();
      for (const srv of order) {
        const res = redisBenchmark(srv.port, { tests: ['set'], clients, requests: n, pipeline: 1 });
        best[srv.name] = Math.max(best[srv.name], res.SET ?? 0);
      }
    }
  } finally {
    await pair.stop();
  }
  rows.push({ fsync, n, ...best, ratio: ratio(best.mnemo, best.redis) });
}

console.log(`\nSET with the AOF on (redis-benchmark -t set -P 1 -c ${clients}, best of ${rounds} alternating rounds, requests/s)`);
console.log('| appendfsync | requests | redis | mnemo | mnemo/redis | target |\n|---|---|---|---|---|---|');
for (const r of rows) {
  const target = r.fsync === 'everysec' ? '>= 0.75' : '-';
  console.log(`| ${r.fsync} | ${r.n} | ${Math.round(r.redis)} | ${Math.round(r.mnemo)} | ${r.ratio} | ${target} |`);
}
