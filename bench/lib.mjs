// Shared helpers for the benchmarks: start real Redis and Mnemo as child
// processes on free ports, run redis-benchmark, load data, read memory.
import { spawn, execFileSync } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitForPing(port, ms = 10000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const r = await command(port, ['PING']);
      if (r.startsWith('+PONG')) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`server on ${port} did not answer PING`);
}

/** Sends one command, resolves with the raw reply text (good enough for INFO/PING). */
export function command(port, argv) {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let data = '';
    sock.on('error', reject);
    sock.on('connect', () => sock.write(encode(argv)));
    sock.on('data', (d) => {
      data += d.toString('latin1');
      if (complete(data)) {
        sock.destroy();
        resolve(data);
      }
    });
  });
}

function complete(s) {
  if (s[0] === '$') {
    const nl = s.indexOf('\r\n');
    if (nl < 0) return false;
    const len = Number(s.slice(1, nl));
    return len < 0 || s.length >= nl + 2 + len + 2;
  }
  return s.endsWith('\r\n');
}

export function encode(argv) {
  let out = `*${argv.length}\r\n`;
  for (const a of argv) out += `$${Buffer.byteLength(a, 'latin1')}\r\n${a}\r\n`;
  return out;
}

export async function startRedis(extra = []) {
  const port = await freePort();
  const proc = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no', ...extra], { stdio: 'ignore' });
  await waitForPing(port);
  return { name: 'redis', port, pid: proc.pid, stop: () => stop(proc) };
}

/** The build that benchmarks run: ./dist, or MNEMO_DIST (another build directory). */
export const DIST = process.env.MNEMO_DIST ?? `${ROOT}/dist`;

export async function startMnemo(extra = []) {
  const port = await freePort();
  // Same persistence settings as the Redis side: no save points, no AOF.
  const proc = spawn(process.execPath, [`${DIST}/src/bin/mnemo-server.js`, '--port', String(port), '--save', '', '--appendonly', 'no', ...extra], { stdio: 'ignore' });
  await waitForPing(port);
  return { name: 'mnemo', port, pid: proc.pid, stop: () => stop(proc) };
}

function stop(proc) {
  return new Promise((resolve) => {
    if (proc.exitCode !== null) return resolve();
    proc.once('exit', () => resolve());
    proc.kill('SIGKILL');
  });
}

/** Runs redis-benchmark; returns { TEST: requestsPerSecond }. */
export function redisBenchmark(port, { tests, clients = 50, requests = 100000, pipeline = 1, extra = [] }) {
  const testArgs = tests.length > 0 ? ['-t', tests.join(',')] : [];
  const out = execFileSync('redis-benchmark', ['-h', '127.0.0.1', '-p', String(port), '-c', String(clients), '-n', String(requests), '-P', String(pipeline), ...testArgs, '--csv', '-q', ...extra], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const result = {};
  for (const line of out.split('\n')) {
    const m = line.match(/^"([^"]+)","([\d.]+)"/);
    if (m) result[m[1].split(' ')[0]] = Number(m[2]);
  }
  return result;
}

export function rssBytes(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = status.match(/VmRSS:\s+(\d+) kB/);
  return m ? Number(m[1]) * 1024 : NaN;
}

export async function infoField(port, field) {
  const info = await command(port, ['INFO', 'memory']);
  const m = info.match(new RegExp(`^${field}:(\\S+)`, 'm'));
  return m ? Number(m[1]) : NaN;
}

/** Writes many commands over one connection with deep pipelining; resolves when all replies arrived. */
export function pipelineLoad(port, total, makeArgv, batch = 10000) {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let sent = 0;
    let replies = 0;
    let tail = '';
    sock.on('error', reject);
    const sendBatch = () => {
      let chunk = '';
      const end = Math.min(total, sent + batch);
      for (; sent < end; sent++) chunk += encode(makeArgv(sent));
      sock.write(chunk, 'latin1');
    };
    sock.on('connect', sendBatch);
    sock.on('data', (d) => {
      // Count reply terminators of simple replies (+OK / :n); load commands reply one line each.
      const s = tail + d.toString('latin1');
      let i = 0;
      for (;;) {
        const j = s.indexOf('\r\n', i);
        if (j < 0) break;
        replies++;
        i = j + 2;
      }
      tail = s.slice(i);
      if (replies === sent && sent < total) sendBatch();
      if (replies >= total) {
        sock.destroy();
        resolve();
      }
    });
  });
}

export function ratio(a, b) {
  return b > 0 ? (a / b).toFixed(2) : 'n/a';
}

/** Skips one RESP reply starting at i; returns the index after it, or -1 if incomplete. Throws on an error reply. */
export function skipReply(s, i) {
  const nl = s.indexOf('\r\n', i);
  if (nl < 0) return -1;
  const type = s[i];
  if (type === '-') throw new Error(`server replied an error: ${s.slice(i, nl)}`);
  if (type === '$') {
    const len = Number(s.slice(i + 1, nl));
    if (len < 0) return nl + 2;
    return s.length >= nl + 2 + len + 2 ? nl + 2 + len + 2 : -1;
  }
  if (type === '*') {
    let n = Number(s.slice(i + 1, nl));
    let p = nl + 2;
    while (n-- > 0) {
      p = skipReply(s, p);
      if (p < 0) return -1;
    }
    return p;
  }
  return nl + 2;
}

/** A connection that sends a batch of commands and resolves when all their replies arrived. */
export function pipelinedConnection(port) {
  const sock = connect(port, '127.0.0.1');
  let pending = 0;
  let done = null;
  let buf = '';
  sock.on('data', (d) => {
    buf += d.toString('latin1');
    let i = 0;
    while (i < buf.length) {
      const next = skipReply(buf, i);
      if (next < 0) break;
      i = next;
      pending--;
    }
    buf = buf.slice(i);
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

/** Runs `ops` commands made by make(i) in pipelined batches of 1000; returns µs per command. */
export async function timedBatches(conn, ops, make) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < ops; i += 1000) {
    const batch = [];
    for (let j = i; j < Math.min(ops, i + 1000); j++) batch.push(make(j));
    await conn.run(batch);
  }
  return Number(process.hrtime.bigint() - start) / 1000 / ops;
}
