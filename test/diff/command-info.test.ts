/**
 * COMMAND INFO / DOCS / LIST / GETKEYS against a real redis-server 7.0.
 *
 * Mnemo implements a subset of Redis's commands, so whole-table replies (COMMAND, COMMAND COUNT)
 * cannot be compared directly. Instead:
 * - INFO and DOCS are compared per implemented command and subcommand, raw bytes, RESP2 and RESP3.
 *   For a container of which Mnemo implements only some subcommands, Redis's reply is parsed and its
 *   subcommand list restricted to those (and sorted by name: Redis's order is its hash table's, which
 *   changes on every start, while Mnemo lists them by name). DOCS is compared with the `summary`
 *   fields removed on both sides (the summaries are our own words).
 * - COMMAND (no arguments) and COMMAND LIST must describe exactly the implemented commands.
 * - GETKEYS/GETKEYSANDFLAGS: the key extraction (writeGetKeysReply) is checked in-process against
 *   Redis for every Redis command, implemented or not, with a fixed table of calls (movable keys,
 *   numkeys quirks, keyword searches) and generated calls; then Mnemo's server is asked the same and
 *   must agree with Redis for implemented commands and answer "Invalid command specified" otherwise.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Conn, SHARED_CONFIG, encodeCommand, escapeBytes, parseReply, startRedis, type Reply, type ServerHandle } from './harness.js';
import { startServer, type ServerHandle as MnemoHandle } from '../../src/index.js';
import { ReplyWriter } from '../../src/resp/writer.js';
import { loadCommandFacts, type CommandFacts } from '../../src/commands/facts/encode.js';
import { factsHaveKeys, writeGetKeysReply } from '../../src/commands/command.js';
import type { Command } from '../../src/server/command-table.js';

let redis: ServerHandle | undefined;
let mnemo: MnemoHandle | undefined;
const conns: Conn[] = [];

before(async () => {
  redis = await startRedis({ ...SHARED_CONFIG }, 'redis');
  mnemo = await startServer({ port: 0, host: '127.0.0.1', config: { ...SHARED_CONFIG } });
});

after(async () => {
  for (const c of conns) c.close();
  await Promise.allSettled([redis?.stop(), mnemo?.close()]);
});

// ---------------------------------------------------------------------------------------------
// Talking to the servers

/** Opens a connection speaking the given protocol version. */
async function connect(side: 'redis' | 'mnemo', resp: 2 | 3): Promise<Conn> {
  const h = side === 'redis' ? redis! : mnemo!;
  const conn = await Conn.open(h.host, h.port);
  conns.push(conn);
  if (resp === 3) {
    conn.write(encodeCommand(['HELLO', '3']));
    const r = await conn.readReply(5000);
    assert.equal(r.kind, 'reply', `${side}: HELLO 3 got no reply`);
  }
  return conn;
}

/** Sends the requests pipelined (in batches) and returns their replies in order. */
async function ask(conn: Conn, requests: readonly string[][]): Promise<Reply[]> {
  const out: Reply[] = [];
  for (let start = 0; start < requests.length; start += 500) {
    const batch = requests.slice(start, start + 500);
    conn.write(Buffer.concat(batch.map((r) => encodeCommand(r))));
    for (const req of batch) {
      const r = await conn.readReply(10_000);
      if (r.kind !== 'reply') throw new Error(`no reply to ${req.join(' ')}: ${r.kind} ${escapeBytes(r.bytes, 200)}`);
      out.push(r.reply);
    }
  }
  return out;
}

/** Asks both servers the same requests in one protocol. */
async function askBoth(resp: 2 | 3, requests: readonly string[][]): Promise<[Reply[], Reply[]]> {
  const [rc, mc] = await Promise.all([connect('redis', resp), connect('mnemo', resp)]);
  return Promise.all([ask(rc, requests), ask(mc, requests)]);
}

function implemented(): Command[] {
  return [...mnemo!.server.table.all()];
}

// ---------------------------------------------------------------------------------------------
// Rewriting parsed replies

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');

function bulkText(r: Reply): string {
  assert.equal(r.type, '$', `expected a bulk string, got ${escapeBytes(r.raw, 80)}`);
  const start = r.raw.indexOf('\r\n', 0, 'latin1') + 2;
  return r.raw.toString('latin1', start, r.raw.length - 2);
}

/** An aggregate of the same type as `like`, with new elements (for maps: flattened key/value list). */
function aggregate(like: Reply, items: Buffer[]): Buffer {
  const count = like.type === '%' ? items.length / 2 : items.length;
  return Buffer.concat([latin1(`${like.type}${count}\r\n`), ...items]);
}

/** Pairs of a map reply (RESP3 map, or RESP2 flat array). */
function pairs(map: Reply): Array<[Reply, Reply]> {
  const items = map.items ?? [];
  const out: Array<[Reply, Reply]> = [];
  for (let i = 0; i < items.length; i += 2) out.push([items[i], items[i + 1]]);
  return out;
}

const byName = <T>(name: (x: T) => string) => (a: T, b: T): number => (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0);

/**
 * One COMMAND INFO entry with its subcommand list restricted to `keep` and sorted by name.
 * Entries without subcommands (an empty set) come back unchanged.
 */
function restrictInfoEntry(entry: Reply, keep: ReadonlySet<string>): Buffer {
  const items = entry.items!;
  const subs = items[9];
  if (subs.type !== '*' || subs.items!.length === 0) return entry.raw;
  const kept = subs.items!.filter((s) => keep.has(bulkText(s.items![0]))).sort(byName((s) => bulkText(s.items![0])));
  return aggregate(entry, [...items.slice(0, 9).map((r) => r.raw), aggregate(subs, kept.map((s) => s.raw))]);
}

/** One COMMAND DOCS map without `summary` fields; subcommands restricted to `keep` (if given) and sorted. */
function docsWithoutSummary(doc: Reply, keep: ReadonlySet<string> | null): Buffer {
  const out: Buffer[] = [];
  for (const [k, v] of pairs(doc)) {
    const key = bulkText(k);
    if (key === 'summary') continue;
    if (key === 'subcommands') {
      const subs = pairs(v)
        .filter(([name]) => keep === null || keep.has(bulkText(name)))
        .sort(byName(([name]) => bulkText(name)));
      out.push(k.raw, aggregate(v, subs.flatMap(([name, d]) => [name.raw, docsWithoutSummary(d, null)])));
      continue;
    }
    out.push(k.raw, v.raw);
  }
  return aggregate(doc, out);
}

function subcommandNames(cmd: Command): Set<string> {
  return new Set([...(cmd.subcommands?.values() ?? [])].map((s) => s.fullName));
}

function fail(what: string, problems: string[]): void {
  if (problems.length > 0) {
    assert.fail(`${problems.length} ${what} differ from Redis:\n${problems.slice(0, 15).join('\n')}`);
  }
}

function describe(req: readonly string[], redisBytes: Buffer, mnemoBytes: Buffer): string {
  return `${req.join(' ')}\n  redis: ${escapeBytes(redisBytes, 600)}\n  mnemo: ${escapeBytes(mnemoBytes, 600)}`;
}

// ---------------------------------------------------------------------------------------------
// INFO and DOCS

for (const resp of [2, 3] as const) {
  test(`COMMAND INFO <cmd> equals Redis's for every implemented command and subcommand (RESP${resp})`, async () => {
    const cmds = implemented();
    assert.ok(cmds.some((c) => c.fullName === 'command|getkeys'), 'COMMAND itself must be registered');
    const requests = cmds.map((c) => ['COMMAND', 'INFO', c.fullName]);
    const [fromRedis, fromMnemo] = await askBoth(resp, requests);
    const problems: string[] = [];
    cmds.forEach((cmd, i) => {
      const r = fromRedis[i];
      assert.equal(r.items?.length, 1, `redis: ${escapeBytes(r.raw, 200)}`);
      assert.ok(!r.items![0].isNull && r.items![0].type === '*', `Redis does not know ${cmd.fullName}`);
      const expected = aggregate(r, [restrictInfoEntry(r.items![0], subcommandNames(cmd))]);
      if (!expected.equals(fromMnemo[i].raw)) problems.push(describe(requests[i], expected, fromMnemo[i].raw));
    });
    fail('COMMAND INFO replies', problems);
  });

  test(`COMMAND DOCS <cmd> equals Redis's apart from summaries, for every implemented command (RESP${resp})`, async () => {
    const cmds = implemented();
    const requests = cmds.map((c) => ['COMMAND', 'DOCS', c.fullName]);
    const [fromRedis, fromMnemo] = await askBoth(resp, requests);
    const problems: string[] = [];
    cmds.forEach((cmd, i) => {
      const [r, m] = [fromRedis[i], fromMnemo[i]];
      assert.equal(pairs(r).length, 1, `redis: ${escapeBytes(r.raw, 200)}`);
      assert.equal(pairs(m).length, 1, `mnemo: ${escapeBytes(m.raw, 200)}`);
      const [[rName, rDoc]] = pairs(r);
      const [[mName, mDoc]] = pairs(m);
      const expected = aggregate(r, [rName.raw, docsWithoutSummary(rDoc, subcommandNames(cmd))]);
      // Only the summary is dropped from Mnemo's reply: its subcommand list must already be right.
      const actual = aggregate(m, [mName.raw, docsWithoutSummary(mDoc, null)]);
      if (!expected.equals(actual)) problems.push(describe(requests[i], expected, actual));
      // Every implemented command documents itself with our summary.
      const summary = pairs(mDoc).find(([k]) => bulkText(k) === 'summary');
      if (!summary || bulkText(summary[1]) !== cmd.summary) problems.push(`${cmd.fullName}: summary missing or not ours`);
    });
    fail('COMMAND DOCS replies', problems);
  });
}

test('COMMAND, COMMAND INFO and COMMAND COUNT describe exactly the implemented top-level commands', async () => {
  const table = mnemo!.server.table;
  const top = [...table.commands.values()];
  for (const resp of [2, 3] as const) {
    const [all, infoAll, count] = await ask(await connect('mnemo', resp), [['COMMAND'], ['COMMAND', 'INFO'], ['COMMAND', 'COUNT']]);
    assert.equal(count.raw.toString('latin1'), `:${top.length}\r\n`);
    assert.ok(all.raw.equals(infoAll.raw), 'COMMAND and COMMAND INFO without names must agree');
    const names = all.items!.map((e) => bulkText(e.items![0]));
    assert.deepEqual(names, top.map((c) => c.fullName));
    // Each entry is Redis's, restricted to the implemented subcommands.
    const fromRedis = await ask(await connect('redis', resp), top.map((c) => ['COMMAND', 'INFO', c.fullName]));
    top.forEach((cmd, i) => {
      const expected = restrictInfoEntry(fromRedis[i].items![0], subcommandNames(cmd));
      assert.ok(expected.equals(all.items![i].raw), describe(['COMMAND', `(${cmd.fullName})`], expected, all.items![i].raw));
    });
  }
});

test('COMMAND DOCS without names documents every implemented top-level command', async () => {
  const table = mnemo!.server.table;
  const [docs] = await ask(await connect('mnemo', 3), [['COMMAND', 'DOCS']]);
  assert.equal(docs.type, '%');
  assert.deepEqual(pairs(docs).map(([k]) => bulkText(k)), [...table.commands.keys()]);
});

test('COMMAND LIST (with and without filters) lists what Redis lists, restricted to implemented commands', async () => {
  const names = new Set(implemented().map((c) => c.fullName));
  const requests = [
    ['COMMAND', 'LIST'],
    ['COMMAND', 'LIST', 'FILTERBY', 'PATTERN', 'c*'],
    ['COMMAND', 'LIST', 'FILTERBY', 'pattern', 'CLIENT|*'],
    ['COMMAND', 'LIST', 'FILTERBY', 'PATTERN', '*e[lt]*'],
    ['COMMAND', 'LIST', 'FILTERBY', 'ACLCAT', 'connection'],
    ['COMMAND', 'LIST', 'FILTERBY', 'aclcat', 'SLOW'],
    ['COMMAND', 'LIST', 'FILTERBY', 'ACLCAT', 'keyspace'],
    ['COMMAND', 'LIST', 'FILTERBY', 'ACLCAT', 'write'],
    ['COMMAND', 'LIST', 'FILTERBY', 'ACLCAT', '@read'],
    ['COMMAND', 'LIST', 'FILTERBY', 'ACLCAT', 'nosuchcategory'],
    ['COMMAND', 'LIST', 'FILTERBY', 'MODULE', 'x'],
  ];
  const [fromRedis, fromMnemo] = await askBoth(2, requests);
  requests.forEach((req, i) => {
    const expected = fromRedis[i].items!.map(bulkText).filter((n) => names.has(n)).sort();
    const actual = fromMnemo[i].items!.map(bulkText).sort();
    assert.deepEqual(actual, expected, req.join(' '));
  });
  assert.equal(fromMnemo[0].items!.length, names.size, 'COMMAND LIST lists every command and subcommand');
});

// ---------------------------------------------------------------------------------------------
// GETKEYS / GETKEYSANDFLAGS

/** Calls chosen for their key-finding paths: movable keys, keyword searches, numkeys quirks, fallbacks. */
const GETKEYS_CASES: readonly string[][] = [
  ['GET', 'k'],
  ['get', 'k'],
  ['SET', 'k', 'v'],
  ['SET', 'k', 'v', 'EX', '10', 'GET'],
  ['SET', 'k', 'v', 'get'],
  ['MSET', 'a', '1', 'b', '2', 'c', '3'],
  ['MSET', 'a', '1', 'b'],
  ['MGET', 'a', 'b', 'c'],
  ['DEL', 'a', 'b'],
  ['RENAME', 'a', 'b'],
  ['COPY', 'a', 'b', 'DB', '1'],
  ['LMOVE', 'a', 'b', 'LEFT', 'RIGHT'],
  ['BLPOP', 'a', 'b', '0'],
  ['BRPOPLPUSH', 'a', 'b', '0'],
  ['EVAL', 'return 1', '0'],
  ['EVAL', 'return 1', '2', 'a', 'b', 'c'],
  ['EVAL', 'return 1', '3', 'a', 'b'],
  ['EVAL', 'return 1', '-1', 'a'],
  ['EVAL', 'return 1', 'x', 'a'],
  ['EVAL', 'return 1', '4294967297', 'a', 'b'],
  ['EVAL_RO', 'return 1', '1', 'a'],
  ['EVALSHA', 'abc', '1', 'a'],
  ['FCALL', 'f', '2', 'a', 'b', 'arg'],
  ['FCALL_RO', 'f', '0'],
  ['ZUNIONSTORE', 'dst', '2', 'a', 'b'],
  ['ZUNIONSTORE', 'dst', '2', 'a', 'b', 'WEIGHTS', '1', '2'],
  ['ZUNIONSTORE', 'dst', '0', 'a'],
  ['ZUNIONSTORE', 'dst', '3', 'a', 'b'],
  ['ZUNIONSTORE', 'dst', '2x', 'a', 'b', 'c'],
  ['ZUNIONSTORE', 'dst', ' 2', 'a', 'b'],
  ['ZUNIONSTORE', 'dst', '99999999999999999999', 'a', 'b'],
  ['ZINTERSTORE', 'dst', '1', 'a'],
  ['ZDIFFSTORE', 'dst', '2', 'a', 'b'],
  ['ZUNION', '2', 'a', 'b', 'WITHSCORES'],
  ['ZINTER', '1', 'a'],
  ['ZDIFF', '2', 'a'],
  ['ZINTERCARD', '2', 'a', 'b', 'LIMIT', '1'],
  ['SINTERCARD', '2', 'a', 'b'],
  ['SINTERCARD', '0', 'a'],
  ['LMPOP', '2', 'a', 'b', 'LEFT'],
  ['BLMPOP', '0', '2', 'a', 'b', 'LEFT', 'COUNT', '2'],
  ['ZMPOP', '1', 'a', 'MIN'],
  ['BZMPOP', '1.5', '1', 'a', 'MAX'],
  ['SORT', 'k'],
  ['SORT', 'k', 'STORE', 'dst'],
  ['SORT', 'k', 'BY', 'w_*', 'GET', '#', 'STORE', 'dst'],
  ['SORT', 'k', 'LIMIT', '0', '10', 'STORE', 'a', 'STORE', 'b'],
  ['SORT', 'k', 'GET', 'STORE', 'x'],
  ['SORT', 'k', 'STORE'],
  ['SORT_RO', 'k', 'BY', 'x'],
  ['XREAD', 'STREAMS', 'a', '0'],
  ['XREAD', 'COUNT', '2', 'BLOCK', '0', 'STREAMS', 'a', 'b', '0', '0'],
  ['XREAD', 'STREAMS', 'a', 'b', '0'],
  ['XREAD', 'COUNT', 'STREAMS', 'STREAMS', 'a', '0'],
  ['XREAD', 'a', 'b', 'c'],
  ['XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 'a', '>'],
  ['XREADGROUP', 'GROUP', 'g', 'c', 'NOACK', 'STREAMS', 'a', 'b', '>', '>'],
  ['XREADGROUP', 'GROUP', 'g', 'STREAMS', 'STREAMS', 'a', '>'],
  ['MIGRATE', 'h', '6379', 'k', '0', '5000'],
  ['MIGRATE', 'h', '6379', '', '0', '5000', 'KEYS', 'a', 'b'],
  ['MIGRATE', 'h', '6379', '', '0', '5000', 'COPY', 'REPLACE', 'AUTH', 'keys', 'KEYS', 'a'],
  ['MIGRATE', 'h', '6379', '', '0', '5000', 'AUTH2', 'u', 'keys', 'KEYS', 'a'],
  ['MIGRATE', 'h', '6379', 'k', '0', '5000', 'KEYS', 'a'],
  ['MIGRATE', 'KEYS', '6379', 'k', '0', '5000'],
  ['GEORADIUS', 'k', '1', '2', '3', 'm', 'STORE', 'a'],
  ['GEORADIUS', 'k', '1', '2', '3', 'm', 'STORE', 'a', 'STOREDIST', 'b'],
  ['GEORADIUSBYMEMBER', 'k', 'm', '3', 'km', 'STOREDIST', 'a'],
  ['GEORADIUS_RO', 'k', '1', '2', '3', 'm'],
  ['BITFIELD', 'k', 'GET', 'u8', '0'],
  ['BITFIELD', 'k', 'OVERFLOW', 'SAT', 'GET', 'u8', '0'],
  ['BITFIELD', 'k', 'SET', 'u8', '0', '1'],
  ['BITFIELD', 'k', 'GET', 'u8'],
  ['BITFIELD_RO', 'k', 'GET', 'u8', '0'],
  ['OBJECT', 'ENCODING', 'k'],
  ['object', 'freq', 'k'],
  ['OBJECT', 'ENCODING'],
  ['OBJECT', 'NOSUCH', 'k'],
  ['OBJECT'],
  ['XINFO', 'STREAM', 'k', 'FULL'],
  ['XGROUP', 'CREATE', 'k', 'g', '$'],
  ['MEMORY', 'USAGE', 'k'],
  ['CONFIG', 'GET', 'x'],
  ['SPUBLISH', 'ch', 'msg'],
  ['PUBLISH', 'ch', 'msg'],
  ['PING'],
  ['ECHO', 'a', 'b'],
  ['GET'],
  ['GET', 'a', 'b'],
  ['NOSUCHCOMMAND', 'a'],
  ['PFCOUNT', 'a', 'b'],
  ['PFMERGE', 'a', 'b', 'c'],
  ['LCS', 'a', 'b'],
  ['SMOVE', 'a', 'b', 'm'],
  ['WATCH', 'a', 'b'],
  ['TOUCH', 'a'],
];

/** Redis's non-strict lookup over the facts: the first word, and the second for containers. */
function lookupFacts(all: ReadonlyMap<string, CommandFacts>, args: readonly string[]): CommandFacts | null {
  const base = all.get(args[0].toLowerCase());
  if (!base || args.length === 1 || base.subcommands.length === 0) return base ?? null;
  return base.subcommands.find((s) => s.name === `${base.name}|${args[1].toLowerCase()}`) ?? null;
}

/** What our key extraction answers for a call, as the wire bytes of COMMAND GETKEYS[ANDFLAGS]. */
function localGetKeys(args: readonly string[], withFlags: boolean, resp: 2 | 3): Buffer {
  const w = new ReplyWriter();
  w.resp = resp;
  writeGetKeysReply(w, lookupFacts(loadCommandFacts(), args), args, withFlags);
  return w.takeOutput();
}

/** A small deterministic PRNG, so generated calls are the same on every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = [
  'k1', 'k2', 'k3', '0', '1', '2', '3', '-1', 'x', '', '2x', ' 1', '4294967298',
  'STORE', 'storedist', 'STREAMS', 'keys', 'GET', 'SET', 'INCRBY', 'OVERFLOW', 'LIMIT', 'BY',
  'BLOCK', 'COUNT', 'GROUP', 'NOACK', 'AUTH', 'AUTH2', 'COPY', 'WEIGHTS',
];

/** Calls for every Redis command and subcommand: arity-sized and a little around it, random words. */
function generatedCalls(): string[][] {
  const next = rng(7);
  const calls: string[][] = [];
  const add = (prefix: string[], arity: number, tries: number): void => {
    const base = Math.abs(arity);
    for (let t = 0; t < tries; t++) {
      // At least 2 words: COMMAND GETKEYS itself needs them (arity -4).
      const n = Math.max(prefix.length, 2, base - 1 + Math.floor(next() * 7));
      const call = [...prefix];
      while (call.length < n) call.push(WORDS[Math.floor(next() * WORDS.length)]);
      calls.push(call);
    }
  };
  for (const f of loadCommandFacts().values()) {
    add([f.name], f.arity, factsHaveKeys(f) ? 16 : 2);
    for (const s of f.subcommands) add([f.name, s.name.slice(f.name.length + 1)], s.arity, factsHaveKeys(s) ? 10 : 1);
  }
  return calls;
}

const getKeysRequests = (calls: readonly string[][], withFlags: boolean): string[][] =>
  calls.map((c) => ['COMMAND', withFlags ? 'GETKEYSANDFLAGS' : 'GETKEYS', ...c]);

for (const resp of [2, 3] as const) {
  test(`key extraction matches Redis's COMMAND GETKEYS/GETKEYSANDFLAGS for all Redis commands (RESP${resp})`, async () => {
    const conn = await connect('redis', resp);
    // One-word calls never reach the key extraction (COMMAND GETKEYS's own arity check refuses them).
    const calls = [...GETKEYS_CASES, ...generatedCalls()].filter((c) => c.length >= 2);
    const problems: string[] = [];
    let nonEmpty = 0;
    for (const withFlags of [false, true]) {
      const requests = getKeysRequests(calls, withFlags);
      const replies = await ask(conn, requests);
      requests.forEach((req, i) => {
        const local = localGetKeys(calls[i], withFlags, resp);
        if (!local.equals(replies[i].raw)) problems.push(describe(req, replies[i].raw, local));
        if (replies[i].type === '*' && replies[i].items!.length > 0) nonEmpty++;
      });
    }
    // The generated calls must exercise real key lists, not only errors.
    assert.ok(nonEmpty > 1000, `only ${nonEmpty} calls had keys`);
    fail('key lists', problems);
  });
}

test('Mnemo answers COMMAND GETKEYS like Redis for implemented commands, "Invalid command specified" otherwise', async () => {
  const table = mnemo!.server.table;
  const isImplemented = (args: readonly string[]): boolean => {
    const base = table.lookup(args[0]);
    if (!base) return false;
    if (args.length === 1 || base.facts.subcommands.length === 0) return true;
    return base.subcommands?.has(args[1].toLowerCase()) ?? false;
  };
  const calls = [...GETKEYS_CASES, ...generatedCalls()];
  const problems: string[] = [];
  for (const resp of [2, 3] as const) {
    for (const withFlags of [false, true]) {
      const requests = getKeysRequests(calls, withFlags);
      const [fromRedis, fromMnemo] = await askBoth(resp, requests);
      requests.forEach((req, i) => {
        // The dispatcher's arity check (COMMAND GETKEYS needs 2+ words) comes before any lookup.
        const askable = calls[i].length < 2 || isImplemented(calls[i]);
        const expected = askable ? fromRedis[i].raw : latin1('-ERR Invalid command specified\r\n');
        if (!expected.equals(fromMnemo[i].raw)) problems.push(describe(req, expected, fromMnemo[i].raw));
      });
    }
  }
  fail('COMMAND GETKEYS replies', problems);
});
