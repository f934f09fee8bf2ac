/**
 * Unit tests of mnemo-cli's pieces, in process: the RESP reply parser (split at every
 * byte, RESP3 types, attributes, protocol errors), reply formatting (expected texts are
 * redis-cli 7.0's), C-style number formatting, help/hint building from command docs, and
 * the line editor driven with injected keystrokes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { ReplyParser, ReplyProtocolError, encodeCommand, type Reply } from '../../src/cli/reply.js';
import { formatCSV, formatJSON, formatRaw, formatReply, formatTTY } from '../../src/cli/format.js';
import { bytesToHuman, fixed, zeroPadFixed } from '../../src/cli/cformat.js';
import { argumentsToParams, HelpTable, strcasecmp } from '../../src/cli/help.js';
import { ByteReader } from '../../src/cli/byte-reader.js';
import { LineEditor } from '../../src/cli/line-editor.js';
import { defaultConfig, parseOptions, parseRedisUri, CliExit } from '../../src/cli/options.js';
import { DictOrder } from '../../src/cli/modes/type-order.js';

function parseAll(bytes: string, chunk = 0): Reply[] {
  const p = new ReplyParser();
  const out: Reply[] = [];
  const buf = Buffer.from(bytes, 'latin1');
  const step = chunk || buf.length;
  for (let i = 0; i < buf.length; i += step) {
    p.feed(buf.subarray(i, i + step));
    for (let r = p.next(); r; r = p.next()) out.push(r);
  }
  return out;
}

const MIXED =
  '+OK\r\n-ERR bad\r\n:-42\r\n$5\r\na\x00b\r\n\r\n$-1\r\n*-1\r\n*0\r\n_\r\n#t\r\n,3.14\r\n,inf\r\n(12345678901234567890\r\n' +
  '=15\r\ntxt:Some string\r\n!9\r\nERR inner\r\n~2\r\n:1\r\n:2\r\n%1\r\n$1\r\nk\r\n*2\r\n$1\r\nv\r\n%0\r\n>2\r\n$7\r\nmessage\r\n$2\r\nhi\r\n' +
  '|1\r\n+key-popularity\r\n*1\r\n:90\r\n$4\r\nreal\r\n*3\r\n*1\r\n*0\r\n$1\r\nx\r\n:9223372036854775807\r\n';

test('reply parser: every RESP2/RESP3 type, whole or split at every byte', () => {
  const whole = parseAll(MIXED);
  for (const size of [1, 2, 3, 7]) assert.deepEqual(parseAll(MIXED, size), whole);
  assert.deepEqual(whole.slice(0, 7), [
    { type: 'status', str: 'OK' },
    { type: 'error', str: 'ERR bad' },
    { type: 'integer', value: -42n },
    { type: 'string', str: 'a\x00b\r\n' },
    { type: 'nil' },
    { type: 'nil' },
    { type: 'array', elements: [] },
  ]);
  assert.deepEqual(whole[12], { type: 'verbatim', format: 'txt', str: 'Some string' });
  assert.deepEqual(whole[13], { type: 'error', str: 'ERR inner' });
  assert.equal(whole[15].type, 'map');
  // The attribute is dropped, the reply it annotates is kept.
  assert.deepEqual(whole[17], { type: 'string', str: 'real' });
  assert.equal(formatTTY(whole[18]), '1) 1) (empty array)\n2) "x"\n3) (integer) 9223372036854775807\n');
  assert.equal(whole.length, 19);
  assert.equal(formatTTY(whole[15]), '1# "k" => \n   1) "v"\n   2) (empty hash)\n');
});

test('reply parser: large bulk across chunks, protocol errors as hiredis words them', () => {
  const big = 'x'.repeat(200000);
  const msg = `$${big.length}\r\n${big}\r\n:1\r\n`;
  const got = parseAll(msg, 4096);
  assert.deepEqual(got, [{ type: 'string', str: big }, { type: 'integer', value: 1n }]);
  assert.throws(() => parseAll('?x\r\n'), (e: unknown) => e instanceof ReplyProtocolError && e.message === 'Protocol error, got "?" as reply type byte');
  assert.throws(() => parseAll('\x01\r\n'), /Protocol error, got "\\x01" as reply type byte/);
  assert.throws(() => parseAll(':12a\r\n'), /Bad integer value/);
  assert.throws(() => parseAll('#x\r\n'), /Bad bool value/);
  assert.equal(encodeCommand(['SET', 'k\x00', 'é']).toString('latin1'), '*3\r\n$3\r\nSET\r\n$2\r\nk\x00\r\n$1\r\né\r\n');
});

const arr = (...elements: Reply[]): Reply => ({ type: 'array', elements });
const str = (s: string): Reply => ({ type: 'string', str: s });
const int = (n: number): Reply => ({ type: 'integer', value: BigInt(n) });

test('standard output: redis-cli 7.0 texts for nested aggregates, maps, sets, RESP3 scalars', () => {
  const twelve = arr(...Array.from({ length: 12 }, (_, i) => str(String(i))));
  assert.match(formatTTY(twelve), /^ 1\) "0"\n 2\) "1"\n[\s\S]*\n10\) "9"\n11\) "10"\n12\) "11"\n$/);
  assert.equal(formatTTY(arr(int(1), arr(int(2), arr(int(3), str('x'))), arr())), '1) (integer) 1\n2) 1) (integer) 2\n   2) 1) (integer) 3\n      2) "x"\n3) (empty array)\n');
  const map: Reply = { type: 'map', elements: [str('k'), str('v'), str('list'), arr(int(1), int(2)), str('one'), arr(int(1))] };
  assert.equal(formatTTY(map), '1# "k" => "v"\n2# "list" => \n   1) (integer) 1\n   2) (integer) 2\n3# "one" => 1) (integer) 1\n');
  assert.equal(formatTTY({ type: 'set', elements: [str('a'), str('b')] }), '1~ "a"\n2~ "b"\n');
  assert.equal(formatTTY({ type: 'map', elements: [] }), '(empty hash)\n');
  assert.equal(formatTTY({ type: 'set', elements: [] }), '(empty set)\n');
  assert.equal(formatTTY({ type: 'double', str: '1.5' }), '(double) 1.5\n');
  assert.equal(formatTTY({ type: 'bool', value: true }), '(true)\n');
  assert.equal(formatTTY({ type: 'nil' }), '(nil)\n');
  assert.equal(formatTTY({ type: 'error', str: 'ERR x' }), '(error) ERR x\n');
  assert.equal(formatTTY({ type: 'status', str: 'OK' }), 'OK\n');
  assert.equal(formatTTY({ type: 'verbatim', format: 'txt', str: 'a\nb' }), 'a\nb\n');
  // redis-cli 7.0 exits with "Unknown reply type: 13" on big numbers; later versions print this.
  assert.equal(formatTTY({ type: 'bignum', str: '123456789012345678901234567890' }), '(big number) 123456789012345678901234567890\n');
  assert.equal(formatTTY(str('a\x00\xff\n"\\\t\r\x07\x08z')), '"a\\x00\\xff\\n\\"\\\\\\t\\r\\a\\bz"\n');
});

test('raw, CSV and JSON output', () => {
  const map: Reply = { type: 'map', elements: [str('k'), int(1), int(2), { type: 'nil' }] };
  assert.equal(formatRaw(arr(str('a'), { type: 'nil' }, arr(str('b'), int(3)))), 'a\n\nb\n3');
  assert.equal(formatRaw(map), 'k 1\n2 ');
  assert.equal(formatRaw(arr(str('a'), str('b')), ','), 'a,b');
  assert.equal(formatReply({ type: 'error', str: 'ERR x' }, 'raw', false), 'ERR x\n\n');
  assert.equal(formatReply(str('info text\r\n'), 'standard', true), 'info text\r\n');
  assert.equal(formatCSV(arr(str('a"b'), int(1), { type: 'nil' }, { type: 'bool', value: false })), '"a\\"b",1,NULL,false');
  assert.equal(formatCSV({ type: 'error', str: 'ERR x' }), 'ERROR,"ERR x"');
  assert.equal(formatJSON(map, 'json'), '{"k":1,"2":null}');
  assert.equal(formatJSON(str('\x01é\n'), 'json'), '"\\u0001é\\n"');
  assert.equal(formatJSON(str('\x01\n'), 'quoted-json'), '"\\\\x01\\\\n"');
  assert.equal(formatJSON({ type: 'error', str: 'ERR x' }, 'json'), 'error:"ERR x"');
});

test('C number formatting: %.2f rounds exact ties to even, %05.2f pads', () => {
  assert.equal(fixed(0.125, 2), '0.12');
  assert.equal(fixed(0.375, 2), '0.38');
  assert.equal(fixed(2.675, 2), '2.67');
  assert.equal(fixed(3.25, 0 + 1), '3.2');
  assert.equal(fixed(1, 2), '1.00');
  assert.equal(fixed(-0.5, 0), '-0');
  assert.equal(zeroPadFixed(5, 5, 2), '05.00');
  assert.equal(zeroPadFixed(100, 5, 2), '100.00');
  assert.equal(zeroPadFixed(NaN, 5, 2), '  nan');
  assert.equal(bytesToHuman(1023), '1023B');
  assert.equal(bytesToHuman(1024), '1.00K');
  assert.equal(bytesToHuman(1908408), '1.82M');
});

test('help: argument syntax from command docs, hints, completion order', () => {
  const setArgs = [
    { name: 'key', type: 'key', flags: [] },
    { name: 'value', type: 'string', flags: [] },
    { name: 'condition', type: 'oneof', flags: ['optional'], arguments: [{ name: 'nx', type: 'pure-token', token: 'NX', flags: [] }, { name: 'xx', type: 'pure-token', token: 'XX', flags: [] }] },
    { name: 'get', type: 'pure-token', token: 'GET', flags: ['optional'] },
    {
      name: 'expiration',
      type: 'oneof',
      flags: ['optional'],
      arguments: [
        { name: 'seconds', type: 'integer', token: 'EX', flags: [] },
        { name: 'keepttl', type: 'pure-token', token: 'KEEPTTL', flags: [] },
      ],
    },
  ];
  assert.equal(argumentsToParams(setArgs), 'key value [NX|XX] [GET] [EX seconds|KEEPTTL]');
  const multi = [{ name: 'pair', type: 'block', flags: ['multiple'], arguments: [{ name: 'field', type: 'string', flags: [] }, { name: 'value', type: 'string', flags: [] }] }];
  assert.equal(argumentsToParams(multi), 'field value [field value ...]');
  assert.equal(argumentsToParams([{ name: 'id', type: 'string', token: 'ID', flags: ['optional', 'multiple', 'multiple_token'] }]), '[ID id [ID id ...]]');
  assert.equal(argumentsToParams([{ name: '', type: 'string', token: '', flags: [] }]), '"" ""');

  const table = HelpTable.fromBuiltinFacts();
  assert.deepEqual(table.hint('set a'), { text: ' value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]', color: 90, bold: 0 });
  assert.equal(table.hint('set a 1 nx ')?.text, '[NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]');
  assert.equal(table.hint('config get ')?.text, 'parameter [parameter ...]');
  assert.equal(table.hint('nosuch '), null);
  assert.equal(table.hint('"unbalanced'), null);
  assert.deepEqual(table.completions('zr').slice(0, 3), ['ZRANDMEMBER', 'ZRANGE', 'ZRANGEBYLEX']);
  assert.deepEqual(table.completions('evals'), ['EVALSHA', 'EVALSHA_RO']);
  assert.ok(table.completions('eval').indexOf('EVALSHA_RO') < table.completions('eval').indexOf('EVAL_RO'));
  assert.deepEqual(table.completions('help @st'), ['help @stream', 'help @string']);
  assert.ok(strcasecmp('abc', 'ABD') < 0);
  assert.match(table.output(['get']), /^\r\n {2}\x1b\[1mGET\x1b\[0m \x1b\[90mkey\x1b\[0m\r\n/);
});

test('options: redis-cli parsing, URIs, errors', () => {
  const cfg = defaultConfig(false);
  const first = parseOptions(['-h', 'example', '-p', '7000', '-n', '3', '--no-raw', '-r', '5', '-i', '0.25', 'get', '-p'], cfg);
  assert.equal(first, 11);
  assert.equal(cfg.host, 'example');
  assert.equal(cfg.port, 7000);
  assert.equal(cfg.inputDbnum, 3);
  assert.equal(cfg.output, 'standard');
  assert.equal(cfg.repeat, 5);
  assert.equal(cfg.interval, 250000);
  const uri = defaultConfig(true);
  parseRedisUri('redis://us%40er:p%3Ass@host.example:6390/7', uri);
  assert.deepEqual([uri.user, uri.auth, uri.host, uri.port, uri.inputDbnum], ['us@er', 'p:ss', 'host.example', 6390, 7]);
  const bad = defaultConfig(true);
  assert.throws(() => parseOptions(['--memkeys-samples'], bad), (e: unknown) => e instanceof CliExit && e.code === 1);
  const mem = defaultConfig(true);
  parseOptions(['--memkeys-samples', '5', '--memkeys'], mem);
  assert.equal(mem.memkeysSamples, 0); // --memkeys after it resets to the server default, as redis-cli
});

/** A line editor on injected keystrokes; returns the line and everything written. */
async function edit(keys: string, opts: { history?: string[]; cols?: number; prompt?: string } = {}): Promise<{ line: string | null; out: string; beeps: number; editor: LineEditor }> {
  const input = new PassThrough();
  const reader = new ByteReader(input);
  let out = '';
  let beeps = 0;
  const editor = new LineEditor(reader, (s) => (out += s), () => {}, () => opts.cols ?? 80, () => beeps++);
  const table = HelpTable.fromBuiltinFacts();
  editor.hooks = { completion: (b) => table.completions(b), hints: (b) => table.hint(b) };
  for (const h of opts.history ?? []) editor.historyAdd(h);
  input.write(Buffer.from(keys, 'latin1'));
  const line = await editor.readLine(opts.prompt ?? 'p> ');
  return { line, out, beeps, editor };
}

test('line editor: typing with hints, Enter redraws without the hint', async () => {
  const r = await edit('get\r');
  assert.equal(r.line, 'get');
  assert.equal(
    r.out,
    'p> ' +
      '\r\x1b[0Kp> g\r\x1b[4C' +
      '\r\x1b[0Kp> ge\r\x1b[5C' +
      '\r\x1b[0Kp> get\x1b[0;90;49m key\x1b[0m\r\x1b[6C' +
      '\r\x1b[0Kp> get\r\x1b[6C' +
      '\n',
  );
});

test('line editor: editing keys, history, completion cycling, Ctrl-C / Ctrl-D', async () => {
  assert.equal((await edit('abc\x1b[D\x1b[D\x04\r')).line, 'ac'); // left left, Ctrl-D deletes
  assert.equal((await edit('abc\x01X\x05Y\r')).line, 'XabcY'); // Ctrl-A / Ctrl-E
  assert.equal((await edit('one two\x17three\r')).line, 'one three'); // Ctrl-W
  assert.equal((await edit('abc\x1b[D\x14\r')).line, 'acb'); // Ctrl-T swaps
  assert.equal((await edit('hello\x08\x7f\r')).line, 'hel'); // Ctrl-H, Backspace
  assert.equal((await edit('abcdef\x1b[D\x1b[D\x0b\r')).line, 'abcd'); // Ctrl-K
  assert.equal((await edit('abc\x15xy\r')).line, 'xy'); // Ctrl-U
  assert.equal((await edit('\x1b[A\x1b[A\r', { history: ['first', 'second'] })).line, 'first');
  assert.equal((await edit('\x10\x10\x0e\r', { history: ['first', 'second'] })).line, 'second'); // Ctrl-P Ctrl-P Ctrl-N
  assert.equal((await edit('ed\x1b[A\x1b[B\r', { history: ['x'] })).line, 'ed'); // the edited line comes back
  assert.equal((await edit('zr\t\r')).line, 'ZRANDMEMBER');
  assert.equal((await edit('zr\t\t\r')).line, 'ZRANGE');
  const cycled = await edit('pfd\t\t\r'); // one match: Tab again shows the typed text, with a beep
  assert.equal(cycled.line, 'pfd');
  assert.equal(cycled.beeps, 1);
  assert.equal((await edit('nosuch\t\r')).beeps, 1);
  assert.equal((await edit('abc\x03')).line, null);
  assert.equal((await edit('\x04')).line, null);
  assert.equal((await edit('abc\x04\r')).line, 'abc'); // Ctrl-D at the end of a line does nothing
  const h = await edit('new\r', { history: ['old'] });
  assert.deepEqual(h.editor.history, ['old']); // the edit slot is removed; the caller adds the line
});

test('line editor: a line longer than the terminal wraps like linenoise multi-line mode', async () => {
  const r = await edit('abcdefgh\r', { cols: 10 });
  assert.equal(r.line, 'abcdefgh');
  // 'p> ' + 7 chars fills the 10 columns: the cursor moves to the next row.
  assert.ok(r.out.includes('\r\x1b[0Kp> abcdefg\n\r'));
  assert.ok(r.out.includes('\r\x1b[0K\x1b[1A\r\x1b[0Kp> abcdefgh\r\x1b[1C'));
});

test('--bigkeys summary order follows redis-cli\'s rehashing dict', () => {
  // Orders observed from redis-cli 7.0.15 after 0, 1 and 2+ type lookups.
  const expected = [
    'hash list string stream set zset',
    'string list hash stream set zset',
    'list hash string stream set zset',
    'list hash string stream set zset',
  ];
  expected.forEach((order, finds) => {
    const d = new DictOrder();
    for (const t of ['string', 'list', 'set', 'hash', 'zset', 'stream']) d.add(t);
    for (let i = 0; i < finds; i++) d.find();
    assert.equal(d.keys().join(' '), order, `${finds} lookups`);
  });
});
