/**
 * Client tests of CLIENT subcommands with ioredis and node-redis against an
 * in-process Mnemo: what CLIENT LIST/INFO report, that CLIENT KILL really
 * disconnects, that CLIENT REPLY silences replies, CLIENT UNBLOCK, PAUSE.
 * Error paths are compared with real Redis in test/diff/cases/client.txt.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { Redis } from 'ioredis';
import type { ServerHandle } from '../../src/index.js';
import { closeAll, connectIo, connectNodeRedis, startTestServer, type NodeRedisClient } from '../helpers/server.js';
import { infoFields } from '../helpers/info.js';
import { waitFor } from '../helpers/wait.js';
import { currentPause } from '../../src/commands/client.js';

let handle: ServerHandle;
let io: Redis;
let nr: NodeRedisClient;

before(async () => {
  handle = await startTestServer();
  io = await connectNamed();
  nr = await connectNodeRedis(handle);
});

after(() => closeAll(handle, io, nr));

/** A client of the test server, optionally named, that stays closed once killed (no reconnection). */
function connectNamed(name?: string): Promise<Redis> {
  return connectIo(handle, { retryStrategy: () => null, connectionName: name });
}

/** Resolves when the client's connection has ended. */
function ended(c: Redis): Promise<void> {
  return new Promise((resolve) => {
    if (c.status === 'end') resolve();
    else c.once('end', () => resolve());
  });
}

/** A raw RESP connection: send commands, read exactly what the server wrote. */
class Raw {
  private buf = '';
  closed = false;
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d) => {
      this.buf += d.toString('latin1');
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  static open(port: number): Promise<Raw> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new Raw(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(...cmds: string[][]): void {
    this.socket.write(cmds.map((a) => `*${a.length}\r\n` + a.map((x) => `$${x.length}\r\n${x}\r\n`).join('')).join(''));
  }

  /**
   * Waits until `n` bytes arrived, or `n` (a predicate) accepts what arrived, or the
   * connection closed; then takes everything received so far.
   */
  async take(n: number | ((got: string) => boolean), timeoutMs = 2000): Promise<string> {
    const done = typeof n === 'number' ? (got: string) => got.length >= n : n;
    const deadline = Date.now() + timeoutMs;
    while (!done(this.buf) && !this.closed && Date.now() < deadline) {
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 20);
      });
    }
    const out = this.buf;
    this.buf = '';
    return out;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Parses a CLIENT LIST / CLIENT INFO line into its fields, keeping their order. */
function parseLine(line: string): Array<[string, string]> {
  return line.split(' ').map((kv) => {
    const i = kv.indexOf('=');
    return [kv.slice(0, i), kv.slice(i + 1)];
  });
}

const FIELD_ORDER = [
  'id', 'addr', 'laddr', 'fd', 'name', 'age', 'idle', 'flags', 'db', 'sub', 'psub', 'ssub', 'multi',
  'qbuf', 'qbuf-free', 'argv-mem', 'multi-mem', 'rbs', 'rbp', 'obl', 'oll', 'omem', 'tot-mem',
  'events', 'cmd', 'user', 'redir', 'resp',
];

describe('CLIENT ID, SETNAME, GETNAME, INFO, LIST', () => {
  test('INFO has Redis 7.0 fields in order, with this connection\'s facts', async () => {
    const c = await connectNamed('infotest');
    try {
      await c.select(2);
      const id = await c.client('ID');
      const text = (await c.client('INFO')) as string;
      assert.ok(text.endsWith('\n') && !text.endsWith('\r\n'));
      const f = parseLine(text.slice(0, -1));
      assert.deepEqual(f.map(([k]) => k), FIELD_ORDER);
      const m = new Map(f);
      assert.equal(m.get('id'), String(id));
      assert.equal(m.get('name'), 'infotest');
      assert.equal(m.get('db'), '2');
      assert.equal(m.get('flags'), 'N');
      assert.equal(m.get('cmd'), 'client|info');
      assert.equal(m.get('user'), 'default');
      assert.equal(m.get('resp'), '2');
      assert.equal(m.get('multi'), '-1');
      assert.equal(m.get('argv-mem'), '10');
      assert.equal(m.get('laddr'), `127.0.0.1:${handle.port}`);
      assert.match(m.get('addr')!, /^127\.0\.0\.1:\d+$/);
      assert.equal(m.get('addr'), `${c.stream.localAddress}:${c.stream.localPort}`);
      assert.match(m.get('fd')!, /^\d+$/);
    } finally {
      c.disconnect();
    }
  });

  test('node-redis parses CLIENT INFO and CLIENT LIST', async () => {
    await nr.clientSetName('nrclient');
    assert.equal(await nr.clientGetName(), 'nrclient');
    const info = await nr.clientInfo();
    assert.equal(info.id, await nr.clientId());
    assert.equal(info.name, 'nrclient');
    assert.equal(info.cmd, 'client|info');
    assert.equal(info.resp, 2);
    const list = await nr.clientList();
    assert.equal(list.length, handle.server.clients.size);
    assert.ok(list.some((x) => x.id === info.id && x.name === 'nrclient'));
    // Filters.
    assert.deepEqual((await nr.clientList({ ID: [String(info.id)] })).map((x) => x.id), [info.id]);
    assert.equal((await nr.clientList({ TYPE: 'NORMAL' })).length, list.length);
    assert.equal((await nr.clientList({ TYPE: 'PUBSUB' })).length, 0);
    await nr.clientSetName('');
    assert.equal(await nr.clientGetName(), null);
  });

  test('LIST shows every connection, in connection order; ID lists the given ids in order', async () => {
    const a = await connectNamed('first');
    const b = await connectNamed('second');
    try {
      const lines = ((await io.client('LIST')) as string).split('\n').filter(Boolean);
      const names = lines.map((l) => new Map(parseLine(l)).get('name'));
      assert.ok(names.indexOf('first') >= 0 && names.indexOf('first') < names.indexOf('second'));
      const idA = await a.client('ID');
      const idB = await b.client('ID');
      const byId = ((await io.client('LIST', 'ID', String(idB), '999999', String(idA))) as string).split('\n').filter(Boolean);
      assert.deepEqual(byId.map((l) => new Map(parseLine(l)).get('name')), ['second', 'first']);
      // Another client's line shows its last command and idle time.
      const other = new Map(parseLine(byId[1]));
      assert.equal(other.get('cmd'), 'client|id');
    } finally {
      a.disconnect();
      b.disconnect();
    }
  });

  test('flags: b for blocked, e for no-evict; idle and age follow the server clock', async () => {
    const c = await connectNamed('flagged');
    try {
      const id = Number(await c.client('ID'));
      assert.equal(await c.call('CLIENT', 'NO-EVICT', 'on'), 'OK');
      const target = handle.server.clients.get(id)!;
      handle.clock.freeze();
      handle.server.blocking.block(target, handle.server.table.lookup('ping')!, ['BLPOP', 'k', '0'], {
        keys: ['k'],
        timeoutMs: 0,
        serve: () => false,
      });
      handle.clock.advance(3000);
      const line = new Map(parseLine(((await io.client('LIST', 'ID', String(id))) as string).trim()));
      assert.equal(line.get('flags'), 'be');
      assert.equal(line.get('idle'), '3');
      assert.equal(line.get('age'), '3');
      assert.equal(line.get('argv-mem'), String('BLPOPk0'.length));
      handle.server.blocking.unblock(target);
      await c.call('CLIENT', 'NO-EVICT', 'off');
    } finally {
      handle.clock.resume();
      c.disconnect();
    }
  });

  test("qbuf-free follows Redis's query buffer: 16 KB room, a big argument's exact size, shrunk by the cron", async () => {
    const c = await connectNamed('qb');
    try {
      const id = String(await c.client('ID'));
      const field = async (f: string): Promise<number> =>
        Number(new Map(parseLine(((await io.client('LIST', 'ID', id)) as string).trim())).get(f));
      // After the first read: sdsMakeRoomForNonGreedy(16 KB) -> 20474 (redis-server 7.0.15's figure).
      assert.equal(await field('qbuf'), 0);
      assert.equal(await field('qbuf-free'), 20474);
      // A 400000-byte argument: a buffer of its exact size replaces it (458742 in Redis).
      await c.set('x', 'A'.repeat(400_000));
      assert.equal(await field('qbuf-free'), 458742);
      // Not idle: the cron shrinks it to the recent peak (one small SET), then a read makes 16 KB room again.
      await waitFor(async () => {
        await c.set('x', 'A'.repeat(100));
        return (await field('qbuf-free')) < 458742;
      }, 'the query buffer to shrink');
      // A read into a buffer under 16 KB makes that room again; under 32 KB the cron leaves it.
      await c.set('x', 'y');
      assert.equal(await field('qbuf-free'), 20474);
      // Idle for more than 2 s: all spare room goes.
      handle.clock.freeze();
      handle.clock.advance(3000);
      await waitFor(async () => (await field('qbuf-free')) === 0, 'the idle query buffer to be freed');
    } finally {
      handle.clock.resume();
      c.disconnect();
    }
  });

  test("a new idle client's reply buffer shrinks at once (Redis 7.0 resets a new client's peak at the first cron tick)", async () => {
    const c = await connectNamed('fresh');
    try {
      const id = String(await c.client('ID'));
      await waitFor(
        async () => new Map(parseLine(((await io.client('LIST', 'ID', id)) as string).trim())).get('rbs') === '1024',
        'rbs=1024 well before the 5 s peak reset',
        1500,
      );
    } finally {
      c.disconnect();
    }
  });

  test('RESP3 connections get a verbatim string and resp=3', async () => {
    const r = await Raw.open(handle.port);
    try {
      r.send(['HELLO', '3'], ['CLIENT', 'INFO']);
      const all = await r.take((g) => g.endsWith('\n\r\n'));
      const got = all.slice(all.lastIndexOf('=', all.indexOf('txt:')));
      assert.match(got, /^=\d+\r\ntxt:id=\d+ .* resp=3\n\r\n$/);
      const len = Number(got.slice(1, got.indexOf('\r\n')));
      assert.equal(len, got.length - got.indexOf('\r\n') - 4);
    } finally {
      r.close();
    }
  });
});

describe('CLIENT KILL', () => {
  test('by ID disconnects an ioredis connection', async () => {
    const victim = await connectNamed('victim');
    const id = Number(await victim.client('ID'));
    const gone = ended(victim);
    assert.equal(await io.client('KILL', 'ID', String(id)), 1);
    await gone;
    assert.equal(handle.server.clients.has(id), false);
    assert.equal(await io.client('KILL', 'ID', String(id)), 0);
    assert.ok(!((await io.client('LIST')) as string).includes(`id=${id} `));
  });

  test('old form by address, including the caller itself after its reply', async () => {
    const victim = await connectNamed();
    const addr = `${victim.stream.localAddress}:${victim.stream.localPort}`;
    const gone = ended(victim);
    assert.equal(await io.client('KILL', addr), 'OK');
    await gone;
    await assert.rejects(io.client('KILL', addr), /ERR No such client/);

    const self = await Raw.open(handle.port);
    const selfAddr = `${self.socket.localAddress}:${self.socket.localPort}`;
    self.send(['CLIENT', 'KILL', selfAddr], ['PING']);
    // The OK arrives, the pipelined PING does not run, the connection closes.
    assert.equal(await self.take(100), '+OK\r\n');
    assert.equal(self.closed, true);
  });

  test('filters: ADDR, LADDR, USER, TYPE, SKIPME', async () => {
    // A server of its own: LADDR/USER below match every connection.
    const h = await startTestServer();
    const open = () => connectIo(h, { retryStrategy: () => null });
    const killer = await open();
    const a = await open();
    const b = await open();
    const c3 = await open();
    try {
      const addrA = `${a.stream.localAddress}:${a.stream.localPort}`;
      const goneA = ended(a);
      assert.equal(await killer.client('KILL', 'ADDR', addrA, 'TYPE', 'normal'), 1);
      await goneA;
      assert.equal(await killer.client('KILL', 'ADDR', addrA), 0);
      assert.equal(await killer.client('KILL', 'TYPE', 'pubsub'), 0);
      assert.equal(await killer.client('KILL', 'TYPE', 'master'), 0);
      assert.equal(await killer.client('KILL', 'LADDR', '10.0.0.1:1'), 0);
      // LADDR and USER match every other connection; SKIPME yes (the default) spares the caller.
      const gone = Promise.all([ended(b), ended(c3)]);
      assert.equal(await killer.client('KILL', 'LADDR', `127.0.0.1:${h.port}`, 'USER', 'default'), 2);
      await gone;
      assert.equal(await killer.ping(), 'PONG');
      assert.equal(h.server.clients.size, 1);
    } finally {
      await closeAll(h, killer, a, b, c3);
    }
  });

  test('SKIPME no kills the caller after the count is sent', async () => {
    const self = await Raw.open(handle.port);
    self.send(['CLIENT', 'ID']);
    const id = (await self.take(3)).slice(1, -2);
    self.send(['CLIENT', 'KILL', 'ID', id, 'SKIPME', 'no'], ['PING']);
    assert.equal(await self.take(100), ':1\r\n');
    assert.equal(self.closed, true);
  });
});

describe('CLIENT REPLY', () => {
  test('OFF silences every reply until ON, SKIP only the next one', async () => {
    const r = await Raw.open(handle.port);
    try {
      r.send(['CLIENT', 'REPLY', 'OFF'], ['SET', 'rk', 'v'], ['PING'], ['GET', 'rk'], ['CLIENT', 'REPLY', 'ON'], ['GET', 'rk']);
      assert.equal(await r.take(12), '+OK\r\n$1\r\nv\r\n');
      r.send(['CLIENT', 'REPLY', 'SKIP'], ['PING', 'skipped'], ['PING', 'shown']);
      assert.equal(await r.take(11), '$5\r\nshown\r\n');
      r.send(['CLIENT', 'REPLY', 'SKIP'], ['CLIENT', 'REPLY', 'ON'], ['PING']);
      assert.equal(await r.take(12), '+OK\r\n+PONG\r\n');
      // The command ran even though its reply was dropped.
      assert.equal(await io.get('rk'), 'v');
    } finally {
      r.close();
    }
  });
});

describe('CLIENT UNBLOCK', () => {
  /** Blocks a raw connection's client as BLPOP would, without needing list commands. */
  async function blockedClient(): Promise<{ raw: Raw; id: number }> {
    const raw = await Raw.open(handle.port);
    raw.send(['CLIENT', 'ID']);
    const id = Number((await raw.take(3)).slice(1, -2));
    const c = handle.server.clients.get(id)!;
    handle.server.blocking.block(c, handle.server.table.lookup('ping')!, ['BLPOP', 'nolist', '0'], {
      keys: ['nolist'],
      timeoutMs: 0,
      serve: () => false,
    });
    return { raw, id };
  }

  test('TIMEOUT (default) replies the timeout reply, ERROR an UNBLOCKED error', async () => {
    const one = await blockedClient();
    assert.equal(await io.client('UNBLOCK', String(one.id)), 1);
    assert.equal(await one.raw.take(5), '*-1\r\n');
    assert.equal(await io.client('UNBLOCK', String(one.id)), 0);
    one.raw.close();

    const two = await blockedClient();
    assert.equal(infoFields(await io.info('clients')).get('blocked_clients'), '1');
    assert.equal(await io.client('UNBLOCK', String(two.id), 'ERROR'), 1);
    assert.equal(await two.raw.take(10), '-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n');
    assert.equal(infoFields(await io.info('clients')).get('blocked_clients'), '0');
    // The unblocked client goes on serving commands.
    two.raw.send(['PING']);
    assert.equal(await two.raw.take(7), '+PONG\r\n');
    two.raw.close();
  });

  test('ends a real BLPOP of an ioredis client', async () => {
    const victim = await connectNamed();
    try {
      const id = Number(await victim.client('ID'));
      const pending = victim.blpop('unblock:q', 0);
      await waitFor(() => handle.server.blocking.count > 0, 'the BLPOP to block');
      assert.equal(await io.client('UNBLOCK', String(id)), 1);
      assert.equal(await pending, null);
      const failing = assert.rejects(victim.blpop('unblock:q', 0), /UNBLOCKED client unblocked via CLIENT UNBLOCK/);
      await waitFor(() => handle.server.blocking.count > 0, 'the BLPOP to block');
      assert.equal(await io.client('UNBLOCK', String(id), 'ERROR'), 1);
      await failing;
    } finally {
      victim.disconnect();
    }
  });

  test('a client that is not blocked is left alone', async () => {
    const id = await nr.clientId();
    assert.equal(await io.client('UNBLOCK', String(id)), 0);
    assert.equal(await nr.ping(), 'PONG');
  });
});

describe('CLIENT PAUSE, UNPAUSE, NO-EVICT', () => {
  test('PAUSE records the pause (longest, strictest wins) and UNPAUSE ends it', async () => {
    assert.equal(await io.call('CLIENT', 'PAUSE', '60000', 'WRITE'), 'OK');
    let p = currentPause(handle.server)!;
    assert.equal(p.mode, 'write');
    assert.ok(p.until > handle.server.clock.now() + 50_000);
    assert.equal(await io.call('CLIENT', 'PAUSE', '10'), 'OK');
    p = currentPause(handle.server)!;
    assert.equal(p.mode, 'all');
    assert.ok(p.until > handle.server.clock.now() + 50_000);
    assert.equal(await nr.clientUnpause(), 'OK');
    assert.equal(currentPause(handle.server), null);
  });

  test('NO-EVICT toggles the client flag', async () => {
    assert.equal(await io.call('CLIENT', 'NO-EVICT', 'ON'), 'OK');
    assert.match((await io.client('INFO')) as string, / flags=e /);
    assert.equal(await io.call('CLIENT', 'NO-EVICT', 'off'), 'OK');
    assert.match((await io.client('INFO')) as string, / flags=N /);
  });
});
