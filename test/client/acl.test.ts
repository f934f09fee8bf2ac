/**
 * ACL through real clients (ioredis, node-redis v4): a user with limited
 * permissions connects with username/password options, gets NOPERM for
 * commands, keys and channels it may not use, shows up in ACL LOG and CLIENT
 * LIST, and is disconnected by ACL DELUSER; requirepass sets the default
 * user's password.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import type { ServerHandle } from '../../src/index.js';
import { closeAll, connectIo, startTestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { Config } from '../../src/config/config.js';
import { Server } from '../../src/server/server.js';

let handle: ServerHandle;
let admin: Redis;

before(async () => {
  handle = await startTestServer();
  admin = await connectIo(handle);
});
after(() => closeAll(handle, admin));

describe('ACL with ioredis', () => {
  test('a limited user gets NOPERM for commands and keys it may not use', async () => {
    assert.equal(await admin.call('ACL', 'SETUSER', 'alice', 'on', '>secret', '~app:*', '+@read', '+set', '+ping'), 'OK');
    const alice = await connectIo(handle, { username: 'alice', password: 'secret' });
    try {
      assert.equal(await alice.call('ACL', 'WHOAMI').catch((e: Error) => e.message), "NOPERM this user has no permissions to run the 'acl|whoami' command");
      assert.equal(await alice.set('app:1', 'v'), 'OK');
      assert.equal(await alice.get('app:1'), 'v');
      await assert.rejects(alice.get('other'), /^ReplyError: NOPERM this user has no permissions to access one of the keys used as arguments$/);
      await assert.rejects(alice.lpush('app:list', 'x'), /NOPERM this user has no permissions to run the 'lpush' command/);
      const log = (await admin.call('ACL', 'LOG', '1')) as unknown[][];
      assert.equal(log.length, 1);
      assert.deepEqual(log[0].slice(0, 10), ['count', 1, 'reason', 'command', 'context', 'toplevel', 'object', 'lpush', 'username', 'alice']);
      const list = (await admin.client('LIST')) as string;
      assert.match(list, / user=alice /);
    } finally {
      alice.disconnect();
    }
  });

  test('a wrong password is refused and logged', async () => {
    const other = await connectIo(handle);
    await assert.rejects(other.auth('alice', 'nope'), /^ReplyError: WRONGPASS invalid username-password pair or user is disabled\.$/);
    assert.equal(await other.call('ACL', 'WHOAMI'), 'default');
    other.disconnect();
    const log = (await admin.call('ACL', 'LOG', '1')) as unknown[][];
    assert.deepEqual(log[0].slice(0, 10), ['count', 1, 'reason', 'auth', 'context', 'toplevel', 'object', 'auth', 'username', 'alice']);
  });

  test('ACL DELUSER disconnects the user', async () => {
    await admin.call('ACL', 'SETUSER', 'bob', 'on', '>pw', '~*', '+@all');
    const bob = await connectIo(handle, { username: 'bob', password: 'pw', retryStrategy: () => null });
    const closed = new Promise<void>((resolve) => bob.once('end', () => resolve()));
    assert.equal(await bob.ping(), 'PONG');
    assert.equal(await admin.call('ACL', 'DELUSER', 'bob'), 1);
    await closed;
    assert.equal(bob.status, 'end');
  });

  test('CLIENT KILL USER disconnects a real user', async () => {
    await admin.call('ACL', 'SETUSER', 'carol', 'on', 'nopass', '~*', '+@all');
    const carol = await connectIo(handle, { username: 'carol', password: 'x', retryStrategy: () => null });
    const closed = new Promise<void>((resolve) => carol.once('end', () => resolve()));
    assert.equal(await admin.client('KILL', 'USER', 'carol'), 1);
    await closed;
    await admin.call('ACL', 'DELUSER', 'carol');
  });
});

describe('ACL with node-redis', () => {
  test('username/password options, NOPERM for channels, and DELUSER', async () => {
    await admin.call('ACL', 'SETUSER', 'dave', 'on', '>pw2', '~d:*', '&news.*', '+@all', '-flushall');
    const nr = createClient({ socket: { port: handle.port, host: handle.host, reconnectStrategy: false }, username: 'dave', password: 'pw2' });
    nr.on('error', () => {});
    await nr.connect();
    assert.equal(await nr.sendCommand(['ACL', 'WHOAMI']), 'dave');
    assert.equal(await nr.publish('news.today', 'hi'), 0);
    await assert.rejects(nr.publish('sports', 'x'), /NOPERM this user has no permissions to access one of the channels used as arguments/);
    await assert.rejects(nr.get('x'), /NOPERM this user has no permissions to access one of the keys used as arguments/);
    await assert.rejects(nr.flushAll(), /NOPERM this user has no permissions to run the 'flushall' command/);
    assert.equal(await nr.set('d:1', 'v'), 'OK');
    // Scripts run as the caller's user.
    await assert.rejects(nr.eval("return redis.call('get', 'x')"), /The user executing the script can't access at least one of the keys/);
    assert.equal(await admin.call('ACL', 'DELUSER', 'dave'), 1);
    await waitFor(() => !nr.isOpen);
    await closeAll(undefined, nr).catch(() => {});
  });
});

describe('requirepass and the default user', () => {
  test('requirepass sets the default password; a new connection needs AUTH', async () => {
    await admin.config('SET', 'requirepass', 'topsecret');
    try {
      const anon = await connectIo(handle, { enableReadyCheck: false });
      anon.on('error', () => {});
      await assert.rejects(anon.get('k'), /NOAUTH Authentication required\./);
      assert.equal(await anon.auth('topsecret'), 'OK');
      assert.equal(await anon.call('ACL', 'WHOAMI'), 'default');
      anon.disconnect();
      const withPass = await connectIo(handle, { password: 'topsecret' });
      assert.equal(await withPass.ping(), 'PONG');
      withPass.disconnect();
    } finally {
      await admin.config('SET', 'requirepass', '');
    }
    assert.ok(((await admin.call('ACL', 'LIST')) as string[]).includes('user default on nopass ~* &* +@all'));
  });
});

test('a `user default ...` config line starts from a reset default user (no channels unless given)', async () => {
  const config = Config.fromArgs(['--user', 'default', 'on', 'nopass', '~*', '+@all', '--save', '']);
  const server = new Server({ config });
  await server.listen(0, '127.0.0.1');
  const c = await connectIo({ host: '127.0.0.1', port: server.port } as ServerHandle);
  const srv = { close: () => server.close() };
  try {
    await assert.rejects(c.subscribe('foo'), /NOPERM this user has no permissions to access one of the channels used as arguments/);
    assert.ok(((await c.call('ACL', 'LIST')) as string[]).includes('user default on nopass sanitize-payload ~* resetchannels +@all'));
  } finally {
    c.disconnect();
    await srv.close();
  }
});
