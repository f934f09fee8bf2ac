/**
 * Whole-image round trips: every type in every encoding is written as an RDB
 * image and read back into another server with identical contents,
 * encodings, TTLs and digest; with and without compression, and with other
 * list node sizes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newServer, populate, image, dataset, client, run } from './rdb-helpers.js';
import { loadRdb } from '../../src/persistence/index.js';
import { datasetDigest } from '../../src/persistence/rdb/digest.js';
import { RdbParser } from '../../src/persistence/rdb/loader.js';
import { limitsFrom } from '../../src/persistence/rdb/decode.js';
import { Database } from '../../src/db/database.js';

const CONFIGS: Array<Record<string, string>> = [{}, { rdbcompression: 'no' }, { 'list-max-listpack-size': '5' }, { rdbchecksum: 'no' }];
for (const config of CONFIGS) {
  test(`round trip of every type and encoding (${JSON.stringify(config)})`, () => {
    const a = newServer(config);
    populate(a);
    const buf = image(a);
    assert.equal(buf.latin1Slice(0, 9), 'REDIS0010');
    const b = newServer(config);
    const res = loadRdb(b, buf);
    assert.equal(res.consumed, buf.length);
    assert.equal(res.keysLoaded, a.dbs.reduce((n, db) => n + db.size, 0));
    assert.deepEqual(dataset(b), dataset(a));
    assert.equal(datasetDigest(b.dbs).toString('hex'), datasetDigest(a.dbs).toString('hex'));
    // Writing the loaded data again gives the same bytes (ctime/used-mem aux aside): stable encoding.
    const again = image(b);
    assert.equal(again.length, buf.length);
  });
}

test('an empty dataset is a valid image', () => {
  const a = newServer();
  const buf = image(a);
  const b = newServer();
  assert.equal(loadRdb(b, buf).keysLoaded, 0);
  assert.equal(b.dbs[0].size, 0);
});

test('loading replaces the current contents and reports WATCHed keys as touched', () => {
  const a = newServer();
  const c = client(a);
  run(a, c, 'SET', 'k', 'from-image');
  const buf = image(a);
  const b = newServer();
  const cb = client(b);
  run(b, cb, 'SET', 'old', 'x');
  run(b, cb, 'WATCH', 'old');
  loadRdb(b, buf);
  assert.equal(run(b, cb, 'GET', 'old'), '$-1\r\n');
  assert.equal(run(b, cb, 'GET', 'k'), '$10\r\nfrom-image\r\n');
  run(b, cb, 'MULTI');
  run(b, cb, 'PING');
  assert.equal(run(b, cb, 'EXEC'), '*-1\r\n');
});

test('keys already expired are skipped at load, counted, and kept for an AOF preamble', () => {
  const a = newServer();
  const c = client(a);
  run(a, c, 'SET', 'gone', 'v', 'PX', '50');
  run(a, c, 'SET', 'stays', 'v');
  const buf = image(a);
  a.clock.advance(1000);
  const b = newServer();
  b.clock.freeze(a.clock.now());
  const res = loadRdb(b, buf);
  assert.deepEqual([res.keysLoaded, res.keysExpired], [1, 1]);
  const p = newServer();
  p.clock.freeze(a.clock.now());
  assert.equal(loadRdb(p, buf, { aofPreamble: true }).keysLoaded, 2);
});

test('an image followed by other bytes (AOF preamble) reports where it ends', () => {
  const a = newServer();
  run(a, client(a), 'SET', 'k', 'v');
  const buf = Buffer.concat([image(a), Buffer.from('*1\r\n$4\r\nPING\r\n')]);
  const b = newServer();
  const res = loadRdb(b, buf, { aofPreamble: true });
  assert.equal(buf.subarray(res.consumed).toString(), '*1\r\n$4\r\nPING\r\n');
});

test('loading a slice at a time gives the same result as one pass', () => {
  const a = newServer();
  populate(a);
  const buf = image(a);
  const staged = a.dbs.map((db) => new Database(db.id, a));
  const parser = new RdbParser(buf, staged, { limits: limitsFrom(a.config), now: a.clock.now(), verifyChecksum: true });
  let steps = 0;
  while (!parser.step(1)) steps++;
  assert.ok(steps > 20);
  assert.equal(datasetDigest(staged).toString('hex'), datasetDigest(a.dbs).toString('hex'));
});

test('loaded values take the encoding the current limits give them', () => {
  const a = newServer();
  const c = client(a);
  run(a, c, 'HSET', 'h', 'a', '1', 'b', '2', 'c', '3');
  run(a, c, 'ZADD', 'z', '1', 'a', '2', 'b', '3', 'c');
  run(a, c, 'SADD', 's', '1', '2', '3');
  const b = newServer({ 'hash-max-listpack-entries': '2', 'zset-max-listpack-entries': '2', 'set-max-intset-entries': '2' });
  loadRdb(b, image(a));
  const enc = (k: string) => (b.dbs[0].keys.get(k) as { encoding(): string }).encoding();
  assert.deepEqual([enc('h'), enc('z'), enc('s')], ['hashtable', 'skiplist', 'hashtable']);
});
