/**
 * Differential tests: every file in test/diff/cases/ is run against a real
 * redis-server and against Mnemo, and their replies must match byte for byte.
 * See README.md for the case format and the environment variables.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  DiffHarness,
  encodeCommand,
  formatMismatches,
  listCaseFiles,
  parseReply,
  shapeOf,
  sortedForm,
  splitArgs,
  unescapeRaw,
} from './harness.js';

const target = process.env.DIFF_TARGET === 'redis' ? 'redis' : 'mnemo';

// An unknown DIFF_FILE name (or a missing case directory) must fail the run, not skip it.
let files: string[] = [];
let listError: Error | null = null;
try {
  files = listCaseFiles(process.env.DIFF_FILE);
} catch (err) {
  listError = err as Error;
}

let harness: DiffHarness | undefined;

before(async () => {
  // Throws a clear error when redis-server is missing; node:test then fails every case file.
  harness = await DiffHarness.start({ target });
});

after(async () => {
  await harness?.stop();
});

if (listError) {
  const err = listError;
  test('diff: case files', () => {
    throw err;
  });
}

for (const file of files) {
  test(`diff: ${path.basename(file)}`, { timeout: 120_000 }, async () => {
    assert.ok(harness, 'servers did not start');
    const mismatches = await harness.runFile(file);
    if (mismatches.length > 0) {
      assert.fail(`${mismatches.length} mismatch(es) in ${path.basename(file)}:\n${formatMismatches(mismatches, harness.labels)}`);
    }
  });
}

// The harness's own pieces: if these are wrong, every case file passes or fails for the wrong reason.

test('harness: splits lines like redis-cli and encodes RESP', () => {
  assert.deepEqual(splitArgs(`SET k "a b\\x41\\n" 'it\\'s' "" x`), ['SET', 'k', 'a bA\n', "it's", '', 'x']);
  assert.deepEqual(splitArgs('ECHO "x\\{5}"'), ['ECHO', 'xxxxx']);
  assert.throws(() => splitArgs('ECHO "abc'));
  assert.throws(() => splitArgs('ECHO "a"b'));
  assert.equal(encodeCommand(['GET', 'k\xff']).toString('latin1'), '*2\r\n$3\r\nGET\r\n$2\r\nk\xff\r\n');
  assert.equal(unescapeRaw('*1\\r\\n\\x41\\\\a\\{3}').toString('latin1'), '*1\r\nA\\aaa');
  assert.throws(() => unescapeRaw('\\q'));
});

test('harness: frames RESP2 and RESP3 replies', () => {
  const bytes = Buffer.from('*2\r\n$3\r\nfoo\r\n%1\r\n+k\r\n~2\r\n:2\r\n:1\r\n_\r\n', 'latin1');
  const first = parseReply(bytes, 0);
  assert.ok(first);
  assert.equal(shapeOf(first.reply), '*2[$,%2[+,~2[:,:]]]');
  assert.equal(sortedForm(first.reply, false).toString('latin1'), '*2\r\n$3\r\nfoo\r\n%1\r\n+k\r\n~2\r\n:1\r\n:2\r\n');
  const second = parseReply(bytes, first.next);
  assert.equal(second?.reply.type, '_');
  assert.equal(second?.next, bytes.length);
  // Incomplete replies need more bytes.
  assert.equal(parseReply(Buffer.from('*2\r\n$3\r\nfoo\r\n'), 0), null);
  assert.equal(parseReply(Buffer.from('$5\r\nab'), 0), null);
});

test('harness: reports lines whose replies differ', async () => {
  assert.ok(harness, 'servers did not start');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mnemo-diff-selfcheck-'));
  try {
    const file = path.join(dir, 'selfcheck.txt');
    // The two servers listen on different ports, so CONFIG GET port always differs.
    writeFileSync(file, 'PING\nCONFIG GET port\n!type PING\n');
    const mismatches = await harness.runFile(file);
    assert.deepEqual(mismatches.map((m) => m.line), [2]);
    assert.match(formatMismatches(mismatches, harness.labels), /selfcheck\.txt:2: CONFIG GET port/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
