/**
 * The Prometheus endpoint (src/observability/metrics-endpoint.ts): off by
 * default, `metrics-port` opens it on the server's address, real HTTP GETs
 * of /metrics return the INFO figures in the Prometheus text format, and
 * CONFIG SET metrics-port moves or closes it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import type { ServerHandle } from '../../src/index.js';
import { metricsAddress } from '../../src/observability/metrics-endpoint.js';
import { closeAll, connectIo, startTestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { freePort } from '../helpers/process.js';

/** A TCP port nobody listens on right now. */

async function get(port: number, path = '/metrics', method = 'GET'): Promise<{ status: number; type: string | null; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
}

/** Whether something answers HTTP on the port. */
async function answers(port: number): Promise<boolean> {
  try {
    await get(port);
    return true;
  } catch {
    return false;
  }
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * Parses the exposition strictly: every family has one HELP and one TYPE line
 * before its samples, sample lines are `name{k="v",...} value`.
 */
function parse(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const samples: Sample[] = [];
  assert.ok(text.endsWith('\n'));
  for (const line of text.slice(0, -1).split('\n')) {
    let m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) \S.*$/.exec(line);
    if (m) {
      assert.ok(!helps.has(m[1]), `one HELP for ${m[1]}`);
      helps.add(m[1]);
      continue;
    }
    m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (gauge|counter)$/.exec(line);
    if (m) {
      assert.ok(helps.has(m[1]) && !types.has(m[1]), `HELP then one TYPE for ${m[1]}`);
      types.set(m[1], m[2]);
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `sample line: ${line}`);
    assert.ok(types.has(m[1]), `${m[1]} declared before its samples`);
    const labels: Record<string, string> = {};
    if (m[2]) {
      for (const part of m[2].match(/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"/g) ?? []) {
        const eq = part.indexOf('=');
        labels[part.slice(0, eq)] = part.slice(eq + 2, -1);
      }
    }
    const value = Number(m[3]);
    assert.ok(!Number.isNaN(value), line);
    samples.push({ name: m[1], labels, value });
  }
  return { types, samples };
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

function infoField(info: string, field: string): number {
  const m = new RegExp(`^${field}:(.*)\r$`, 'm').exec(info);
  assert.ok(m, field);
  return Number(m[1]);
}

describe('off by default', () => {
  let handle: ServerHandle;
  let io: Redis;
  before(async () => {
    handle = await startTestServer({ save: '' });
    io = await connectIo(handle);
  });
  after(() => closeAll(handle, io));

  test('metrics-port is 0 and no endpoint listens; CONFIG GET patterns do not list it', async () => {
    assert.deepEqual(await io.config('GET', 'metrics-port'), ['metrics-port', '0']);
    assert.deepEqual(await io.config('GET', 'metrics*'), []);
    assert.equal(metricsAddress(handle.server), null);
  });
});

describe('metrics-port set', () => {
  let handle: ServerHandle;
  let io: Redis;
  let port: number;
  before(async () => {
    port = await freePort();
    handle = await startTestServer({ save: '', 'metrics-port': String(port), 'maxmemory': '50mb' });
    io = await connectIo(handle);
  });
  after(() => closeAll(handle, io));

  test('GET /metrics serves the INFO figures in the Prometheus text format', async () => {
    assert.deepEqual(metricsAddress(handle.server), { host: '127.0.0.1', port });
    await io.set('a', '1');
    await io.set('b', '2', 'EX', '100');
    await io.get('a');
    await io.get('nokey');
    await assert.rejects(io.call('INCR', 'x', 'y'));
    await assert.rejects(io.lpush('a', 'x'));
    const res = await get(port);
    assert.equal(res.status, 200);
    assert.equal(res.type, 'text/plain; version=0.0.4; charset=utf-8');
    const { types, samples } = parse(res.body);
    // Gauges and counters, named the Prometheus way.
    assert.equal(types.get('mnemo_connected_clients'), 'gauge');
    assert.equal(value(samples, 'mnemo_connected_clients'), 1);
    assert.equal(types.get('mnemo_commands_processed_total'), 'counter');
    assert.equal(types.get('mnemo_keyspace_hits_total'), 'counter');
    assert.equal(value(samples, 'mnemo_keyspace_hits_total'), 1);
    assert.equal(value(samples, 'mnemo_keyspace_misses_total'), 1);
    assert.equal(types.get('mnemo_used_memory'), 'gauge');
    assert.equal(types.get('mnemo_used_cpu_user_seconds_total'), 'counter');
    assert.equal(value(samples, 'mnemo_maxmemory'), 50 * 1024 * 1024);
    // Per command, per error prefix, per database.
    assert.equal(value(samples, 'mnemo_commands_total', { cmd: 'set' }), 2);
    assert.equal(value(samples, 'mnemo_commands_total', { cmd: 'get' }), 2);
    assert.equal(value(samples, 'mnemo_commands_failed_calls_total', { cmd: 'lpush' }), 1);
    assert.equal(value(samples, 'mnemo_commands_rejected_calls_total', { cmd: 'incr' }), 1);
    assert.ok(value(samples, 'mnemo_commands_duration_seconds_total', { cmd: 'set' })! >= 0);
    // The client library's own handshake may have drawn ERR replies too: compare with INFO errorstats.
    const errorstats = await io.info('errorstats');
    assert.equal(value(samples, 'mnemo_errors_total', { err: 'ERR' }), Number(/errorstat_ERR:count=(\d+)/.exec(errorstats)![1]));
    assert.equal(value(samples, 'mnemo_errors_total', { err: 'WRONGTYPE' }), 1);
    assert.equal(value(samples, 'mnemo_db_keys', { db: 'db0' }), 2);
    assert.equal(value(samples, 'mnemo_db_keys_expiring', { db: 'db0' }), 1);
    assert.equal(value(samples, 'mnemo_server_info', { redis_version: '7.0.15', role: 'master', maxmemory_policy: 'noeviction' }), 1);
    assert.ok(value(samples, 'mnemo_maxmemory_accounted_bytes')! > 0);
    // Text fields are not samples; *_human fields are not either.
    assert.equal(value(samples, 'mnemo_used_memory_human'), undefined);
    assert.equal(value(samples, 'mnemo_redis_version'), undefined);
  });

  test('figures agree with INFO', async () => {
    for (let i = 0; i < 10; i++) await io.incr('n');
    const info = await io.info('everything');
    const { samples } = parse((await get(port)).body);
    assert.equal(value(samples, 'mnemo_total_connections_received'), undefined, 'renamed, not duplicated');
    assert.equal(value(samples, 'mnemo_connections_received_total'), infoField(info, 'total_connections_received'));
    assert.equal(value(samples, 'mnemo_commands_total', { cmd: 'incr' }), 10);
    assert.equal(value(samples, 'mnemo_maxclients'), infoField(info, 'maxclients'));
    assert.equal(value(samples, 'mnemo_expired_keys_total'), infoField(info, 'expired_keys'));
    // The INFO command itself was counted between the two reads; the scrape is not a command.
    assert.equal(value(samples, 'mnemo_commands_processed_total'), infoField(info, 'total_commands_processed') + 1);
  });

  test('only GET/HEAD /metrics', async () => {
    assert.equal((await get(port, '/')).status, 404);
    assert.equal((await get(port, '/metrics', 'POST')).status, 405);
    const head = await get(port, '/metrics', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
  });

  test('CONFIG SET metrics-port moves the endpoint; 0 closes it', async () => {
    const other = await freePort();
    assert.equal(await io.config('SET', 'metrics-port', String(other)), 'OK');
    await waitFor(() => answers(other), 'the new port');
    assert.equal(await answers(port), false, 'the old port is closed');
    assert.equal((await get(other)).status, 200);
    assert.equal(await io.config('SET', 'metrics-port', '0'), 'OK');
    await waitFor(async () => !(await answers(other)), 'the endpoint to close');
    assert.equal(metricsAddress(handle.server), null);
    await io.config('SET', 'metrics-port', String(port));
    await waitFor(() => answers(port), 'the endpoint back');
  });

  test('closing the server closes the endpoint', async () => {
    const p = await freePort();
    const h = await startTestServer({ save: '', 'metrics-port': String(p) });
    assert.equal(await answers(p), true);
    await h.close();
    assert.equal(await answers(p), false);
  });

  test('a metrics port that cannot be bound fails the start, like the main port', async () => {
    await assert.rejects(startTestServer({ save: '', 'metrics-port': String(port) }), /EADDRINUSE/);
  });
});
