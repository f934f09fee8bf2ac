// AOF command encoding and reading: the bytes Redis writes, annotations, and
// the difference between a truncated tail and a corrupt file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommandBuffer, encodeCommand } from '../../src/persistence/aof/resp.js';
import { AofCommandReader, bufferSource, type ReadResult } from '../../src/persistence/aof/reader.js';

test('encodes commands as RESP arrays of bulk strings, byte for byte as Redis', () => {
  assert.equal(encodeCommand(['SET', 'k', 'v']).toString('latin1'), '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n');
  assert.equal(encodeCommand(['SET', 'k', '']).toString('latin1'), '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n');
  // Binary-safe: latin1 strings are bytes, CR/LF inside values included.
  const bin = '\x00\xff\r\n\x80';
  const enc = encodeCommand(['SET', bin, bin]);
  assert.deepEqual([...enc.subarray(enc.length - 7, enc.length - 2)], [0, 255, 13, 10, 128]);
  assert.equal(enc.toString('latin1'), `*3\r\n$3\r\nSET\r\n$5\r\n${bin}\r\n$5\r\n${bin}\r\n`);
});

test('a command buffer grows for big values and keeps everything appended', () => {
  const b = new CommandBuffer(16);
  const big = 'x'.repeat(100_000);
  b.appendCommand(['SELECT', '0']);
  b.appendRaw('#TS:1700000000\r\n');
  b.appendCommand(['SET', 'big', big]);
  const text = b.view().toString('latin1');
  assert.equal(text, `*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n#TS:1700000000\r\n*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$100000\r\n${big}\r\n`);
  b.consume(20);
  assert.equal(b.view().toString('latin1'), text.slice(20));
  b.reset();
  assert.equal(b.len, 0);
});

function readAll(data: Buffer): ReadResult[] {
  const r = new AofCommandReader(bufferSource(data));
  const out: ReadResult[] = [];
  for (;;) {
    const x = r.next();
    out.push(x);
    if (x.kind !== 'command') return out;
  }
}

const STREAM = Buffer.concat([
  encodeCommand(['SELECT', '0']),
  Buffer.from('#TS:1700000000\r\n'),
  encodeCommand(['SET', 'a', 'hello']),
  encodeCommand(['MULTI']),
  encodeCommand(['INCR', 'n']),
  encodeCommand(['EXEC']),
]);

test('reads commands back with their byte ranges, skipping annotations', () => {
  const res = readAll(STREAM);
  const cmds = res.filter((r) => r.kind === 'command');
  assert.deepEqual(
    cmds.map((c) => (c.kind === 'command' ? c.argv : [])),
    [['SELECT', '0'], ['SET', 'a', 'hello'], ['MULTI'], ['INCR', 'n'], ['EXEC']],
  );
  assert.deepEqual(res[res.length - 1], { kind: 'eof' });
  const last = cmds[cmds.length - 1];
  assert.equal(last.kind === 'command' && last.end, STREAM.length);
});

test('every cut inside a command reads as truncated at that command, never as a format error', () => {
  const starts: number[] = [];
  for (const r of readAll(STREAM)) if (r.kind === 'command') starts.push(r.start);
  const annotationEnd = starts[1];
  for (let cut = 1; cut < STREAM.length; cut++) {
    const res = readAll(STREAM.subarray(0, cut));
    const end = res[res.length - 1];
    const boundary = cut === annotationEnd || res.some((r) => r.kind === 'command' && r.end === cut);
    if (boundary) {
      assert.deepEqual(end, { kind: 'eof' }, `cut ${cut}`);
      continue;
    }
    assert.equal(end.kind, 'truncated', `cut ${cut}: ${JSON.stringify(end)}`);
    // Truncated at the start of the unfinished command (or annotation).
    const at = (end as { at: number }).at;
    const complete = res.filter((r) => r.kind === 'command').length;
    const expected = complete < starts.length ? starts[complete] : STREAM.length;
    assert.ok(at <= expected && at >= (complete > 0 ? starts[complete - 1] : 0), `cut ${cut}: at ${at}`);
  }
});

test('reads big files through a bounded window (values larger than the chunk included)', () => {
  const parts: Buffer[] = [];
  for (let i = 0; i < 3000; i++) parts.push(encodeCommand(['SET', `key:${i}`, 'v'.repeat(i % 50)]));
  parts.push(encodeCommand(['SET', 'huge', 'h'.repeat(5 * 1024 * 1024)]));
  const data = Buffer.concat(parts);
  const res = readAll(data);
  assert.equal(res.length, 3002);
  const huge = res[3000];
  assert.ok(huge.kind === 'command' && huge.argv[2].length === 5 * 1024 * 1024);
});

test('bytes that can never be a command are a format error, with the offset', () => {
  const bad = (text: string) => {
    const res = readAll(Buffer.from(text, 'latin1'));
    return res[res.length - 1];
  };
  const ok = '*1\r\n$4\r\nPING\r\n';
  assert.deepEqual(bad(ok + 'garbage\r\n'), { kind: 'format-error', at: ok.length, reason: "expected '*'" });
  assert.equal(bad('*2\r\n$3\r\nGET\r\nxx\r\n').kind, 'format-error');
  assert.equal(bad('*x\r\n').kind, 'format-error');
  assert.equal(bad('*0\r\n').kind, 'format-error');
  assert.equal(bad('*1\n$4\r\nPING\r\n').kind, 'format-error');
  // The byte after a bulk string must be CRLF: a flipped byte inside a length is caught.
  assert.deepEqual(bad('*1\r\n$3\r\nPING\r\n'), { kind: 'format-error', at: 11, reason: 'bulk string not terminated by CRLF' });
  assert.equal(bad('*1\r\n$-1\r\n').kind, 'format-error');
});
