#!/usr/bin/env node
// npm run bench:persistence: RDB persistence, Mnemo against real Redis in the
// same run, on the same dataset (BENCH_KEYS keys of 16-byte values, default
// 1,000,000), one server at a time so they do not compete for the CPU:
//   - SAVE: wall time of the SAVE round trip (synchronous save);
//   - BGSAVE: from sending BGSAVE until INFO persistence says it is done
//     (rdb_bgsave_in_progress:0, status ok), polled every POLL_MS. Redis only
//     notices its child ended in serverCron (hz 10), so its figure includes up
//     to ~100 ms of that;
//   - load at startup: from spawning the server on its dump file until PING
//     answers +PONG (not -LOADING) and DBSIZE is the key count (process start
//     included), and the load time the server itself logs;
//   - the RDB file size.
// Each figure is the best of BENCH_ROUNDS (default 3). Each server gets its own
// temp dir; both are stopped and the dirs removed at the end, even on error.
// Env: BENCH_KEYS, BENCH_ROUNDS, MNEMO_DIST (the build to run, default ./dist).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIST, command, freePort, pipelineLoad, ratio } from './lib.mjs';

const keys = Number(process.env.BENCH_KEYS ?? 1_000_000);
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const POLL_MS = 5;
const DBFILE = 'dump.rdb';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

/** Everything started here, so a failure anywhere still stops it. */
const live = new Set();
const dirs = [];

function killAll() {
  for (const proc of live) if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
}

/**
 * Spawns a server on `dir`/dump.rdb (no save points, no AOF) without waiting;
 * keeps the tail of its log to read the load time it reports.
 */
function spawnServer(kind, port, dir) {
  const args = ['--port', String(port), '--dir', dir, '--dbfilename', DBFILE, '--save', '', '--appendonly', 'no'];
  const proc =
    kind === 'redis'
      ? spawn('redis-server', [...args, '--daemonize', 'no'], { stdio: ['ignore', 'pipe', 'ignore'] })
      : spawn(process.execPath, [`${DIST}/src/bin/mnemo-server.js`, ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
  live.add(proc);
  let log = '';
  proc.stdout.on('data', (d) => {
    log = (log + d.toString('latin1')).slice(-16384);
  });
  const exited = new Promise((r) => proc.once('exit', r));
  return {
    kind,
    port,
    proc,
    log: () => log,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
      live.delete(proc);
    },
  };
}

/** The reply of one command, or null while the server does not accept connections yet. */
async function tryCommand(port, argv) {
  try {
    return await command(port, argv);
  } catch {
    return null;
  }
}

/** Waits until PING answers +PONG (not -LOADING, not refused) and DBSIZE is `expected`. */
async function waitReady(srv, expected, timeoutMs = 600_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (srv.proc.exitCode !== null) throw new Error(`${srv.kind} exited while starting`);
    const ping = await tryCommand(srv.port, ['PING']);
    if (ping !== null && ping.startsWith('+PONG')) {
      const size = await command(srv.port, ['DBSIZE']);
      if (size === `:${expected}\r\n`) return;
      throw new Error(`${srv.kind} loaded ${size.trim()} keys, expected ${expected}`);
    }
    await sleep(POLL_MS);
  }
  throw new Error(`${srv.kind} did not finish loading in time`);
}

function persistenceField(info, field) {
  const m = info.match(new RegExp(`^${field}:(\\S+)`, 'm'));
  return m ? m[1] : null;
}

async function timeSave(port) {
  const start = nowMs();
  const reply = await command(port, ['SAVE']);
  const ms = nowMs() - start;
  if (!reply.startsWith('+OK')) throw new Error(`SAVE failed: ${reply.trim()}`);
  return ms;
}

async function timeBgsave(port) {
  const start = nowMs();
  const reply = await command(port, ['BGSAVE']);
  if (!reply.startsWith('+Background saving started')) throw new Error(`BGSAVE failed: ${reply.trim()}`);
  for (;;) {
    const info = await command(port, ['INFO', 'persistence']);
    if (persistenceField(info, 'rdb_bgsave_in_progress') === '0') {
      const ms = nowMs() - start;
      const status = persistenceField(info, 'rdb_last_bgsave_status');
      if (status !== 'ok') throw new Error(`BGSAVE ended with status ${status}`);
      return ms;
    }
    await sleep(POLL_MS);
  }
}

/** The load time a server logs ("DB loaded from disk: 0.123 seconds"), in ms, or NaN. */
function reportedLoadMs(log) {
  const m = log.match(/DB loaded from disk: ([\d.]+) seconds/);
  return m ? Number(m[1]) * 1000 : NaN;
}

/** Every measurement for one server; its process is stopped before returning. */
async function measure(kind) {
  const dir = mkdtempSync(join(tmpdir(), `persist-bench-${kind}-`));
  dirs.push(dir);
  const port = await freePort();
  let srv = spawnServer(kind, port, dir);
  const best = { save: Infinity, bgsave: Infinity, load: Infinity, loadLogged: Infinity };
  try {
    await waitReady(srv, 0, 20_000);
    const t0 = nowMs();
    await pipelineLoad(port, keys, (i) => ['SET', `key:${i}`, `v${String(i).padStart(15, '0')}`]);
    const fillMs = nowMs() - t0;
    const size = await command(port, ['DBSIZE']);
    if (size !== `:${keys}\r\n`) throw new Error(`${kind}: DBSIZE ${size.trim()} after loading ${keys} keys`);
    for (let r = 0; r < rounds; r++) best.save = Math.min(best.save, await timeSave(port));
    for (let r = 0; r < rounds; r++) best.bgsave = Math.min(best.bgsave, await timeBgsave(port));
    const fileBytes = statSync(join(dir, DBFILE)).size;
    for (let r = 0; r < rounds; r++) {
      await srv.stop();
      const start = nowMs();
      srv = spawnServer(kind, port, dir);
      await waitReady(srv, keys);
      best.load = Math.min(best.load, nowMs() - start);
      best.loadLogged = Math.min(best.loadLogged, reportedLoadMs(srv.log()));
    }
    console.error(`${kind}: done (filled ${keys} keys in ${fillMs.toFixed(0)} ms)`);
    return { ...best, fileBytes };
  } finally {
    await srv.stop();
  }
}

function fmtMs(ms) {
  return Number.isFinite(ms) ? ms.toFixed(ms < 100 ? 1 : 0) : 'n/a';
}

let results;
try {
  const redis = await measure('redis');
  const mnemo = await measure('mnemo');
  results = { redis, mnemo };
} finally {
  killAll();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

const { redis, mnemo } = results;
console.log(`\nRDB persistence, ${keys} keys (16-byte values), best of ${rounds} rounds`);
console.log('| measure | redis | mnemo | mnemo/redis |\n|---|---|---|---|');
const rows = [
  ['SAVE (ms)', redis.save, mnemo.save, fmtMs],
  ['BGSAVE to completion (ms)', redis.bgsave, mnemo.bgsave, fmtMs],
  ['load at startup, spawn to ready (ms)', redis.load, mnemo.load, fmtMs],
  ['load at startup, as logged by the server (ms)', redis.loadLogged, mnemo.loadLogged, fmtMs],
  ['RDB file size (bytes)', redis.fileBytes, mnemo.fileBytes, String],
];
for (const [name, r, m, fmt] of rows) console.log(`| ${name} | ${fmt(r)} | ${fmt(m)} | ${ratio(m, r)} |`);
