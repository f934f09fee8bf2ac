#!/usr/bin/env node
/**
 * Generates src/commands/facts/redis-7.0.json: Redis 7.0's command interface as data
 * (everything COMMAND INFO and COMMAND DOCS report, except the `summary` texts).
 *
 * How to re-run (needs a redis-server 7.0.x binary, nothing else):
 *
 *   node scripts/gen-command-facts.mjs          # starts its own redis-server on a free port, stops it after
 *   node scripts/gen-command-facts.mjs 6379     # reads from a server already listening on 127.0.0.1:6379
 *   node scripts/gen-command-facts.mjs --sentinel   # Sentinel mode's table -> src/commands/facts/sentinel-7.0.json
 *
 * Environment: REDIS_SERVER=/path/to/redis-server picks the binary (default: redis-server on PATH).
 * The output is deterministic (commands and subcommands sorted by name), so re-running against the
 * same Redis version gives an identical file. Afterwards run test/unit/command-facts.test.ts, which
 * checks that src/commands/facts/encode.ts reproduces the server's replies byte for byte.
 *
 * The script talks RESP3 (HELLO 3) because RESP3 keeps the distinctions RESP2 flattens (sets vs
 * arrays, maps vs arrays). Every field is checked against the fixed type the encoder will write for
 * it; if a Redis version answers with a different shape the script fails rather than write data the
 * encoder would reproduce wrongly. See encode.ts for the JSON schema.
 */

import net from 'node:net';
import { spawn } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// --sentinel: the commands a Sentinel answers (redis-server --sentinel), for Mnemo's sentinel mode.
const SENTINEL = process.argv.includes('--sentinel');
const OUTPUT = fileURLToPath(new URL(`../src/commands/facts/${SENTINEL ? 'sentinel' : 'redis'}-7.0.json`, import.meta.url));

// ---------------------------------------------------------------------------------------------
// A minimal RESP3 reader that keeps the wire type of every value.

class Incomplete extends Error {}

/** Parses one value at `pos` of a latin1 string; returns [node, nextPos]. Throws Incomplete if cut short. */
function parseValue(buf, pos) {
  const nl = buf.indexOf('\r\n', pos);
  if (nl < 0) throw new Incomplete();
  const type = buf[pos];
  const line = buf.slice(pos + 1, nl);
  let p = nl + 2;
  const children = (count) => {
    const items = [];
    for (let i = 0; i < count; i++) {
      const [v, q] = parseValue(buf, p);
      items.push(v);
      p = q;
    }
    return items;
  };
  switch (type) {
    case '+': return [{ t: 'simple', v: line }, p];
    case '-': return [{ t: 'error', v: line }, p];
    case ':': return [{ t: 'int', v: Number(line) }, p];
    case '_': return [{ t: 'null' }, p];
    case '$': {
      const n = Number(line);
      if (n < 0) return [{ t: 'null' }, p];
      if (buf.length < p + n + 2) throw new Incomplete();
      return [{ t: 'bulk', v: buf.slice(p, p + n) }, p + n + 2];
    }
    case '*': return [{ t: 'array', v: children(Number(line)) }, p];
    case '~': return [{ t: 'set', v: children(Number(line)) }, p];
    case '%': return [{ t: 'map', v: children(2 * Number(line)) }, p];
    default: throw new Error(`unexpected RESP type byte ${JSON.stringify(type)} at ${pos}`);
  }
}

/** Sends commands (each an array of strings) in order and resolves with their replies. */
function request(port, commands) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    let pos = 0;
    const replies = [];
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      try {
        while (replies.length < commands.length) {
          const [v, next] = parseValue(data, pos);
          replies.push(v);
          pos = next;
        }
      } catch (e) {
        if (!(e instanceof Incomplete)) { socket.destroy(); reject(e); }
        return;
      }
      socket.end();
      resolve(replies);
    });
    for (const args of commands) {
      socket.write(`*${args.length}\r\n` + args.map((a) => `$${a.length}\r\n${a}\r\n`).join(''), 'latin1');
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Strict readers: each asserts the wire type the encoder will reproduce.

function fail(where, msg) {
  throw new Error(`${where}: ${msg}`);
}

function want(node, type, where) {
  if (node.t !== type) fail(where, `expected ${type}, got ${node.t}`);
  return node.v;
}

const str = (n, where) => want(n, 'bulk', where);
const int = (n, where) => want(n, 'int', where);
const simpleSet = (n, where) => want(n, 'set', where).map((x, i) => want(x, 'simple', `${where}[${i}]`));
const bulkSet = (n, where) => want(n, 'set', where).map((x, i) => want(x, 'bulk', `${where}[${i}]`));

/**
 * Reads a map whose keys are bulk strings, requiring its keys to appear in `order` (a subset, in that
 * order) and `required` keys to be present. Returns a plain object of the value nodes.
 */
function readMap(node, order, required, where) {
  const flat = want(node, 'map', where);
  const out = {};
  let last = -1;
  for (let i = 0; i < flat.length; i += 2) {
    const key = str(flat[i], `${where} key`);
    const rank = order.indexOf(key);
    if (rank < 0) fail(where, `unknown field ${key}`);
    if (rank <= last) fail(where, `field ${key} out of the expected order ${order.join(',')}`);
    last = rank;
    out[key] = flat[i + 1];
  }
  for (const key of required) if (!(key in out)) fail(where, `missing field ${key}`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// COMMAND INFO entry -> facts (without docs)

function convertBeginSearch(node, where) {
  const m = readMap(node, ['type', 'spec'], ['type', 'spec'], where);
  const type = str(m.type, `${where}.type`);
  const w = `${where}.spec`;
  if (type === 'index') {
    const s = readMap(m.spec, ['index'], ['index'], w);
    return { type, index: int(s.index, `${w}.index`) };
  }
  if (type === 'keyword') {
    const s = readMap(m.spec, ['keyword', 'startfrom'], ['keyword', 'startfrom'], w);
    return { type, keyword: str(s.keyword, `${w}.keyword`), startFrom: int(s.startfrom, `${w}.startfrom`) };
  }
  if (type === 'unknown') {
    readMap(m.spec, [], [], w);
    return { type };
  }
  return fail(where, `unknown begin_search type ${type}`);
}

function convertFindKeys(node, where) {
  const m = readMap(node, ['type', 'spec'], ['type', 'spec'], where);
  const type = str(m.type, `${where}.type`);
  const w = `${where}.spec`;
  if (type === 'range') {
    const f = ['lastkey', 'keystep', 'limit'];
    const s = readMap(m.spec, f, f, w);
    return { type, lastKey: int(s.lastkey, w), keyStep: int(s.keystep, w), limit: int(s.limit, w) };
  }
  if (type === 'keynum') {
    const f = ['keynumidx', 'firstkey', 'keystep'];
    const s = readMap(m.spec, f, f, w);
    return { type, keyNumIdx: int(s.keynumidx, w), firstKey: int(s.firstkey, w), keyStep: int(s.keystep, w) };
  }
  if (type === 'unknown') {
    readMap(m.spec, [], [], w);
    return { type };
  }
  return fail(where, `unknown find_keys type ${type}`);
}

function convertKeySpec(node, where) {
  const m = readMap(node, ['notes', 'flags', 'begin_search', 'find_keys'], ['flags', 'begin_search', 'find_keys'], where);
  const spec = {};
  if (m.notes) spec.notes = str(m.notes, `${where}.notes`);
  spec.flags = simpleSet(m.flags, `${where}.flags`);
  spec.beginSearch = convertBeginSearch(m.begin_search, `${where}.begin_search`);
  spec.findKeys = convertFindKeys(m.find_keys, `${where}.find_keys`);
  return spec;
}

function convertInfo(node, where) {
  const e = want(node, 'array', where);
  if (e.length !== 10) fail(where, `expected 10 fields, got ${e.length}`);
  const name = str(e[0], `${where} name`);
  where = `COMMAND INFO ${name}`;
  // Redis writes an empty *set* when there are no subcommands, an *array* of entries otherwise.
  let subcommands;
  if (e[9].t === 'set') {
    if (e[9].v.length !== 0) fail(where, 'non-empty subcommand set');
    subcommands = [];
  } else {
    subcommands = want(e[9], 'array', `${where} subcommands`).map((s, i) => convertInfo(s, `${where} subcommand ${i}`));
    if (subcommands.length === 0) fail(where, 'empty subcommand array (the encoder writes an empty set)');
  }
  return {
    name,
    arity: int(e[1], `${where} arity`),
    flags: simpleSet(e[2], `${where} flags`),
    firstKey: int(e[3], `${where} first key`),
    lastKey: int(e[4], `${where} last key`),
    step: int(e[5], `${where} step`),
    aclCategories: simpleSet(e[6], `${where} acl categories`),
    tips: bulkSet(e[7], `${where} tips`),
    keySpecs: want(e[8], 'set', `${where} key specs`).map((k, i) => convertKeySpec(k, `${where} key spec ${i}`)),
    subcommands: subcommands.sort(byName),
  };
}

// ---------------------------------------------------------------------------------------------
// COMMAND DOCS entry -> docs

/** Must match ArgumentType in encode.ts. */
const ARG_TYPES = ['string', 'integer', 'double', 'key', 'pattern', 'unix-time', 'pure-token', 'oneof', 'block'];
const ARG_FIELDS = ['name', 'type', 'key_spec_index', 'token', 'summary', 'since', 'deprecated_since', 'flags', 'arguments'];

function convertArgument(node, where) {
  const m = readMap(node, ARG_FIELDS, ['name', 'type'], where);
  const arg = { name: str(m.name, `${where}.name`), type: str(m.type, `${where}.type`) };
  where = `${where}(${arg.name})`;
  if (!ARG_TYPES.includes(arg.type)) fail(where, `argument type ${arg.type} is not in ArgumentType`);
  if (m.key_spec_index) arg.keySpecIndex = int(m.key_spec_index, `${where}.key_spec_index`);
  if (m.token) arg.token = str(m.token, `${where}.token`);
  // Argument summaries are Redis prose like command summaries; 7.0 has none, and we do not copy them.
  if (m.summary) fail(where, 'argument summaries are not carried in the facts file');
  if (m.since) arg.since = str(m.since, `${where}.since`);
  if (m.deprecated_since) arg.deprecatedSince = str(m.deprecated_since, `${where}.deprecated_since`);
  if (m.flags) arg.flags = simpleSet(m.flags, `${where}.flags`);
  if (m.arguments) arg.arguments = convertArguments(m.arguments, `${where}.arguments`);
  return arg;
}

function convertArguments(node, where) {
  return want(node, 'array', where).map((a, i) => convertArgument(a, `${where}[${i}]`));
}

const DOC_FIELDS = ['summary', 'since', 'group', 'complexity', 'doc_flags', 'deprecated_since', 'replaced_by', 'history', 'arguments', 'subcommands'];

/** Returns { docs, subcommandDocs: Map<fullname, node> }; the summary is read past but not kept. */
function convertDocs(node, name) {
  const where = `COMMAND DOCS ${name}`;
  const m = readMap(node, DOC_FIELDS, ['group'], where);
  const docs = { group: str(m.group, `${where}.group`) };
  if (m.since) docs.since = str(m.since, `${where}.since`);
  if (m.complexity) docs.complexity = str(m.complexity, `${where}.complexity`);
  if (m.doc_flags) docs.docFlags = simpleSet(m.doc_flags, `${where}.doc_flags`);
  if (m.deprecated_since) docs.deprecatedSince = str(m.deprecated_since, `${where}.deprecated_since`);
  if (m.replaced_by) docs.replacedBy = str(m.replaced_by, `${where}.replaced_by`);
  if (m.history) {
    docs.history = want(m.history, 'set', `${where}.history`).map((h, i) => {
      const pair = want(h, 'array', `${where}.history[${i}]`);
      if (pair.length !== 2) fail(where, 'history entries are [version, text] pairs');
      return [str(pair[0], `${where}.history[${i}]`), str(pair[1], `${where}.history[${i}]`)];
    });
  }
  if (m.arguments) docs.arguments = convertArguments(m.arguments, `${where}.arguments`);
  const subcommandDocs = new Map();
  if (m.subcommands) {
    const flat = want(m.subcommands, 'map', `${where}.subcommands`);
    for (let i = 0; i < flat.length; i += 2) subcommandDocs.set(str(flat[i], `${where}.subcommands key`), flat[i + 1]);
  }
  if (m.summary) str(m.summary, `${where}.summary`);
  return { docs, subcommandDocs };
}

/** Attaches docs to a facts entry (and its subcommands), checking both replies list the same subcommands. */
function attachDocs(facts, docsNode) {
  const { docs, subcommandDocs } = convertDocs(docsNode, facts.name);
  facts.docs = docs;
  const infoNames = facts.subcommands.map((s) => s.name).sort();
  const docNames = [...subcommandDocs.keys()].sort();
  if (infoNames.join() !== docNames.join()) fail(facts.name, `INFO subcommands ${infoNames} differ from DOCS ${docNames}`);
  for (const sub of facts.subcommands) attachDocs(sub, subcommandDocs.get(sub.name));
}

function byName(a, b) {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Readable, stable JSON: containers that fit on one line stay on one line.

function pretty(value, indent = '') {
  const flat = JSON.stringify(value);
  if (flat.length + indent.length <= 110 || value === null || typeof value !== 'object') return flat;
  const inner = indent + '  ';
  if (Array.isArray(value)) return `[\n${value.map((v) => inner + pretty(v, inner)).join(',\n')}\n${indent}]`;
  const fields = Object.entries(value).map(([k, v]) => `${inner}${JSON.stringify(k)}: ${pretty(v, inner)}`);
  return `{\n${fields.join(',\n')}\n${indent}}`;
}

// ---------------------------------------------------------------------------------------------
// Server lifecycle

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function startServer() {
  const port = await freePort();
  const bin = process.env.REDIS_SERVER || 'redis-server';
  let args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  let dir = null;
  if (SENTINEL) {
    // A sentinel needs a writable config file; it monitors nothing here.
    dir = mkdtempSync(join(tmpdir(), 'gen-facts-'));
    writeFileSync(join(dir, 'sentinel.conf'), '');
    args = [join(dir, 'sentinel.conf'), '--sentinel', '--port', String(port), '--bind', '127.0.0.1', '--dir', dir];
  }
  const child = spawn(bin, args, { stdio: 'ignore' });
  if (dir !== null) child.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  child.on('error', (e) => {
    console.error(`cannot start ${bin}: ${e.message}`);
    process.exit(1);
  });
  for (let i = 0; i < 100; i++) {
    try {
      await request(port, [['PING']]);
      return { port, child };
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  child.kill();
  throw new Error(`redis-server did not come up on port ${port}`);
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const given = process.argv.slice(2).find((a) => a !== '--sentinel');
  const server = given ? { port: Number(given), child: null } : await startServer();
  try {
    const [hello, infoReply, docsReply] = await request(server.port, [['HELLO', '3'], ['COMMAND', 'INFO'], ['COMMAND', 'DOCS']]);
    const helloMap = readMap(hello, ['server', 'version', 'proto', 'id', 'mode', 'role', 'modules'], ['version'], 'HELLO');
    const version = str(helloMap.version, 'HELLO version');
    if (!version.startsWith('7.0.')) throw new Error(`expected a Redis 7.0.x server, got ${version}`);

    const commands = want(infoReply, 'array', 'COMMAND INFO').map((e, i) => convertInfo(e, `COMMAND INFO entry ${i}`));
    commands.sort(byName);
    const docsFlat = want(docsReply, 'map', 'COMMAND DOCS');
    const docsByName = new Map();
    for (let i = 0; i < docsFlat.length; i += 2) docsByName.set(str(docsFlat[i], 'COMMAND DOCS key'), docsFlat[i + 1]);
    if (docsByName.size !== commands.length) throw new Error(`INFO lists ${commands.length} commands, DOCS ${docsByName.size}`);
    for (const facts of commands) {
      const node = docsByName.get(facts.name);
      if (!node) throw new Error(`no COMMAND DOCS entry for ${facts.name}`);
      attachDocs(facts, node);
    }

    const file = { redisVersion: version, commands };
    writeFileSync(OUTPUT, pretty(file) + '\n');
    const subs = commands.reduce((n, c) => n + c.subcommands.length, 0);
    console.log(`wrote ${OUTPUT}: ${commands.length} commands, ${subs} subcommands (redis ${version})`);
  } finally {
    if (server.child) server.child.kill();
  }
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
