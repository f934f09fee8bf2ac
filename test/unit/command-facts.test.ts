/**
 * The command facts (src/commands/facts/redis-7.0.json) and their encoder against a real
 * redis-server 7.0: the JSON must list every command and subcommand the server has, and the
 * encoder must reproduce the server's COMMAND INFO and COMMAND DOCS replies byte for byte, in
 * RESP2 and RESP3, for every command and every subcommand.
 *
 * How the comparison works:
 * - Summaries: the facts carry no summary text, so the test reads the server's summaries out of
 *   its own DOCS reply and hands them to writeCommandDocs. Everything else comes from the facts,
 *   and the whole reply, summary fields included, must then match exactly.
 * - Subcommand order: Redis lists subcommands in hash-table order, which changes with every server
 *   start (random dict seed). The server reply is parsed into a typed tree, its subcommand lists
 *   are sorted by name (the order the facts use), and it is written back out. The parse/write-back
 *   is checked to reproduce the original bytes, so sorting is the only change.
 */

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { ReplyWriter } from '../../src/resp/writer.js';
import {
  loadCommandFacts,
  lookupCommandFacts,
  writeCommandDocs,
  writeCommandInfo,
  type CommandFacts,
} from '../../src/commands/facts/encode.js';
import { freePort } from '../helpers/process.js';

// ---------------------------------------------------------------------------------------------
// RESP values with their wire type, parsed from and written back to latin1 strings.

interface Node {
  /** The type byte: + - : $ _ * ~ % */
  type: string;
  /** Payload of scalar types ($ content, or the rest of the line). */
  text?: string;
  /** Children of aggregates; for % the flattened key/value list. */
  items?: Node[];
}

class Incomplete extends Error {}

function parse(buf: string, pos: number): [Node, number] {
  const nl = buf.indexOf('\r\n', pos);
  if (nl < 0) throw new Incomplete();
  const type = buf[pos];
  const line = buf.slice(pos + 1, nl);
  let p = nl + 2;
  switch (type) {
    case '+': case '-': case ':':
      return [{ type, text: line }, p];
    case '_':
      return [{ type }, p];
    case '$': {
      const n = Number(line);
      if (n < 0) return [{ type, text: undefined }, p];
      if (buf.length < p + n + 2) throw new Incomplete();
      return [{ type, text: buf.slice(p, p + n) }, p + n + 2];
    }
    case '*': case '~': case '%': {
      const count = Number(line) * (type === '%' ? 2 : 1);
      const items: Node[] = [];
      for (let i = 0; i < count; i++) {
        const [v, q] = parse(buf, p);
        items.push(v);
        p = q;
      }
      return [{ type, items }, p];
    }
    default:
      throw new Error(`unexpected RESP type ${JSON.stringify(type)}`);
  }
}

function serialize(n: Node): string {
  switch (n.type) {
    case '_': return '_\r\n';
    case '$': return n.text === undefined ? '$-1\r\n' : `$${n.text.length}\r\n${n.text}\r\n`;
    case '*': case '~': case '%': {
      const count = n.type === '%' ? n.items!.length / 2 : n.items!.length;
      return `${n.type}${count}\r\n` + n.items!.map(serialize).join('');
    }
    default: return `${n.type}${n.text}\r\n`;
  }
}

/** Key/value pairs of a map (RESP3 %) or of a RESP2 flat array standing for one. */
function pairs(n: Node): [Node, Node][] {
  const out: [Node, Node][] = [];
  for (let i = 0; i < n.items!.length; i += 2) out.push([n.items![i], n.items![i + 1]]);
  return out;
}

/** Sorts the subcommand entries of a COMMAND INFO entry by name. */
function sortInfoSubcommands(entry: Node): void {
  const subs = entry.items![9];
  subs.items!.sort((a, b) => compare(a.items![0].text!, b.items![0].text!));
  for (const s of subs.items!) sortInfoSubcommands(s);
}

/** Sorts the subcommands map of a COMMAND DOCS entry by name. */
function sortDocsSubcommands(entry: Node): void {
  for (const [k, v] of pairs(entry)) {
    if (k.text !== 'subcommands') continue;
    const sorted = pairs(v).sort((a, b) => compare(a[0].text!, b[0].text!));
    v.items = sorted.flat();
    for (const [, sub] of sorted) sortDocsSubcommands(sub);
  }
}

/** Collects "summary" values of a DOCS entry and its subcommands, by command name. */
function collectSummaries(name: string, entry: Node, into: Map<string, string>): void {
  for (const [k, v] of pairs(entry)) {
    if (k.text === 'summary') into.set(name, v.text!);
    if (k.text === 'subcommands') for (const [subName, sub] of pairs(v)) collectSummaries(subName.text!, sub, into);
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// A real redis-server and a tiny client.

class Conn {
  private data = '';
  private waiting: { resolve: (r: { raw: string; node: Node }) => void; reject: (e: Error) => void }[] = [];

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk) => {
      this.data += chunk.toString('latin1');
      while (this.waiting.length > 0) {
        let node: Node;
        let end: number;
        try {
          [node, end] = parse(this.data, 0);
        } catch (e) {
          if (e instanceof Incomplete) return;
          throw e;
        }
        const raw = this.data.slice(0, end);
        this.data = this.data.slice(end);
        this.waiting.shift()!.resolve({ raw, node });
      }
    });
    socket.on('error', (e) => this.waiting.splice(0).forEach((w) => w.reject(e)));
  }

  static open(port: number): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(new Conn(socket)));
      socket.once('error', reject);
    });
  }

  send(...args: string[]): Promise<{ raw: string; node: Node }> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.socket.write(`*${args.length}\r\n` + args.map((a) => `$${a.length}\r\n${a}\r\n`).join(''), 'latin1');
    });
  }

  close(): void {
    this.socket.destroy();
  }
}


let server: ChildProcess;
let resp2: Conn;
let resp3: Conn;
const facts = loadCommandFacts();

before(async () => {
  const port = await freePort();
  server = spawn(process.env.REDIS_SERVER ?? 'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let attempt = 0; ; attempt++) {
    try {
      resp2 = await Conn.open(port);
      break;
    } catch (e) {
      if (attempt > 100) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  resp3 = await Conn.open(port);
  await resp3.send('HELLO', '3');
});

after(() => {
  resp2?.close();
  resp3?.close();
  server?.kill();
});

/** Every command and subcommand in the facts, by full name. */
function allFacts(): CommandFacts[] {
  const out: CommandFacts[] = [];
  for (const c of facts.values()) out.push(c, ...c.subcommands);
  return out;
}

function encode(resp: 2 | 3, write: (w: ReplyWriter) => void): string {
  const w = new ReplyWriter();
  w.resp = resp;
  write(w);
  return w.takeOutput().toString('latin1');
}

// ---------------------------------------------------------------------------------------------

test('the facts list all 240 commands of redis 7.0 and all their subcommands', async () => {
  assert.equal(facts.size, 240);
  const { node } = await resp3.send('COMMAND', 'INFO');
  const live = new Map<string, string[]>();
  for (const entry of node.items!) {
    const subs = entry.items![9].items!.map((s) => s.items![0].text!).sort(compare);
    live.set(entry.items![0].text!, subs);
  }
  assert.deepEqual([...facts.keys()], [...live.keys()].sort(compare));
  for (const [name, subs] of live) {
    assert.deepEqual(facts.get(name)!.subcommands.map((s) => s.name), subs, name);
  }
  assert.ok(facts.get('config')!.subcommands.length >= 5);
  assert.ok(facts.get('client')!.subcommands.some((s) => s.name === 'client|kill'));
});

test('the facts expose what the dispatcher reads', () => {
  const get = facts.get('get')!;
  assert.equal(get.arity, 2);
  assert.deepEqual(get.flags, ['readonly', 'fast']);
  assert.deepEqual([get.firstKey, get.lastKey, get.step], [1, 1, 1]);
  assert.deepEqual(get.keySpecs[0].beginSearch, { type: 'index', index: 1 });
  const xread = facts.get('xread')!;
  assert.deepEqual(xread.keySpecs[0].beginSearch, { type: 'keyword', keyword: 'STREAMS', startFrom: 1 });
  const eval_ = facts.get('eval')!;
  assert.deepEqual(eval_.keySpecs[0].findKeys, { type: 'keynum', keyNumIdx: 0, firstKey: 1, keyStep: 1 });
  assert.equal(lookupCommandFacts(facts, 'CONFIG|Get')!.arity, -3);
  assert.equal(lookupCommandFacts(facts, 'config|nosuch'), undefined);
  assert.equal(lookupCommandFacts(facts, 'nosuch'), undefined);
});

for (const resp of [2, 3] as const) {
  test(`COMMAND INFO matches redis byte for byte for every command and subcommand (RESP${resp})`, async () => {
    const conn = resp === 2 ? resp2 : resp3;
    const names = allFacts().map((f) => f.name);
    assert.ok(names.length > 360);
    for (const name of names) {
      const { raw, node } = await conn.send('COMMAND', 'INFO', name);
      assert.equal(serialize(node), raw, 'test parser round trip');
      sortInfoSubcommands(node.items![0]);
      const expected = serialize(node);
      const actual = encode(resp, (w) => {
        w.addArrayLen(1);
        writeCommandInfo(w, lookupCommandFacts(facts, name)!);
      });
      assert.equal(actual, expected, `COMMAND INFO ${name} (RESP${resp})`);
    }
  });

  test(`COMMAND DOCS matches redis byte for byte for every command and subcommand (RESP${resp})`, async () => {
    const conn = resp === 2 ? resp2 : resp3;
    for (const f of allFacts()) {
      const { raw, node } = await conn.send('COMMAND', 'DOCS', f.name);
      assert.equal(serialize(node), raw, 'test parser round trip');
      const [[nameNode, entry]] = pairs(node);
      assert.equal(nameNode.text, f.name);
      const summaries = new Map<string, string>();
      collectSummaries(f.name, entry, summaries);
      assert.ok(summaries.has(f.name), `redis sent a summary for ${f.name}`);
      sortDocsSubcommands(entry);
      const expected = serialize(node);
      const actual = encode(resp, (w) => {
        w.addMapLen(1);
        w.addBulk(f.name);
        writeCommandDocs(w, f, (n) => summaries.get(n));
      });
      assert.equal(actual, expected, `COMMAND DOCS ${f.name} (RESP${resp})`);
    }
  });
}

test('a representative set is present and non-trivial', () => {
  const representative = ['get', 'set', 'xadd', 'config|get', 'client|kill', 'georadius', 'migrate', 'sort', 'eval',
    'xreadgroup', 'zunionstore', 'command', 'object'];
  for (const name of representative) assert.ok(lookupCommandFacts(facts, name), name);
  // Deprecated commands carry their replacement; history and nested arguments are kept.
  const georadius = facts.get('georadius')!;
  assert.equal(georadius.docs.deprecatedSince, '6.2.0');
  assert.ok(georadius.docs.replacedBy);
  assert.ok(georadius.docs.history && georadius.docs.history.length > 0);
  assert.ok(facts.get('set')!.docs.arguments!.some((a) => a.type === 'oneof' && a.arguments!.length > 0));
  // SORT's BY/GET key spec is the "unknown" kind and carries a note.
  assert.ok(facts.get('sort')!.keySpecs.some((k) => k.notes !== undefined && k.beginSearch.type === 'unknown'));
  assert.ok(facts.get('migrate')!.keySpecs.some((k) => k.beginSearch.type === 'keyword'));
});

test('a subcommand filter limits the listed subcommands in both replies', () => {
  const config = facts.get('config')!;
  const onlyGet = (s: CommandFacts) => s.name === 'config|get';
  const info = encode(3, (w) => writeCommandInfo(w, config, onlyGet));
  assert.match(info, /\*1\r\n\*10\r\n\$10\r\nconfig\|get\r\n/);
  assert.doesNotMatch(info, /config\|set/);
  const docs = encode(3, (w) => writeCommandDocs(w, config, () => undefined, onlyGet));
  assert.match(docs, /\$11\r\nsubcommands\r\n%1\r\n\$10\r\nconfig\|get\r\n/);
  assert.doesNotMatch(docs, /summary/);
});
