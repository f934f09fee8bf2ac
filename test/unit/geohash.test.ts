/**
 * The geohash arithmetic (src/util/geohash.ts) against values read from a
 * real redis-server 7.0.15: GEOADD scores (ZSCORE), GEOPOS coordinates,
 * GEOHASH strings, GEODIST distances in every unit, distances stored with
 * STOREDIST (17 digits), and the positions non-geo scores decode to. Also the
 * correctly rounded sin/cos/asin on arguments where V8's Math functions and
 * glibc disagree, the search-area helpers, distance formatting, and Redis's
 * partial quicksort (shared with SORT).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cellArea,
  cellScoreRange,
  decodeScore,
  distance,
  encode,
  encodeScore,
  cellScoreText,
  estimateStepsByRadius,
  formatDistance,
  geohashString,
  isZeroCell,
  neighbors,
  preciseAsin,
  preciseCos,
  preciseSin,
  scoreCell,
  searchCells,
  type Shape,
} from '../../src/util/geohash.js';
import { formatDouble17g, formatDoubleHuman } from '../../src/util/numbers.js';
import { pqsort } from '../../src/commands/sort.js';

/** GEOADD lon lat -> ZSCORE, GEOPOS, GEOHASH, from Redis 7.0.15. */
const POINTS = [
  { lon: 13.361389, lat: 38.115556, score: '3479099956230698', pos: ['13.36138933897018433', '38.11555639549629859'], hash: 'sqc8b49rny0' },
  { lon: 15.087269, lat: 37.502669, score: '3479447370796909', pos: ['15.08726745843887329', '37.50266842333162032'], hash: 'sqdtr74hyu0' },
  { lon: -0.1276, lat: 51.5072, score: '2163557714838307', pos: ['-0.12760072946548462', '51.50720053692975853'], hash: 'gcpvj0e54w0' },
  { lon: 139.6503, lat: 35.6762, score: '4171230808121277', pos: ['139.65029865503311157', '35.67619905033515693'], hash: 'xn76cydhzv0' },
  { lon: -74.006, lat: 40.7128, score: '1791873974549446', pos: ['-74.0060010552406311', '40.71279898695150479'], hash: 'dr5regw3pp0' },
  { lon: 151.2093, lat: -33.8688, score: '3252046221964352', pos: ['151.20929986238479614', '-33.86880091934155956'], hash: 'r3gx2f77bj0' },
  { lon: -68.3031, lat: -54.8019, score: '650595395067727', pos: ['-68.30309897661209106', '-54.80189953730982211'], hash: '4qr2jxx5y30' },
  { lon: 180, lat: 0, score: '10133099161583616', pos: ['180', '0.00000126736058093'], hash: '80000000000' },
  { lon: -180, lat: 0, score: '1125899906842624', pos: ['-179.99999731779098511', '0.00000126736058093'], hash: '80000000000' },
  { lon: 0, lat: 85.05112878, score: '6755399441055744', pos: ['0.00000268220901489', '85.0511287799999991'], hash: 'up05b5048p0' },
  { lon: 0, lat: -85.05112878, score: '2251799813685248', pos: ['0.00000268220901489', '-85.05112751263942528'], hash: 'h0bh0hbj200' },
  { lon: 180, lat: 85.05112878, score: '13510798882111488', pos: ['180', '85.0511287799999991'], hash: 'bp05b5048p0' },
  { lon: 0, lat: 0, score: '3377699720527872', pos: ['0.00000268220901489', '0.00000126736058093'], hash: 's0000000000' },
  { lon: 179.99999999, lat: 1, score: '4128385558883306', pos: ['179.99999731779098511', '0.99999945914297683'], hash: 'xbpvxypcrv0' },
  { lon: -1e-7, lat: -1e-7, score: '1125899906842623', pos: ['-0.00000268220901489', '-0.00000126736058093'], hash: '7zzzzzzzzz0' },
  { lon: 12.34567891234, lat: -45.6789012345, score: '2353345770731159', pos: ['12.34567970037460327', '-45.67890072396315304'], hash: 'hrbu0umv550' },
];

const byName: Record<string, { lon: number; lat: number }> = {
  Palermo: POINTS[0],
  Catania: POINTS[1],
  London: POINTS[2],
  Tokyo: POINTS[3],
  NewYork: POINTS[4],
  Sydney: POINTS[5],
  Ushuaia: POINTS[6],
  e180: POINTS[7],
  w180: POINTS[8],
  north: POINTS[9],
  south: POINTS[10],
  origin: POINTS[12],
  almost: POINTS[13],
  tinyneg: POINTS[14],
};

/** GEODIST a b unit, from Redis 7.0.15. */
const DISTANCES: Array<[string, string, string, string]> = [
  ['Palermo', 'Catania', 'm', '166274.1516'],
  ['Palermo', 'Catania', 'km', '166.2742'],
  ['Palermo', 'Catania', 'mi', '103.3182'],
  ['Palermo', 'Catania', 'ft', '545518.8700'],
  ['London', 'Tokyo', 'm', '9561269.9573'],
  ['London', 'Tokyo', 'km', '9561.2700'],
  ['London', 'Tokyo', 'mi', '5941.1125'],
  ['London', 'Tokyo', 'ft', '31368995.9228'],
  ['NewYork', 'Sydney', 'm', '15993266.6495'],
  ['NewYork', 'Sydney', 'km', '15993.2666'],
  ['NewYork', 'Sydney', 'mi', '9937.7799'],
  ['NewYork', 'Sydney', 'ft', '52471347.2753'],
  ['e180', 'w180', 'm', '0.2983'],
  ['e180', 'w180', 'km', '0.0003'],
  ['e180', 'w180', 'mi', '0.0002'],
  ['e180', 'w180', 'ft', '0.9788'],
  ['north', 'south', 'm', '18919844.5891'],
  ['north', 'south', 'km', '18919.8446'],
  ['north', 'south', 'mi', '11756.2756'],
  ['north', 'south', 'ft', '62072980.9353'],
  ['Ushuaia', 'Tokyo', 'm', '17005949.8115'],
  ['Ushuaia', 'Tokyo', 'km', '17005.9498'],
  ['Ushuaia', 'Tokyo', 'mi', '10567.0336'],
  ['Ushuaia', 'Tokyo', 'ft', '55793798.5942'],
  ['origin', 'tinyneg', 'm', '0.6599'],
  ['origin', 'tinyneg', 'km', '0.0007'],
  ['origin', 'tinyneg', 'mi', '0.0004'],
  ['origin', 'tinyneg', 'ft', '2.1651'],
  ['almost', 'e180', 'm', '111226.0989'],
  ['almost', 'e180', 'km', '111.2261'],
  ['almost', 'e180', 'mi', '69.1129'],
  ['almost', 'e180', 'ft', '364915.0226'],
];

const UNITS: Record<string, number> = { m: 1, km: 1000, ft: 0.3048, mi: 1609.34 };

/** GEOSEARCHSTORE sd u FROMMEMBER Palermo BYRADIUS 20000 km STOREDIST: exact distances in km. */
const STORED_KM: Array<[string, string]> = [
  ['Palermo', '0'],
  ['Catania', '166.27415156960032'],
  ['London', '1824.3982790839536'],
  ['origin', '4454.7330204170848'],
  ['tinyneg', '4454.7334594471358'],
  ['NewYork', '7177.6782779740342'],
  ['Tokyo', '10126.871297855423'],
  ['Ushuaia', '12904.234378786276'],
  ['south', '13713.371136178817'],
  ['almost', '15459.216824827239'],
  ['w180', '15566.00070914368'],
  ['Sydney', '16230.616454666344'],
];

/** ZADD with arbitrary scores, then GEOPOS and GEOHASH (Redis converts the score with (uint64_t)). */
const ODD_SCORES: Array<[number, string, string, string]> = [
  [0, '-179.99999731779098511', '-85.05112751263942528', '00bh0hbj200'],
  [1, '-179.99999731779098511', '-85.05112497791824921', '00bh0hbj210'],
  [1.5, '-179.99999731779098511', '-85.05112497791824921', '00bh0hbj210'],
  [-1, '180', '85.0511287799999991', 'bp05b5048p0'],
  [1e300, '-179.99999731779098511', '-85.05112751263942528', '00bh0hbj200'],
  [Infinity, '-179.99999731779098511', '-85.05112751263942528', '00bh0hbj200'],
  [-Infinity, '180', '-85.05112751263942528', '00bh0hbj200'],
  [9007199254740992, '180', '-85.05112751263942528', '00bh0hbj200'],
];

function decodedOf(p: { lon: number; lat: number }): [number, number] {
  return decodeScore(encodeScore(p.lon, p.lat));
}


describe('encoding and decoding (values from Redis 7.0.15)', () => {
  test('GEOADD scores', () => {
    for (const p of POINTS) {
      assert.equal(cellScoreText(encode(p.lon, p.lat, 26)!), p.score, `${p.lon},${p.lat}`);
      assert.equal(encodeScore(p.lon, p.lat), Number(p.score), `${p.lon},${p.lat}`);
    }
  });

  test('GEOPOS decodes cell centres', () => {
    for (const p of POINTS) {
      const [lon, lat] = decodeScore(Number(p.score));
      assert.deepEqual([formatDoubleHuman(lon), formatDoubleHuman(lat)], p.pos, p.score);
    }
  });

  test('GEOHASH strings', () => {
    for (const p of POINTS) assert.equal(geohashString(Number(p.score)), p.hash, p.score);
  });

  test('scores that are not geohashes decode like (uint64_t)score in C', () => {
    for (const [score, lon, lat, hash] of ODD_SCORES) {
      const [x, y] = decodeScore(score);
      assert.deepEqual([formatDoubleHuman(x), formatDoubleHuman(y), geohashString(score)], [lon, lat, hash], String(score));
    }
  });

  test('encode refuses points outside the limits', () => {
    assert.equal(encode(180.0000001, 0, 26), null);
    assert.equal(encode(0, 85.05112879, 26), null);
    assert.equal(encode(0, -85.05112879, 26), null);
    assert.notEqual(encode(-180, -85.05112878, 26), null);
  });

  test('a coordinate on the upper edge keeps the index 2^step, as Redis', () => {
    const c = encode(180, 85.05112878, 26)!;
    assert.deepEqual([c.lon, c.lat], [2 ** 26, 2 ** 26]);
    assert.deepEqual(scoreCell(13510798882111488), { lat: 2 ** 26, lon: 2 ** 26, step: 26 });
  });
});

describe('distances (values from Redis 7.0.15)', () => {
  test('GEODIST in every unit', () => {
    for (const [a, b, unit, want] of DISTANCES) {
      const [lon1, lat1] = decodedOf(byName[a]);
      const [lon2, lat2] = decodedOf(byName[b]);
      assert.equal(formatDistance(distance(lon1, lat1, lon2, lat2) / UNITS[unit]), want, `${a} ${b} ${unit}`);
    }
  });

  test('STOREDIST distances to the last bit', () => {
    const [lon1, lat1] = decodedOf(byName.Palermo);
    const all: Record<string, { lon: number; lat: number }> = { ...byName, south: POINTS[10], w180: POINTS[8] };
    for (const [name, want] of STORED_KM) {
      const [lon2, lat2] = decodedOf(all[name]);
      assert.equal(formatDouble17g(distance(lon1, lat1, lon2, lat2) / 1000), want, name);
    }
  });

  test('equal longitudes take the meridian shortcut', () => {
    const d = distance(10, 20, 10, 21);
    assert.equal(d, 6372797.560856 * Math.abs(21 * (Math.PI / 180) - 20 * (Math.PI / 180)));
  });

  test('formatDistance rounds like llrint(d * 10000): ties to even', () => {
    assert.equal(formatDistance(0), '0.0000');
    assert.equal(formatDistance(-0), '0.0000');
    assert.equal(formatDistance(0.00005), '0.0000'); // 0.5 -> 0
    assert.equal(formatDistance(0.03125), '0.0312'); // 312.5 -> 312
    assert.equal(formatDistance(0.09375), '0.0938'); // 937.5 -> 938
    assert.equal(formatDistance(12.34565), '12.3456');
    assert.equal(formatDistance(123456.7), '123456.7000');
    assert.equal(formatDistance(NaN), '-922337203685477.5808');
  });
});

describe('correctly rounded trigonometry', () => {
  // Arguments where V8's Math.sin/cos/asin are an ulp off and glibc (and these) are right.
  const CASES: Array<[string, number, number]> = [
    ['sin', 0.87223974449542, 0.7657712654174749],
    ['sin', 0.5718928757454913, 0.5412246949735627],
    ['sin', -0.683251663528532, -0.6313181002025626],
    ['sin', 1.0370311178141245, 0.860897520421979],
    ['cos', -0.7749555414602636, 0.7144521417048125],
    ['cos', 0.9634263233316549, 0.5707098099101658],
    ['cos', -0.47281393242991565, 0.8902903686589654],
    ['cos', 0.9941995527571184, 0.5451740972912312],
    ['asin', 0.5440124501606007, 0.5752117174648478],
    ['asin', 0.5281973356072713, 0.5564761846643754],
    ['asin', 0.593373639272736, 0.6352436336098276],
    ['asin', 0.544178735647451, 0.5754099068366002],
  ];
  const fns: Record<string, (x: number) => number> = { sin: preciseSin, cos: preciseCos, asin: preciseAsin };

  test('known values', () => {
    for (const [f, x, want] of CASES) assert.equal(fns[f](x), want, `${f}(${x})`);
  });

  test('exact and special values', () => {
    assert.equal(preciseSin(0), 0);
    assert.ok(Object.is(preciseSin(-0), -0));
    assert.equal(preciseCos(0), 1);
    assert.equal(preciseAsin(1), Math.PI / 2);
    assert.equal(preciseAsin(-1), -Math.PI / 2);
    assert.equal(preciseAsin(0.5), 0.5235987755982989); // pi/6 rounded
    assert.ok(Number.isNaN(preciseAsin(1.0000000000000002)));
    assert.ok(Number.isNaN(preciseSin(Infinity)));
    assert.equal(preciseSin(Math.PI), 1.2246467991473532e-16);
    assert.equal(preciseCos(Math.PI / 2), 6.123233995736766e-17);
  });

  test('huge arguments are reduced exactly', () => {
    assert.equal(preciseCos(1e22), 0.523214785395139);
    assert.equal(preciseSin(1e22), -0.8522008497671888);
  });

  test('within an ulp of Math.sin/cos/asin everywhere', () => {
    const ulp = (x: number): number => {
      const a = Math.abs(x);
      return a === 0 ? Number.MIN_VALUE : 2 ** (Math.floor(Math.log2(a)) - 52);
    };
    for (let i = 0; i < 2000; i++) {
      const x = (i / 2000) * 7 - 3.5;
      assert.ok(Math.abs(preciseSin(x) - Math.sin(x)) <= ulp(Math.sin(x)), `sin ${x}`);
      assert.ok(Math.abs(preciseCos(x) - Math.cos(x)) <= ulp(Math.cos(x)), `cos ${x}`);
      const y = i / 2000;
      assert.ok(Math.abs(preciseAsin(y) - Math.asin(y)) <= ulp(Math.asin(y)), `asin ${y}`);
    }
  });
});

describe('search areas', () => {
  test('steps by radius, with the polar adjustments', () => {
    assert.equal(estimateStepsByRadius(0, 0), 26);
    assert.equal(estimateStepsByRadius(1, 0), 24);
    assert.equal(estimateStepsByRadius(1000, 0), 14);
    assert.equal(estimateStepsByRadius(1000, 70), 13);
    assert.equal(estimateStepsByRadius(1000, -85), 12);
    assert.equal(estimateStepsByRadius(5e6, 0), 2);
    assert.equal(estimateStepsByRadius(1e9, 0), 1);
  });

  test('neighbours wrap around the antimeridian', () => {
    const c = encode(179.99, 0, 4)!;
    const n = neighbors(c);
    assert.equal(n.east.lon, 0);
    assert.equal(n.west.lon, c.lon - 1);
    assert.equal(n.north.lat, c.lat + 1);
    assert.equal(n.north.lon, c.lon);
  });

  test('a cell covers the scores [min, max) of its points', () => {
    const c = encode(13.361389, 38.115556, 10)!;
    const [min, max] = cellScoreRange(c);
    const score = encodeScore(13.361389, 38.115556);
    assert.ok(min <= score && score < max);
    assert.equal(max - min, 2 ** 32);
    const a = cellArea(c);
    assert.ok(a.lonMin <= 13.361389 && 13.361389 < a.lonMax && a.latMin <= 38.115556 && 38.115556 < a.latMax);
  });

  test('nine cells, the useless ones zeroed', () => {
    const small: Shape = { lon: 15, lat: 37, conversion: 1000, type: 'circle', radius: 1, width: 0, height: 0 };
    const cells = searchCells(small);
    assert.equal(cells.length, 9);
    assert.ok(!isZeroCell(cells[0]));
    assert.ok(cells.some(isZeroCell));
    const huge: Shape = { lon: 0, lat: 0, conversion: 1000, type: 'circle', radius: 20000, width: 0, height: 0 };
    // Step 1: no cell is dropped.
    assert.ok(searchCells(huge).every((c) => c.step === 1));
  });
});

describe("Redis's partial quicksort", () => {
  test('orders the requested range, ties as Redis 7.0 leaves them', () => {
    // SORT pqcase BY pw_* ALPHA LIMIT 0 3 on Redis 7.0.15 replies e5 e2 e3.
    const weights = [0, 1, 0, 0, 2, 0, 3, 3];
    const items = weights.map((w, i) => ({ w, name: 'e' + i }));
    pqsort(items, (a, b) => a.w - b.w, 0, 2);
    assert.deepEqual(
      items.slice(0, 3).map((x) => x.name),
      ['e5', 'e2', 'e3'],
    );
  });

  test('the requested range holds what a full sort puts there', () => {
    let seed = 7;
    const rnd = (): number => (seed = (seed * 48271) % 2147483647) / 2147483647;
    for (let t = 0; t < 300; t++) {
      const n = 1 + Math.floor(rnd() * 200);
      const a = Array.from({ length: n }, () => Math.floor(rnd() * 50));
      const lo = Math.floor(rnd() * n);
      const hi = lo + Math.floor(rnd() * (n - lo));
      const b = a.slice();
      pqsort(b, (x, y) => x - y, lo, hi);
      const full = a.slice().sort((x, y) => x - y);
      assert.deepEqual(b.slice(lo, hi + 1), full.slice(lo, hi + 1));
      assert.deepEqual(b.slice().sort((x, y) => x - y), full);
    }
  });
});
