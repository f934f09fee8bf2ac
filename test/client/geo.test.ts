/**
 * Geospatial commands through real clients (ioredis, node-redis): the Sicily
 * examples of the Redis documentation (expected values read from
 * redis-server 7.0.15), node-redis's GEO helpers, geo members handled with
 * Z* commands, searches checked against GEODIST on many random points,
 * GEOADD propagated as ZADD with exact scores, and keyspace events.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from 'redis';
import type { ServerHandle } from '../../src/index.js';
import { serverWithClientPool } from '../helpers/server.js';
import { captureEvents, propagated } from '../helpers/observe.js';

let handle: ServerHandle;
const connect = serverWithClientPool((h) => (handle = h));

describe('ioredis: the documentation examples', () => {
  test('GEOADD, GEODIST, GEOPOS, GEOHASH on Sicily', async () => {
    const r = connect();
    await r.del('Sicily');
    assert.equal(await r.geoadd('Sicily', 13.361389, 38.115556, 'Palermo', 15.087269, 37.502669, 'Catania'), 2);
    assert.equal(await r.geodist('Sicily', 'Palermo', 'Catania'), '166274.1516');
    assert.equal(await r.geodist('Sicily', 'Palermo', 'Catania', 'KM'), '166.2742');
    assert.equal(await r.geodist('Sicily', 'Palermo', 'Catania', 'MI'), '103.3182');
    assert.equal(await r.geodist('Sicily', 'Foo', 'Bar'), null);
    assert.deepEqual(await r.geopos('Sicily', 'Palermo', 'Catania', 'NonExisting'), [
      ['13.36138933897018433', '38.11555639549629859'],
      ['15.08726745843887329', '37.50266842333162032'],
      null,
    ]);
    assert.deepEqual(await r.geohash('Sicily', 'Palermo', 'Catania'), ['sqc8b49rny0', 'sqdtr74hyu0']);
    assert.equal(await r.zscore('Sicily', 'Palermo'), '3479099956230698');
  });

  test('GEORADIUS with every WITH option', async () => {
    const r = connect();
    await r.del('Sicily');
    await r.geoadd('Sicily', 13.361389, 38.115556, 'Palermo', 15.087269, 37.502669, 'Catania');
    assert.deepEqual(await r.georadius('Sicily', 15, 37, 200, 'km', 'WITHDIST', 'WITHCOORD', 'WITHHASH', 'ASC'), [
      ['Catania', '56.4413', 3479447370796909, ['15.08726745843887329', '37.50266842333162032']],
      ['Palermo', '190.4424', 3479099956230698, ['13.36138933897018433', '38.11555639549629859']],
    ]);
    assert.deepEqual(await r.georadius('Sicily', 15, 37, 100, 'km'), ['Catania']);
    assert.deepEqual(await r.georadiusbymember('Sicily', 'Palermo', 300, 'km', 'ASC'), ['Palermo', 'Catania']);
  });

  test('GEOSEARCH by box and GEOSEARCHSTORE STOREDIST', async () => {
    const r = connect();
    await r.del('Sicily', 'dst');
    await r.geoadd('Sicily', 13.361389, 38.115556, 'Palermo', 15.087269, 37.502669, 'Catania');
    await r.geoadd('Sicily', 12.758489, 38.788135, 'edge1', 17.24151, 38.788135, 'edge2');
    assert.deepEqual(await r.geosearch('Sicily', 'FROMLONLAT', 15, 37, 'BYRADIUS', 200, 'km', 'ASC'), ['Catania', 'Palermo']);
    assert.deepEqual(await r.geosearch('Sicily', 'FROMLONLAT', 15, 37, 'BYBOX', 400, 400, 'km', 'ASC', 'WITHCOORD', 'WITHDIST'), [
      ['Catania', '56.4413', ['15.08726745843887329', '37.50266842333162032']],
      ['Palermo', '190.4424', ['13.36138933897018433', '38.11555639549629859']],
      ['edge2', '279.7403', ['17.24151045083999634', '38.78813451624225195']],
      ['edge1', '279.7405', ['12.7584877610206604', '38.78813451624225195']],
    ]);
    assert.equal(await r.geosearchstore('dst', 'Sicily', 'FROMLONLAT', 15, 37, 'BYRADIUS', 200, 'km', 'STOREDIST'), 2);
    assert.deepEqual(await r.zrange('dst', 0, -1, 'WITHSCORES'), ['Catania', '56.441257870158204', 'Palermo', '190.44242984775784']);
  });

  test('errors', async () => {
    const r = connect();
    await r.set('str', 'x');
    await assert.rejects(r.geoadd('g', 181, 1, 'm'), /ERR invalid longitude,latitude pair 181\.000000,1\.000000/);
    await assert.rejects(r.geoadd('str', 1, 1, 'm'), /WRONGTYPE/);
    await assert.rejects(r.call('GEOSEARCH', 'g', 'BYRADIUS', '1', 'km', 'ASC', 'WITHDIST'), /exactly one of FROMMEMBER or FROMLONLAT/);
    await assert.rejects(r.call('GEOSEARCH', 'g', 'FROMLONLAT', '0', '0', 'BYRADIUS', '1', 'km', 'ANY'), /the ANY argument requires COUNT argument/);
    await assert.rejects(r.call('GEODIST', 'g', 'a', 'b', 'yards'), /unsupported unit provided/);
  });
});

describe('geo members are sorted set members', () => {
  test('Z* commands work on them and GEO commands on any zset', async () => {
    const r = connect();
    await r.del('places');
    await r.geoadd('places', 2.3522, 48.8566, 'Paris', -0.1276, 51.5072, 'London', 13.405, 52.52, 'Berlin');
    assert.equal(await r.zcard('places'), 3);
    assert.equal(await r.type('places'), 'zset');
    assert.deepEqual(await r.zrange('places', 0, -1), ['London', 'Paris', 'Berlin']);
    assert.equal(await r.zrem('places', 'Paris'), 1);
    assert.deepEqual(await r.geosearch('places', 'FROMMEMBER', 'London', 'BYRADIUS', 2000, 'km', 'ASC'), ['London', 'Berlin']);
    // A member added with ZADD at a geo score is a point like any other.
    const score = await r.zscore('places', 'Berlin');
    await r.zadd('places', score!, 'Berlin2');
    assert.deepEqual(await r.geopos('places', 'Berlin2'), await r.geopos('places', 'Berlin'));
    assert.equal(await r.geodist('places', 'Berlin', 'Berlin2'), '0.0000');
  });

  test('GEOADD NX / XX / CH reply like ZADD', async () => {
    const r = connect();
    await r.del('opts');
    assert.equal(await r.geoadd('opts', 1, 1, 'a'), 1);
    assert.equal(await r.call('GEOADD', 'opts', 'CH', 2, 2, 'a', 3, 3, 'b'), 2);
    assert.equal(await r.geoadd('opts', 'NX', 9, 9, 'a', 4, 4, 'c'), 1);
    assert.equal(await r.call('GEOADD', 'opts', 'XX', 'CH', 5, 5, 'a', 6, 6, 'd'), 1);
    assert.deepEqual(await r.zrange('opts', 0, -1), ['b', 'c', 'a']);
  });

  test('radius searches return exactly the points GEODIST puts inside', async () => {
    const r = connect();
    await r.del('rnd');
    let seed = 12345;
    const rnd = (): number => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const args: Array<string | number> = [];
    for (let i = 0; i < 600; i++) args.push(-5 + rnd() * 10, 40 + rnd() * 8, 'p' + i);
    await r.geoadd('rnd', ...args);
    for (const [center, km] of [['p0', 50], ['p1', 200], ['p2', 400], ['p3', 5]] as const) {
      const found = new Set(await r.geosearch('rnd', 'FROMMEMBER', center, 'BYRADIUS', km, 'km'));
      const p = r.pipeline();
      for (let i = 0; i < 600; i++) p.geodist('rnd', center, 'p' + i, 'KM');
      const dists = (await p.exec())!.map(([, d]) => Number(d));
      for (let i = 0; i < 600; i++) {
        // Skip points within the 4-decimal rounding of the edge.
        if (Math.abs(dists[i] - km) < 0.001) continue;
        assert.equal(found.has('p' + i), dists[i] < km, `${center} ${km} km: p${i} at ${dists[i]}`);
      }
    }
  });
});

describe('effects', () => {
  test('GEOADD propagates as ZADD with the exact integer scores', async () => {
    const r = connect();
    await r.del('prop');
    const log = await propagated(handle, async () => {
      await r.call('GEOADD', 'prop', 'CH', 13.361389, 38.115556, 'Palermo', 180, 0, 'edge');
      await r.geoadd('prop', 'NX', 13.361389, 38.115556, 'Palermo'); // no change: nothing propagated
    });
    assert.deepEqual(log, [['zadd', 'prop', 'CH', '3479099956230698', 'Palermo', '10133099161583616', 'edge']]);
  });

  test('GEOSEARCHSTORE and GEORADIUS STORE propagate as themselves', async () => {
    const r = connect();
    await r.del('src', 'out');
    await r.geoadd('src', 1, 1, 'a', 1.1, 1.1, 'b');
    const log = await propagated(handle, async () => {
      await r.geosearchstore('out', 'src', 'FROMMEMBER', 'a', 'BYRADIUS', 100, 'km');
      await r.georadius('src', 1, 1, 100, 'km', 'STORE', 'out');
      await r.geosearch('src', 'FROMMEMBER', 'a', 'BYRADIUS', 100, 'km'); // read-only
    });
    assert.deepEqual(log, [
      ['geosearchstore', 'out', 'src', 'FROMMEMBER', 'a', 'BYRADIUS', '100', 'km'],
      ['georadius', 'src', '1', '1', '100', 'km', 'STORE', 'out'],
    ]);
  });

  test('keyspace events: zadd, geosearchstore, georadiusstore, del', async () => {
    const r = connect();
    await r.del('ev', 'evout');
    const events = await captureEvents(handle, async () => {
      await r.geoadd('ev', 1, 1, 'a');
      await r.geosearchstore('evout', 'ev', 'FROMMEMBER', 'a', 'BYRADIUS', 1, 'km');
      await r.georadius('ev', 1, 1, 1, 'km', 'STOREDIST', 'evout');
      await r.georadiusbymember('ev', 'a', 1, 'km', 'STORE', 'evout');
      await r.georadius('ev', 50, 50, 1, 'km', 'STORE', 'evout'); // nothing found: the destination goes
      await r.geosearchstore('evout', 'nokey', 'FROMLONLAT', 0, 0, 'BYRADIUS', 1, 'km'); // already gone: no event
    });
    assert.deepEqual(events, ['zadd ev', 'geosearchstore evout', 'georadiusstore evout', 'georadiusstore evout', 'del evout']);
    assert.equal(await r.exists('evout'), 0);
  });

  test('a stored result replaces the destination and its TTL', async () => {
    const r = connect();
    await r.del('t1', 'tout');
    await r.geoadd('t1', 1, 1, 'a');
    await r.set('tout', 'x', 'EX', 100);
    assert.equal(await r.georadius('t1', 1, 1, 10, 'km', 'STORE', 'tout'), 1);
    assert.equal(await r.ttl('tout'), -1);
    assert.equal(await r.type('tout'), 'zset');
  });
});

describe('node-redis', () => {
  test('geoAdd, geoPos, geoDist, geoHash, geoSearch, geoSearchWith, geoRadiusStore', async () => {
    const client = createClient({ url: `redis://${handle.host}:${handle.port}` });
    await client.connect();
    try {
      await client.del(['nr', 'nrout']);
      assert.equal(
        await client.geoAdd('nr', [
          { longitude: 13.361389, latitude: 38.115556, member: 'Palermo' },
          { longitude: 15.087269, latitude: 37.502669, member: 'Catania' },
        ]),
        2,
      );
      assert.deepEqual(await client.geoPos('nr', ['Palermo', 'nobody']), [
        { longitude: '13.36138933897018433', latitude: '38.11555639549629859' },
        null,
      ]);
      assert.equal(await client.geoDist('nr', 'Palermo', 'Catania', 'km'), 166.2742);
      assert.deepEqual(await client.geoHash('nr', ['Palermo', 'Catania']), ['sqc8b49rny0', 'sqdtr74hyu0']);
      assert.deepEqual(await client.geoSearch('nr', { longitude: 15, latitude: 37 }, { radius: 200, unit: 'km' }, { SORT: 'ASC' }), [
        'Catania',
        'Palermo',
      ]);
      const withDist = await client.geoSearchWith('nr', 'Palermo', { width: 400, height: 400, unit: 'km' }, ['WITHDIST' as never], {
        SORT: 'DESC',
        COUNT: 1,
      });
      assert.deepEqual(withDist, [{ member: 'Catania', distance: '166.2742' }]);
      assert.equal(await client.geoRadiusStore('nr', { longitude: 15, latitude: 37 }, 200, 'km', 'nrout', { STOREDIST: true }), 2);
      assert.deepEqual(await client.zRangeWithScores('nrout', 0, -1), [
        { value: 'Catania', score: 56.441257870158204 },
        { value: 'Palermo', score: 190.44242984775784 },
      ]);
    } finally {
      await client.quit();
    }
  });
});
