// The AOF manifest: Redis 7.0's text format, both directions, and its refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AofManifestError,
  baseFileName,
  formatManifest,
  incrFileName,
  manifestName,
  needsQuoting,
  parseManifest,
  tempBaseName,
  tempIncrName,
  tempManifestName,
} from '../../src/persistence/aof/manifest.js';

// Written by redis-server 7.0.15 after two rewrites.
const REDIS_MANIFEST = 'file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n';

test('parses a manifest written by Redis and formats it back byte for byte', () => {
  const m = parseManifest(REDIS_MANIFEST);
  assert.deepEqual(m.base, { name: 'appendonly.aof.2.base.rdb', seq: 2, type: 'b' });
  assert.deepEqual(m.incrs, [{ name: 'appendonly.aof.2.incr.aof', seq: 2, type: 'i' }]);
  assert.deepEqual(m.history, []);
  assert.equal(m.baseSeq, 2);
  assert.equal(m.incrSeq, 2);
  assert.equal(formatManifest(m), REDIS_MANIFEST);
});

test('writes base, then history, then incr files whatever the input order', () => {
  const text =
    'file a.1.incr.aof seq 1 type i\n' +
    'file a.1.base.aof seq 1 type h\n' +
    'file a.2.base.rdb seq 2 type b\n' +
    'file a.2.incr.aof seq 2 type i\n';
  const m = parseManifest(text);
  assert.equal(
    formatManifest(m),
    'file a.2.base.rdb seq 2 type b\nfile a.1.base.aof seq 1 type h\nfile a.1.incr.aof seq 1 type i\nfile a.2.incr.aof seq 2 type i\n',
  );
  assert.equal(m.incrSeq, 2);
});

test('accepts comments, quoted names, extra key/value pairs and keys in any case or order', () => {
  const m = parseManifest('# written by hand\nfile "x.1.base.aof" seq 1 type b extra 1\nTYPE i SEQ 3 FILE x.3.incr.aof\n');
  assert.equal(m.base?.name, 'x.1.base.aof');
  assert.deepEqual(m.incrs, [{ name: 'x.3.incr.aof', seq: 3, type: 'i' }]);
});

test('quotes file names that need it, as sdscatrepr, and reads them back', () => {
  const names = ['with space.aof', 'quote"d', 'tab\there', 'bin\x01\xff', 'back\\slash'];
  for (const name of names) {
    assert.equal(needsQuoting(name), true, name);
    const m = parseManifest(`file x seq 1 type b\n`);
    m.base = { name, seq: 1, type: 'b' };
    const text = formatManifest(m);
    assert.ok(text.startsWith('file "'), text);
    assert.equal(parseManifest(text).base?.name, name);
  }
  assert.equal(needsQuoting('appendonly.aof.1.incr.aof'), false);
  const m = parseManifest('file x seq 1 type b\n');
  m.base = { name: 'a b', seq: 1, type: 'b' };
  assert.equal(formatManifest(m), 'file "a b" seq 1 type b\n');
  m.base = { name: 'é', seq: 1, type: 'b' };
  assert.equal(formatManifest(m), 'file "\\xe9" seq 1 type b\n');
});

function refusal(text: string): AofManifestError {
  try {
    parseManifest(text);
  } catch (e) {
    assert.ok(e instanceof AofManifestError);
    return e;
  }
  assert.fail(`accepted: ${JSON.stringify(text)}`);
}

test("refuses what Redis refuses, with Redis's messages and the line at fault", () => {
  let e = refusal('');
  assert.equal(e.reason, 'Found an empty AOF manifest');
  assert.equal(e.message, '*** FATAL AOF MANIFEST FILE ERROR ***\nFound an empty AOF manifest');

  e = refusal('file a seq 1 type b\nfile b seq 2 type b\n');
  assert.equal(e.reason, 'Found duplicate base file information');
  assert.equal(e.line, 2);
  assert.equal(e.message, "*** FATAL AOF MANIFEST FILE ERROR ***\nReading the manifest file, at line 2\n>>> 'file b seq 2 type b'\nFound duplicate base file information");

  assert.equal(refusal('file a seq 1 type x\n').reason, 'Unknown AOF file type');
  assert.equal(refusal('file a seq 2 type i\nfile b seq 2 type i\n').reason, 'Found a non-monotonic sequence number');
  assert.equal(refusal('file a seq 3 type i\nfile b seq 1 type i\n').reason, 'Found a non-monotonic sequence number');
  assert.equal(refusal('file a seq 1 type b\n\n').reason, 'Invalid AOF manifest file format');
  assert.equal(refusal('file a seq 1\n').reason, 'Invalid AOF manifest file format');
  assert.equal(refusal('file a seq 1 type\n').reason, 'Invalid AOF manifest file format');
  assert.equal(refusal('file a seq 0 type b\n').reason, 'Invalid AOF manifest file format');
  assert.equal(refusal('name a seq 1 type b\n').reason, 'Invalid AOF manifest file format');
  assert.equal(refusal('file "a seq 1 type b\n').reason, 'Invalid AOF manifest file format');
  assert.equal(refusal('file dir/a seq 1 type b\n').reason, "File can't be a path, just a filename");
  assert.equal(refusal(`file ${'a'.repeat(1100)} seq 1 type b\n`).reason, 'The AOF manifest file contains too long line');
  // fgets semantics: a last line without its newline reads as an over-long line.
  assert.equal(refusal('file a seq 1 type b').reason, 'The AOF manifest file contains too long line');
});

test("file names follow Redis's scheme", () => {
  assert.equal(manifestName('appendonly.aof'), 'appendonly.aof.manifest');
  assert.equal(baseFileName('appendonly.aof', 3, true), 'appendonly.aof.3.base.rdb');
  assert.equal(baseFileName('appendonly.aof', 3, false), 'appendonly.aof.3.base.aof');
  assert.equal(incrFileName('appendonly.aof', 7), 'appendonly.aof.7.incr.aof');
  assert.equal(tempManifestName('appendonly.aof'), 'temp-appendonly.aof.manifest');
  assert.equal(tempIncrName('appendonly.aof'), 'temp-appendonly.aof.incr');
  assert.equal(tempBaseName(42), 'temp-rewriteaof-bg-42.aof');
});
