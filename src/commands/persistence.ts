/**
 * Persistence commands: SAVE, BGSAVE [SCHEDULE], LASTSAVE, DUMP, RESTORE,
 * and the DEBUG subcommands RELOAD, LOADAOF, DIGEST and DIGEST-VALUE.
 *
 * Argument checks, their order and the error texts follow Redis 7.0
 * (rdb.c's saveCommand/bgsaveCommand, cluster.c's dumpCommand/restoreCommand,
 * debug.c).
 */
import type { CommandImpl, Handler } from '../server/command-table.js';
import type { Client } from '../server/client.js';
import type { Server } from '../server/server.js';
import { parseInt64 } from '../util/numbers.js';
import { ERR_SYNTAX, ERR_NOT_INT } from './errors.js';
import { isLocalClient } from './server.js';
import {
  persistenceOf,
  rdbSaveSync,
  bgsaveStart,
  hasActiveChild,
  encodeOptions,
  decodeLimits,
  debugReload,
} from '../persistence/index.js';
import { getAof } from '../persistence/aof/index.js';
import { log } from '../persistence/log.js';
import { crashBySignal } from '../server/crash.js';
import { setLfuFrequency } from '../server/eviction.js';
import { createDumpPayload, verifyDumpPayload, decodeDumpPayload } from '../persistence/rdb/dump.js';
import { keyValueDigest, datasetDigest } from '../persistence/rdb/digest.js';

// ---- SAVE, BGSAVE, LASTSAVE -----------------------------------------------------------

function save(c: Client): void {
  const st = persistenceOf(c.server);
  if (st.bgsave !== null) {
    c.addError('ERR Background save already in progress');
    return;
  }
  if (rdbSaveSync(c.server) === null) c.addOK();
  else c.addError('ERR');
}

function bgsave(c: Client, argv: string[]): void {
  let schedule = false;
  if (argv.length > 1) {
    if (argv.length === 2 && argv[1].toLowerCase() === 'schedule') schedule = true;
    else {
      c.addError(ERR_SYNTAX);
      return;
    }
  }
  const server = c.server;
  const st = persistenceOf(server);
  if (st.bgsave !== null) {
    c.addError('ERR Background save already in progress');
  } else if (hasActiveChild(server) || c.inMulti) {
    if (schedule || c.inMulti) {
      st.bgsaveScheduled = true;
      c.addSimple('Background saving scheduled');
    } else {
      c.addError(
        "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.",
      );
    }
  } else if (bgsaveStart(server)) {
    c.addSimple('Background saving started');
  } else {
    c.addError('ERR');
  }
}

function lastsave(c: Client): void {
  c.addInt(persistenceOf(c.server).lastsave);
}

// ---- DUMP, RESTORE --------------------------------------------------------------------

function dump(c: Client, argv: string[]): void {
  const v = c.db.lookupRead(argv[1]);
  if (v === undefined) {
    c.addNull();
    return;
  }
  c.addBulk(createDumpPayload(v, encodeOptions(c.server)).latin1Slice());
}

function restore(c: Client, argv: string[]): void {
  const server = c.server;
  let replace = false;
  let absttl = false;
  let idle = -1;
  let freq = -1;
  for (let j = 4; j < argv.length; j++) {
    const more = argv.length - j - 1;
    const opt = argv[j].toLowerCase();
    if (opt === 'replace') {
      replace = true;
    } else if (opt === 'absttl') {
      absttl = true;
    } else if (opt === 'idletime' && more >= 1 && freq === -1) {
      const v = parseInt64(argv[j + 1]);
      if (v === null) {
        c.addError(ERR_NOT_INT);
        return;
      }
      if (v < 0) {
        c.addError('ERR Invalid IDLETIME value, must be >= 0');
        return;
      }
      idle = v;
      j++;
    } else if (opt === 'freq' && more >= 1 && idle === -1) {
      const v = parseInt64(argv[j + 1]);
      if (v === null) {
        c.addError(ERR_NOT_INT);
        return;
      }
      if (v < 0 || v > 255) {
        c.addError('ERR Invalid FREQ value, must be >= 0 and <= 255');
        return;
      }
      freq = v;
      j++;
    } else {
      c.addError(ERR_SYNTAX);
      return;
    }
  }
  const key = argv[1];
  const db = c.db;
  if (!replace && db.lookupWrite(key) !== undefined) {
    c.addError('BUSYKEY Target key name already exists.');
    return;
  }
  let ttl = parseInt64(argv[2]);
  if (ttl === null) {
    c.addError(ERR_NOT_INT);
    return;
  }
  if (ttl < 0) {
    c.addError('ERR Invalid TTL value, must be >= 0');
    return;
  }
  const payload = Buffer.from(argv[3], 'latin1');
  if (!verifyDumpPayload(payload, persistenceOf(server).skipChecksumValidation)) {
    c.addError('ERR DUMP payload version or checksum are wrong');
    return;
  }
  // Redis logs why a payload did not decode at verbose level (rdbReportError in a RESTORE context).
  const value = decodeDumpPayload(payload, decodeLimits(server), (why) =>
    log(server, 'verbose', `Internal error in RDB reading offset 0, function at rdb.c -> ${why}`),
  );
  if (value === null) {
    c.addError('ERR Bad data format');
    return;
  }
  let deleted = false;
  if (replace) deleted = db.delete(key);
  const now = server.clock.now();
  if (ttl !== 0 && !absttl) ttl += now;
  if (ttl !== 0 && ttl <= now) {
    // Already expired: nothing is created; a replaced key is gone (propagated as DEL).
    if (deleted) {
      c.propagateAs = ['DEL', key];
      server.notifier.notify('g', 'del', key, db.id);
      server.dirty++;
    }
    c.addOK();
    return;
  }
  db.set(key, value);
  if (ttl !== 0) {
    db.setExpire(key, ttl);
    // Propagated with the absolute expire time, as Redis rewrites it.
    if (!absttl) {
      const rewritten = argv.slice();
      rewritten[2] = String(ttl);
      rewritten.push('ABSTTL');
      c.propagateAs = rewritten;
    }
  }
  // As objectSetLRUOrLFU: FREQ under an LFU policy, IDLETIME under any other.
  const lfuPolicy = server.config.maxmemoryPolicy.includes('lfu');
  if (freq >= 0 && lfuPolicy) setLfuFrequency(server, db, key, freq);
  if (idle >= 0 && !lfuPolicy) {
    const i = db.keys.find(key);
    // On the LRU clock OBJECT IDLETIME reads (a fresh clock can be a second ahead of it).
    if (i >= 0) db.keys.access[i] = Math.max(0, server.lruClock - idle) >>> 0;
  }
  server.notifier.notify('g', 'restore', key, db.id);
  c.addOK();
  server.dirty++;
}

// ---- DEBUG RELOAD, DIGEST, DIGEST-VALUE ------------------------------------------------------

function hex(d: Buffer): string {
  return d.toString('hex');
}

function debugDigest(c: Client): void {
  c.addSimple(hex(datasetDigest(c.server.dbs)));
}

function debugDigestValue(c: Client, argv: string[]): void {
  c.addArrayLen(argv.length - 2);
  for (let j = 2; j < argv.length; j++) c.addSimple(hex(keyValueDigest(c.db, argv[j])));
}

function debugReloadCmd(c: Client, argv: string[]): void {
  const flags = { save: true, flush: true, merge: false };
  for (let j = 2; j < argv.length; j++) {
    const opt = argv[j].toLowerCase();
    if (opt === 'merge') flags.merge = true;
    else if (opt === 'noflush') flags.flush = false;
    else if (opt === 'nosave') flags.save = false;
    else {
      c.addError('ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.');
      return;
    }
  }
  const err = debugReload(c.server, flags);
  if (err === 'save') c.addError('ERR');
  else if (err !== null) c.addError('ERR Error trying to load the RDB dump');
  else c.addOK();
}

/**
 * DEBUG LOADAOF: the AOF loads a slice at a time (other clients get -LOADING
 * meanwhile, as Redis answers them while it loads), so the caller waits like
 * a blocked client for its reply. Inside MULTI nothing may wait: refused.
 */
function debugLoadAofCmd(c: Client, argv: string[]): void {
  const server = c.server;
  const aof = getAof(server);
  if (aof === undefined) {
    c.addError('ERR The AOF is not available on this server');
    return;
  }
  if (c.inMulti) {
    c.addError('ERR DEBUG LOADAOF is not supported inside MULTI');
    return;
  }
  server.blocking.block(c, c.current!, argv, { keys: [], timeoutMs: 0, serve: () => false });
  const waiting = c.blocked;
  const answer = (err: string | null): void => {
    // A client gone (or unblocked by someone else, who replied) gets nothing more.
    if (c.closed || c.blocked !== waiting) return;
    server.blocking.unblock(c);
    if (err === null) c.addOK();
    else c.addError(err);
    server.resume(c);
  };
  aof.debugLoadAof().then(answer, (e: unknown) => answer(`ERR ${(e as Error)?.message ?? String(e)}`));
}

/** DEBUG AOF-FLUSH-SLEEP <microseconds>: every AOF write with data first blocks that long (0: off). */
function debugAofFlushSleep(c: Client, argv: string[]): void {
  persistenceOf(c.server).aofFlushSleepMicros = Math.max(0, cAtoi(argv[2]));
  c.addOK();
}

/** DEBUG SET-SKIP-CHECKSUM-VALIDATION <0|1>: RESTORE payloads and RDB files skip their CRC-64 check. */
function debugSetSkipChecksum(c: Client, argv: string[]): void {
  persistenceOf(c.server).skipChecksumValidation = cAtoi(argv[2]) !== 0;
  c.addOK();
}

/** DEBUG LOG <message>: writes the message to the log at warning level. */
function debugLog(c: Client, argv: string[]): void {
  log(c.server, 'warning', `DEBUG LOG: ${argv[2]}`);
  c.addOK();
}

/** C's atoi: leading blanks, a sign, digits; anything else reads as 0. */
function cAtoi(s: string): number {
  const n = parseInt(s, 10);
  return Number.isNaN(n) ? 0 : n;
}

/** Our DEBUG subcommands with the argument counts Redis accepts. */
const DEBUG_SUBCOMMANDS: ReadonlyMap<string, { argc: (n: number) => boolean; run: Handler }> = new Map([
  ['reload', { argc: (n: number) => n >= 2, run: debugReloadCmd }],
  ['loadaof', { argc: (n: number) => n >= 2, run: debugLoadAofCmd }],
  ['digest', { argc: (n: number) => n === 2, run: debugDigest }],
  ['aof-flush-sleep', { argc: (n: number) => n === 3, run: debugAofFlushSleep }],
  ['set-skip-checksum-validation', { argc: (n: number) => n === 3, run: debugSetSkipChecksum }],
  ['log', { argc: (n: number) => n === 3, run: debugLog }],
  // Redis writes through address -1 (SIGSEGV, SEGV_MAPERR); we log the same crash report and die by that signal.
  ['segfault', { argc: (n: number) => n === 2, run: (c) => crashBySignal(c.server, 'SIGSEGV', 1, ['Accessing address: 0xffffffffffffffff']) }],
  ['digest-value', { argc: (n: number) => n >= 2, run: debugDigestValue }],
]);

/** enable-debug-command: yes, or local from a loopback peer (as src/commands/server.ts checks it). */
function debugAllowed(c: Client): boolean {
  const mode = c.server.config.get('enable-debug-command') ?? 'no';
  return mode === 'yes' || (mode === 'local' && isLocalClient(c));
}

/**
 * Plugs RELOAD, LOADAOF, DIGEST and DIGEST-VALUE into this server's DEBUG command:
 * the DEBUG dispatcher in commands/server.ts has a fixed table, so we wrap
 * its handler; everything else (including argument-count errors) still goes
 * to it.
 */
export function installDebugSubcommands(server: Server): void {
  const cmd = server.table.lookup('debug');
  if (cmd === undefined || cmd.handler === null) return;
  const original = cmd.handler;
  const wrapped: Handler = (c, argv) => {
    const sub = argv.length >= 2 ? DEBUG_SUBCOMMANDS.get(argv[1].toLowerCase()) : undefined;
    if (sub === undefined || !sub.argc(argv.length) || !debugAllowed(c)) {
      original(c, argv);
      return;
    }
    sub.run(c, argv);
  };
  (cmd as { handler: Handler | null }).handler = wrapped;
}

export const commands: CommandImpl[] = [
  { name: 'save', summary: 'Writes the dataset to the RDB file, blocking until done.', handler: save },
  { name: 'bgsave', summary: 'Writes the dataset to the RDB file in the background, or schedules it.', handler: bgsave },
  { name: 'lastsave', summary: 'Returns the Unix time of the last successful save.', handler: lastsave },
  { name: 'dump', summary: "Serializes a key's value in Redis's RDB format, with version and checksum.", handler: dump },
  { name: 'restore', summary: 'Creates a key from a DUMP payload, with optional TTL, replace and access hints.', handler: restore },
];
