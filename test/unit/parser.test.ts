import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RespParser, ProtocolError, splitArgs } from '../../src/resp/parser.js';

function encode(argv: string[]): Buffer {
  let s = `*${argv.length}\r\n`;
  for (const a of argv) s += `$${a.length}\r\n${a}\r\n`;
  return Buffer.from(s, 'latin1');
}

function parseAll(chunks: Buffer[]): string[][] {
  const p = new RespParser({ maxBulkLen: 512 * 1024 * 1024, authRequired: false });
  const out: string[][] = [];
  for (const ch of chunks) {
    p.feed(ch);
    for (;;) {
      const argv = p.next();
      if (argv === null) break;
      if (argv.length > 0) out.push(argv);
    }
  }
  return out;
}

/** Splits a buffer at the given (sorted, deduplicated) cut points. */
function split(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out.filter((b) => b.length > 0);
}

const binaryString = fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a).toString('latin1'));
const command = fc.array(binaryString, { minLength: 1, maxLength: 6 });

test('any split of a valid stream parses the same', () => {
  fc.assert(
    fc.property(fc.array(command, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 12 }), (cmds, cuts) => {
      const stream = Buffer.concat(cmds.map(encode));
      assert.deepEqual(parseAll(split(stream, cuts)), cmds);
    }),
    { numRuns: 500 },
  );
});

test('big bulk arguments assembled across many chunks', () => {
  const big = 'x'.repeat(100_000) + '\x00\xff';
  const stream = Buffer.concat([encode(['SET', 'k', big]), encode(['GET', 'k'])]);
  const chunks: Buffer[] = [];
  for (let i = 0; i < stream.length; i += 1000) chunks.push(stream.subarray(i, i + 1000));
  assert.deepEqual(parseAll(chunks), [['SET', 'k', big], ['GET', 'k']]);
});

test('values are copies, not views of the chunk', () => {
  const buf = encode(['SET', 'k', 'value']);
  const p = new RespParser({ maxBulkLen: 1 << 29, authRequired: false });
  p.feed(buf);
  const argv = p.next()!;
  buf.fill(0);
  assert.deepEqual(argv, ['SET', 'k', 'value']);
});

test('inline commands with quotes and escapes', () => {
  assert.deepEqual(parseAll([Buffer.from('SET "a b" \'c d\'\r\nGET "\\x41\\n"\n\r\n')]), [
    ['SET', 'a b', 'c d'],
    ['GET', 'A\n'],
  ]);
  assert.equal(splitArgs('"unbalanced'), null);
  assert.equal(splitArgs('"a"b'), null);
  assert.deepEqual(splitArgs('  '), []);
});

test('protocol errors carry Redis texts', () => {
  const cases: Array<[string, string]> = [
    ['*abc\r\n', 'Protocol error: invalid multibulk length'],
    ['*1\r\n+foo\r\n', "Protocol error: expected '$', got '+'"],
    ['*1\r\n$-5\r\n', 'Protocol error: invalid bulk length'],
    ['*1\r\n$abc\r\n', 'Protocol error: invalid bulk length'],
    ['SET "a\r\n', 'Protocol error: unbalanced quotes in request'],
    ['*3000000000\r\n', 'Protocol error: invalid multibulk length'],
  ];
  for (const [input, msg] of cases) {
    assert.throws(() => parseAll([Buffer.from(input, 'latin1')]), (e: Error) => e instanceof ProtocolError && e.message === msg, input);
  }
  assert.throws(() => parseAll([Buffer.alloc(70 * 1024, 'a')]), /too big inline request/);
  assert.throws(() => parseAll([Buffer.from('*1\r\n$' + '1'.repeat(70 * 1024))]), /too big bulk count string/);
});

test('bulk length above proto-max-bulk-len is rejected', () => {
  const p = new RespParser({ maxBulkLen: 10, authRequired: false });
  p.feed(Buffer.from('*1\r\n$11\r\n'));
  assert.throws(() => p.next(), /invalid bulk length/);
});

test('unauthenticated clients get the small limits', () => {
  const p = new RespParser({ maxBulkLen: 1 << 29, authRequired: true });
  p.feed(Buffer.from('*11\r\n'));
  assert.throws(() => p.next(), /unauthenticated multibulk length/);
  const q = new RespParser({ maxBulkLen: 1 << 29, authRequired: true });
  q.feed(Buffer.from('*1\r\n$16385\r\n'));
  assert.throws(() => q.next(), /unauthenticated bulk length/);
});

test('empty and negative multibulk counts are skipped', () => {
  assert.deepEqual(parseAll([Buffer.from('*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n')]), [['PING']]);
});

test('random garbage never throws anything but ProtocolError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      const p = new RespParser({ maxBulkLen: 1 << 20, authRequired: false });
      p.feed(Buffer.from(bytes));
      try {
        for (let i = 0; i < 1000; i++) if (p.next() === null) break;
      } catch (e) {
        assert.ok(e instanceof ProtocolError, String(e));
      }
    }),
    { numRuns: 2000 },
  );
});

test('detach copies unparsed bytes out of a reused read buffer', () => {
  const p = new RespParser({ maxBulkLen: 512 * 1024 * 1024, authRequired: false });
  const shared = Buffer.alloc(256);
  const stream = Buffer.concat([encode(['SET', 'k', 'v1']), encode(['GET', 'k']), encode(['ECHO', 'tail'])]);
  // The first read holds one whole command and part of the next.
  const firstLen = encode(['SET', 'k', 'v1']).length + 7;
  stream.copy(shared, 0, 0, firstLen);
  p.feed(shared.subarray(0, firstLen));
  assert.deepEqual(p.next(), ['SET', 'k', 'v1']);
  assert.equal(p.next(), null);
  p.detach(shared);
  // Another connection's read overwrites the buffer before this one's next read.
  shared.fill(0x2a);
  const rest = stream.length - firstLen;
  stream.copy(shared, 0, firstLen);
  p.feed(shared.subarray(0, rest));
  assert.deepEqual(p.next(), ['GET', 'k']);
  assert.deepEqual(p.next(), ['ECHO', 'tail']);
  assert.equal(p.next(), null);
});

test('the whole-command fast path and the general path agree on errors', () => {
  for (const [input, message] of [
    ['*2\r\n$3\r\nGET\r\n$01\r\nk\r\n', 'Protocol error: invalid bulk length'],
    ['*2\r\n$3\r\nGET\r\n:1\r\nk\r\n', "Protocol error: expected '$', got ':'"],
    ['*2\r\n$3\r\nGET\r\n$-1\r\nk\r\n', 'Protocol error: invalid bulk length'],
    ['*01\r\n$3\r\nGET\r\n', 'Protocol error: invalid multibulk length'],
  ] as const) {
    const p = new RespParser({ maxBulkLen: 512 * 1024 * 1024, authRequired: false });
    p.feed(Buffer.from(input, 'latin1'));
    assert.throws(() => p.next(), (e: unknown) => e instanceof ProtocolError && e.message === message, input);
  }
});
