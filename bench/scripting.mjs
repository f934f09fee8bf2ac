#!/usr/bin/env node
// npm run bench:scripting: Lua scripting throughput on Mnemo and real Redis in
// the same run, with redis-benchmark at pipeline 1 (and 16), printing the
// requests per second and the ratio Mnemo/Redis (target >= 0.6 at pipeline 1).
//   evalsha-get-set: EVALSHA of a script doing one GET and one SET.
//   eval-ping:       EVAL "return redis.call('ping')" 0 (compiled once, then cached by sha).
// Env: BENCH_REQUESTS (default 100000), BENCH_CLIENTS (default 50), BENCH_ROUNDS (default 2).
import { startRedis, startMnemo, redisBenchmark, command, ratio } from './lib.mjs';

const requests = Number(process.env.BENCH_REQUESTS ?? 100_000);
const clients = Number(process.env.BENCH_CLIENTS ?? 50);
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);

const GET_SET = "local v = redis.call('get', KEYS[1]) redis.call('set', KEYS[1], ARGV[1]) return v";
const PING = "return redis.call('ping')";

function sha1(script) {
  return import('node:crypto').then(({ createHash }) => createHash('sha1').update(script).digest('hex'));
}

/** Runs one custom command line through redis-benchmark; returns requests per second. */
function bench(port, argv, pipeline) {
  const r = redisBenchmark(port, { tests: [], clients, requests, pipeline, extra: argv });
  const values = Object.values(r);
  return values.length > 0 ? values[0] : NaN;
}

async function load(server, sha) {
  const reply = await command(server.port, ['SCRIPT', 'LOAD', GET_SET]);
  if (!reply.includes(sha)) throw new Error(`${server.name}: SCRIPT LOAD answered ${JSON.stringify(reply)}`);
}

/** Best of `rounds` for each case, alternating servers so that machine load hits both alike. */
function measure(servers, list) {
  // Warm-up, not counted: Node's JIT and the Lua wasm's optimizing tier need a few seconds.
  for (const c of list) for (const server of servers) redisBenchmark(server.port, { tests: [], clients, requests: Math.min(requests, 50_000), pipeline: c.pipeline, extra: c.argv });
  const best = servers.map(() => ({}));
  for (let round = 0; round < rounds; round++) {
    for (const c of list) {
      servers.forEach((server, i) => {
        best[i][c.name] = Math.max(best[i][c.name] ?? 0, bench(server.port, c.argv, c.pipeline));
      });
    }
  }
  return best;
}

const sha = await sha1(GET_SET);
const list = [];
for (const pipeline of [1, 16]) {
  list.push({ name: `evalsha-get-set P${pipeline}`, pipeline, argv: ['-r', '100000', 'EVALSHA', sha, '1', 'bench:key:__rand_int__', 'value'] });
  list.push({ name: `eval-ping P${pipeline}`, pipeline, argv: ['EVAL', PING, '0'] });
}

const redis = await startRedis();
const mnemo = await startMnemo();
try {
  await load(redis, sha);
  await load(mnemo, sha);
  // PING as the baseline: what the network path alone allows.
  const all = [{ name: 'ping (baseline) P1', pipeline: 1, argv: ['PING'] }, ...list];
  const [r, m] = measure([redis, mnemo], all);
  console.log(`scripting benchmark: ${requests} requests, ${clients} clients, best of ${rounds}`);
  console.log('case'.padEnd(24) + 'redis rps'.padStart(12) + 'mnemo rps'.padStart(12) + 'ratio'.padStart(8));
  for (const c of all) {
    console.log(c.name.padEnd(24) + String(Math.round(r[c.name])).padStart(12) + String(Math.round(m[c.name])).padStart(12) + ratio(m[c.name], r[c.name]).padStart(8));
  }
} finally {
  await redis.stop();
  await mnemo.stop();
}
