/**
 * MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE]
 * [AUTH password | AUTH2 username password] [KEYS key ...]: moves keys to
 * another Redis-protocol server with DUMP payloads and RESTORE, as Redis 7.0.
 *
 * Redis does the transfer with blocking socket calls, so the whole server
 * waits. Mnemo serializes the keys when the command runs (the same point in
 * time), blocks only the calling client while the transfer is in flight, and
 * on each acknowledgement deletes the local key unless COPY was given or the
 * key was replaced meanwhile (a key written in place during the transfer is
 * still deleted, as it would be had the write come just before MIGRATE). The
 * deletions propagate as one DEL, as Redis rewrites MIGRATE for its replicas.
 * As Redis, the connection to a target is cached (at most 64, each closed
 * after 10 s unused; INFO migrate_cached_sockets), SELECT is sent only when
 * the db differs from the connection's last one, and a cached connection
 * found broken is replaced once. Inside MULTI or a script, which cannot wait,
 * MIGRATE is refused. The timeout is, as in Redis, how long the target stays
 * silent: time the event loop spends on other clients meanwhile does not count.
 */
import { connect, type Socket } from 'node:net';
import type { CommandImpl } from '../server/command-table.js';
import type { Client } from '../server/client.js';
import type { Server } from '../server/server.js';
import { setInfoProvider } from '../observability/info.js';
import type { Value } from '../data/values.js';
import { createDumpPayload } from '../persistence/rdb/dump.js';
import { encodeOptions } from '../persistence/index.js';
import { parseInt64 } from '../util/numbers.js';
import { mayBlock } from './blocking-pop.js';
import { ERR_NOT_INT, ERR_SYNTAX } from './errors.js';

interface Transfer {
  key: string;
  value: Value;
  /** Milliseconds to live on the target, 0 for none. */
  ttl: number;
  payload: Buffer;
}

type Outcome = { replies: string[] } | { ioError: 'connecting to the client' | 'reading to target instance' | 'writing to target instance' };

function migrate(c: Client, argv: string[]): void {
  let copy = false;
  let replace = false;
  let auth: string[] | null = null;
  let firstKey = 3;
  let numKeys = 1;
  for (let j = 6; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const opt = argv[j].toLowerCase();
    if (opt === 'copy') copy = true;
    else if (opt === 'replace') replace = true;
    else if (opt === 'auth') {
      if (more < 1) return c.addError(ERR_SYNTAX);
      auth = ['AUTH', argv[++j]];
    } else if (opt === 'auth2') {
      if (more < 2) return c.addError(ERR_SYNTAX);
      auth = ['AUTH', argv[j + 1], argv[j + 2]];
      j += 2;
    } else if (opt === 'keys') {
      if (argv[3].length !== 0) return c.addError('ERR When using MIGRATE KEYS option, the key argument must be set to the empty string');
      firstKey = j + 1;
      numKeys = argv.length - j - 1;
      break;
    } else return c.addError(ERR_SYNTAX);
  }
  let timeout = parseInt64(argv[5]);
  const dbid = parseInt64(argv[4]);
  if (timeout === null || dbid === null) return c.addError(ERR_NOT_INT);
  if (timeout <= 0) timeout = 1000;

  const db = c.db;
  const now = c.server.clock.now();
  const opts = encodeOptions(c.server);
  const transfers: Transfer[] = [];
  for (let j = 0; j < numKeys; j++) {
    const key = argv[firstKey + j];
    const value = db.lookupRead(key);
    if (value === undefined) continue;
    const at = db.getExpire(key);
    transfers.push({ key, value, ttl: at === -1 ? 0 : Math.max(1, at - now), payload: createDumpPayload(value, opts) });
  }
  // Nothing to move is not an error: the keys may just have expired.
  if (transfers.length === 0) return c.addRaw('+NOKEY\r\n');
  if (!mayBlock(c)) return c.addError('ERR MIGRATE cannot run inside MULTI or a script in Mnemo: it waits for the target');

  const server = c.server;
  server.blocking.block(c, c.current!, argv, { keys: [], timeoutMs: 0, serve: () => false });
  transfer(server, argv[1], atoi(argv[2]), Number(timeout), auth, String(dbid), transfers, replace, c.server.cluster !== null ? 'RESTORE-ASKING' : 'RESTORE').then((outcome) => {
    const moved: string[] = [];
    let reply: string;
    if ('ioError' in outcome) reply = `-IOERR error or timeout ${outcome.ioError}\r\n`;
    else {
      const [authReply, selectReply, ...restores] = auth === null ? [null, ...outcome.replies] : outcome.replies;
      let error: string | null = null;
      if (authReply?.startsWith('-')) error = authReply;
      else if (selectReply?.startsWith('-')) error = selectReply;
      // A failed AUTH or SELECT fails every key; otherwise each key the target acknowledged
      // is deleted, even when another key of the batch was refused (the first error is replied).
      const fatal = error !== null;
      for (let j = 0; j < transfers.length; j++) {
        const r = restores[j] as string;
        if (fatal) continue;
        if (r.startsWith('-')) {
          if (error === null) error = r;
          continue;
        }
        if (copy) continue;
        const t = transfers[j];
        // Acknowledged: the local key goes, unless it was replaced meanwhile.
        if (db.peek(t.key) === t.value && db.delete(t.key)) {
          server.notifier.notify('g', 'del', t.key, db.id);
          server.dirty++;
          moved.push(t.key);
        }
      }
      reply = error === null ? '+OK\r\n' : `-ERR Target instance replied with error: ${error.slice(1)}\r\n`;
    }
    if (moved.length > 0) server.propagate(db.id, ['DEL', ...moved]);
    if (c.closed || c.blocked === null) return;
    server.blocking.unblock(c);
    if (reply.startsWith('-')) c.addError(reply.slice(1, -2));
    else c.addRaw(reply);
    server.resume(c);
  }).catch((e: unknown) => {
    // A bug here must not leave the client blocked or take the server down.
    process.emitWarning(`MIGRATE failed: ${(e as Error)?.stack ?? e}`);
    if (c.closed || c.blocked === null) return;
    server.blocking.unblock(c);
    c.addError('ERR internal error in Mnemo: ' + String((e as Error)?.message ?? e).slice(0, 200));
    server.resume(c);
  });
}

/** C's atoi: the leading decimal digits (with a sign), 0 when there are none. */
function atoi(s: string): number {
  const m = /^\s*[+-]?\d+/.exec(s);
  return m === null ? 0 : Number(m[0]);
}

/** RESP for one command of bulk strings (keys and payloads are binary). */
function encode(args: Array<string | Buffer>): Buffer[] {
  const out: Buffer[] = [Buffer.from(`*${args.length}\r\n`, 'latin1')];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a, 'latin1') : a;
    out.push(Buffer.from(`$${b.length}\r\n`, 'latin1'), b, Buffer.from('\r\n', 'latin1'));
  }
  return out;
}

/** A cached connection to a MIGRATE target (Redis's migrateCachedSocket). */
interface CachedConn {
  socket: Socket;
  /** The db the connection last selected; null: unknown (send SELECT). */
  lastDbid: string | null;
  lastUse: number;
  busy: boolean;
}

const MIGRATE_SOCKET_CACHE_ITEMS = 64;
const MIGRATE_SOCKET_CACHE_TTL_MS = 10_000;
const caches = new WeakMap<Server, Map<string, CachedConn>>();

/** The server's connection cache; the first use hooks the idle sweep and the INFO field. */
function cacheOf(server: Server): Map<string, CachedConn> {
  let cache = caches.get(server);
  if (cache !== undefined) return cache;
  const m = new Map<string, CachedConn>();
  caches.set(server, m);
  // migrateCloseTimedoutSockets: from the cron.
  server.cronHooks.push(() => {
    const now = Date.now();
    for (const [name, conn] of m) {
      if (!conn.busy && now - conn.lastUse > MIGRATE_SOCKET_CACHE_TTL_MS) {
        conn.socket.destroy();
        m.delete(name);
      }
    }
  });
  server.closeHooks.push(() => {
    for (const conn of m.values()) conn.socket.destroy();
    m.clear();
  });
  setInfoProvider(server, 'stats', (_srv, fields) => fields.map((f) => (f[0] === 'migrate_cached_sockets' ? ['migrate_cached_sockets', m.size] : f)));
  cache = m;
  return cache;
}

/**
 * Sends AUTH, SELECT (unless the cached connection has that db selected) and the
 * RESTOREs in one write and reads one status line per command. The outcome always
 * lists a reply for SELECT (a skipped one counts as +OK).
 */
async function transfer(server: Server, host: string, port: number, timeoutMs: number, auth: string[] | null, dbid: string, items: Transfer[], replace: boolean, restoreCmd: string): Promise<Outcome> {
  const cache = cacheOf(server);
  const name = `${host}:${port}`;
  let conn = cache.get(name);
  if (conn !== undefined && !conn.busy) {
    const first = await exchange(conn, timeoutMs, auth, dbid, items, replace, restoreCmd, true);
    // A cached connection the target closed meanwhile: forget it and try once on a new one.
    if (!('retry' in first)) return first;
  }
  const fresh = openConn(cache, name, host, port);
  if (fresh === null) return { ioError: 'writing to target instance' };
  const o = await exchange(fresh, timeoutMs, auth, dbid, items, replace, restoreCmd, false);
  // One opened beside a busy cached connection is not kept.
  if (cache.get(name) !== fresh) fresh.socket.destroy();
  return 'retry' in o ? o.outcome : o;
}

/** A new connection, cached unless the cache holds a busy one for that target (then used once). */
function openConn(cache: Map<string, CachedConn>, name: string, host: string, port: number): CachedConn | null {
  let socket: Socket;
  try {
    socket = connect({ host, port });
  } catch {
    // A port Node refuses (Redis's atoi makes it some port nothing listens on).
    return null;
  }
  socket.setNoDelay(true);
  socket.on('error', () => {});
  const conn: CachedConn = { socket, lastDbid: null, lastUse: Date.now(), busy: false };
  const old = cache.get(name);
  if (old === undefined || !old.busy) {
    old?.socket.destroy();
    if (old === undefined && cache.size >= MIGRATE_SOCKET_CACHE_ITEMS) {
      // Too many items: drop one (Redis drops a random one).
      const [victim, v] = cache.entries().next().value as [string, CachedConn];
      if (!v.busy) {
        v.socket.destroy();
        cache.delete(victim);
      }
    }
    if (cache.size < MIGRATE_SOCKET_CACHE_ITEMS) cache.set(name, conn);
  }
  // Closed by the target while idle: out of the cache.
  socket.on('close', () => {
    if (cache.get(name) === conn) cache.delete(name);
  });
  return conn;
}

function exchange(
  conn: CachedConn,
  timeoutMs: number,
  auth: string[] | null,
  dbid: string,
  items: Transfer[],
  replace: boolean,
  restoreCmd: string,
  cached: boolean,
): Promise<Outcome | { retry: true; outcome: Outcome }> {
  const socket = conn.socket;
  const select = conn.lastDbid !== dbid;
  const request: Buffer[] = [];
  if (auth !== null) request.push(...encode(auth));
  if (select) request.push(...encode(['SELECT', dbid]));
  for (const t of items) request.push(...encode([restoreCmd /* RESTORE-ASKING in cluster mode, as Redis */, t.key, String(t.ttl), t.payload, ...(replace ? ['REPLACE'] : [])]));
  const expected = (auth !== null ? 1 : 0) + (select ? 1 : 0) + items.length;
  conn.busy = true;
  return new Promise((resolve) => {
    let connected = !socket.connecting;
    let input = '';
    let timedOut = false;
    let settled = false;
    /** Bumped by every sign of life from the target (connected, bytes read). */
    let progress = 0;
    const replies: string[] = [];
    const done = (o: Outcome, ok: boolean): void => {
      if (settled) return;
      settled = true;
      socket.setTimeout(0);
      socket.removeListener('timeout', onTimeout);
      socket.removeListener('error', onFail);
      socket.removeListener('close', onFail);
      socket.removeListener('connect', onConnect);
      socket.removeListener('data', onData);
      conn.busy = false;
      conn.lastUse = Date.now();
      if (!ok) {
        socket.destroy();
        // Nothing was answered on a connection from the cache: it went stale, try a new one.
        if (cached && !timedOut && replies.length === 0) return resolve({ retry: true, outcome: o });
      }
      resolve(o);
    };
    // Redis waits for the target blocked in poll(), so its timeout means the target was silent
    // that long. Here the event loop keeps serving other clients meanwhile, and Node runs expired
    // timers before it polls the sockets: after the loop was busy (a slow command of another
    // client, a GC pause), the idle timer fires while the connect's completion or the reply is
    // already waiting in the kernel. So the verdict waits for this turn's poll phase
    // (setImmediate runs after it): anything the target sent by then counts, as in Redis.
    const onTimeout = (): void => {
      const seen = progress;
      setImmediate(() => {
        if (settled || progress !== seen) return;
        timedOut = true;
        done({ ioError: connected ? 'reading to target instance' : 'connecting to the client' }, false);
      });
    };
    const onFail = (): void => done({ ioError: connected ? 'reading to target instance' : 'writing to target instance' }, false);
    const onConnect = (): void => {
      connected = true;
      progress++;
      socket.write(Buffer.concat(request));
    };
    const onData = (d: Buffer): void => {
      progress++;
      input += d.toString('latin1');
      let end: number;
      while ((end = input.indexOf('\r\n')) >= 0) {
        replies.push(input.slice(0, end));
        input = input.slice(end + 2);
        if (replies.length === expected) {
          // Any error: the selected db is no longer known (Redis resets last_dbid).
          conn.lastDbid = replies.some((r) => r.startsWith('-')) ? null : dbid;
          if (!select) replies.splice(auth !== null ? 1 : 0, 0, '+OK');
          return done({ replies }, true);
        }
      }
    };
    // As Redis's non-blocking connect: a target that never answers times out "connecting";
    // one that refuses is found out by the first write.
    socket.setTimeout(timeoutMs);
    socket.on('timeout', onTimeout);
    socket.on('error', onFail);
    socket.on('close', onFail);
    socket.on('data', onData);
    if (connected) socket.write(Buffer.concat(request));
    else socket.on('connect', onConnect);
  });
}

export const commands: CommandImpl[] = [
  {
    name: 'migrate',
    summary: 'Moves keys to another server with DUMP payloads and RESTORE; blocks only the calling client meanwhile.',
    handler: migrate,
  },
];
