#!/usr/bin/env node
// npm run bench:observability: what Mnemo's optional observability costs. Two
// Mnemo servers run redis-benchmark in turn, in the same run: one with the
// defaults (latency-tracking yes: per-command latency histograms for INFO
// latencystats; the slowlog at 10 ms) and one with both off
// (latency-tracking no, slowlog-log-slower-than -1). Commandstats (calls and
// µs per command) stay on in both, as they always are in Redis; their cost is
// one clock read per command.
// Env: BENCH_REQUESTS (default 200000), BENCH_ROUNDS (default 3), BENCH_TESTS (default SET,GET,INCR,LPUSH,HSET).
import { startMnemo, redisBenchmark, ratio } from './lib.mjs';

const requests = Number(process.env.BENCH_REQUESTS ?? 200000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const TESTS = (process.env.BENCH_TESTS ?? 'SET,GET,INCR,LPUSH,HSET').split(',');

const on = await startMnemo();
on.name = 'observed';
const off = await startMnemo(['--latency-tracking', 'no', '--slowlog-log-slower-than', '-1']);
off.name = 'bare';
const rows = [];
try {
  for (const pipeline of [1, 16]) {
    const best = { observed: {}, bare: {} };
    // Alternate the order each round and keep the best of each: the machine is shared and noisy.
    for (let r = 0; r < rounds; r++) {
      for (const srv of r % 2 === 0 ? [on, off] : [off, on]) {
        const res = redisBenchmark(srv.port, { tests: TESTS, requests: requests * (pipeline === 16 ? 4 : 1), pipeline });
        for (const [t, v] of Object.entries(res)) best[srv.name][t] = Math.max(best[srv.name][t] ?? 0, v);
      }
    }
    for (const t of Object.keys(best.bare)) {
      rows.push({ test: t, pipeline, bare: best.bare[t], observed: best.observed[t] ?? 0, ratio: ratio(best.observed[t] ?? 0, best.bare[t]) });
    }
  }
} finally {
  await on.stop();
  await off.stop();
}
console.log(`\nObservability overhead (redis-benchmark -c 50, best of ${rounds} alternating rounds, requests/s)`);
console.log('| test | pipeline | latency-tracking and slowlog off | defaults (on) | on/off |');
console.log('|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.test} | ${r.pipeline} | ${r.bare.toFixed(0)} | ${r.observed.toFixed(0)} | ${r.ratio} |`);
