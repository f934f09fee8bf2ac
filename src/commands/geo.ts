/**
 * Geospatial commands (Redis 7.0's geo.c): GEOADD GEOPOS GEODIST GEOHASH
 * GEOSEARCH GEOSEARCHSTORE GEORADIUS GEORADIUSBYMEMBER and the _RO forms.
 *
 * Points live in a plain sorted set whose scores are 52-bit geohashes (see
 * src/util/geohash.ts), so every Z* command works on them. GEOADD is ZADD
 * with computed scores: like Redis it rewrites itself into a ZADD call (which
 * is also what reaches replicas and the AOF).
 *
 * Searches scan the score ranges of the nine cells Redis picks, in Redis's
 * order, keep the points inside the circle or box, then sort by distance
 * when asked (or when COUNT is given without ANY): a stable sort when every
 * result is returned, Redis's partial quicksort when COUNT cuts the list, so
 * points at equal distances come out in Redis's order too. Option parsing,
 * error texts and their precedence follow georadiusGeneric.
 */
import type { CommandImpl } from '../server/command-table.js';
import type { Client } from '../server/client.js';
import { ZSetValue, isZSet } from '../data/zset.js';
import type { Value } from '../data/values.js';
import { formatDoubleHuman, formatFixed, parseDouble, parseInt64 } from '../util/numbers.js';
import {
  GEO_LAT_MAX,
  GEO_LAT_MIN,
  GEO_LONG_MAX,
  GEO_LONG_MIN,
  cellScoreRange,
  cellScoreText,
  decodeScore,
  decodeScoreTo,
  distance,
  distanceIfInShape,
  encode,
  formatDistance,
  geohashString,
  isZeroCell,
  searchCells,
  GEO_STEP_MAX,
  type Cell,
  type Shape,
} from '../util/geohash.js';
import { pqsort } from './sort.js';
import { optIs } from './strings.js';
import { ERR_NOT_INT, ERR_SYNTAX, WRONGTYPE } from './errors.js';

const ERR_NOT_FLOAT = 'ERR value is not a valid float';
const ERR_UNIT = 'ERR unsupported unit provided. please use M, KM, FT, MI';
const ERR_MEMBER = 'ERR could not decode requested zset member';

/** The sorted set at `v`: undefined when missing, null after replying WRONGTYPE. */
function asZSet(c: Client, v: Value | undefined): ZSetValue | undefined | null {
  if (v === undefined) return undefined;
  if (!isZSet(v)) {
    c.addError(WRONGTYPE);
    return null;
  }
  return v;
}

/** getDoubleFromObjectOrReply with an optional custom message. */
function parseDoubleOrReply(c: Client, arg: string, msg = ERR_NOT_FLOAT): number | null {
  const d = parseDouble(arg);
  if (d === null) c.addError(msg);
  return d;
}

/** extractLongLatOrReply: a longitude and latitude within the Redis limits, or null after replying. */
function parseLonLat(c: Client, argv: string[], at: number): [number, number] | null {
  const lon = parseDoubleOrReply(c, argv[at]);
  if (lon === null) return null;
  const lat = parseDoubleOrReply(c, argv[at + 1]);
  if (lat === null) return null;
  if (lon < GEO_LONG_MIN || lon > GEO_LONG_MAX || lat < GEO_LAT_MIN || lat > GEO_LAT_MAX) {
    c.addError(`ERR invalid longitude,latitude pair ${formatFixed(lon, 6)},${formatFixed(lat, 6)}`);
    return null;
  }
  return [lon, lat];
}

/** extractUnitOrReply: meters per unit, or -1 after replying. */
function parseUnit(c: Client, arg: string): number {
  if (optIs(arg, 'm')) return 1;
  if (optIs(arg, 'km')) return 1000;
  if (optIs(arg, 'ft')) return 0.3048;
  if (optIs(arg, 'mi')) return 1609.34;
  c.addError(ERR_UNIT);
  return -1;
}

/** A coordinate as addReplyHumanLongDouble writes it: a bulk string in RESP2, a double in RESP3. */
function addHumanDouble(c: Client, d: number): void {
  const s = formatDoubleHuman(d);
  if (c.resp === 3) c.addRaw(',' + s + '\r\n');
  else c.addBulk(s);
}

// ---- GEOADD / GEOPOS / GEODIST / GEOHASH ------------------------------------------------------

function geoadd(c: Client, argv: string[]): void {
  let xx = false;
  let nx = false;
  let at = 2;
  for (; at < argv.length; at++) {
    const opt = argv[at];
    if (optIs(opt, 'nx')) nx = true;
    else if (optIs(opt, 'xx')) xx = true;
    else if (!optIs(opt, 'ch')) break;
  }
  if ((argv.length - at) % 3 !== 0 || (xx && nx)) {
    c.addError(ERR_SYNTAX);
    return;
  }
  // ZADD key [options] score member ...: the options are passed through as given.
  const zargv = ['zadd', ...argv.slice(1, at)];
  for (let i = at; i < argv.length; i += 3) {
    const xy = parseLonLat(c, argv, i);
    if (xy === null) return;
    zargv.push(cellScoreText(encode(xy[0], xy[1], GEO_STEP_MAX)!), argv[i + 2]);
  }
  const zadd = c.server.table.lookup('zadd');
  if (zadd === undefined || zadd.handler === null) {
    c.addError('ERR unknown command');
    return;
  }
  c.propagateAs = zargv;
  zadd.handler(c, zargv);
}

function geopos(c: Client, argv: string[]): void {
  const z = asZSet(c, c.db.lookupRead(argv[1]));
  if (z === null) return;
  c.addArrayLen(argv.length - 2);
  for (let j = 2; j < argv.length; j++) {
    const score = z === undefined ? undefined : z.score(argv[j]);
    if (score === undefined) {
      c.addNullArray();
      continue;
    }
    const [lon, lat] = decodeScore(score);
    c.addArrayLen(2);
    addHumanDouble(c, lon);
    addHumanDouble(c, lat);
  }
}

function geodist(c: Client, argv: string[]): void {
  let toMeter = 1;
  if (argv.length === 5) {
    toMeter = parseUnit(c, argv[4]);
    if (toMeter < 0) return;
  } else if (argv.length > 5) {
    c.addError(ERR_SYNTAX);
    return;
  }
  const z = asZSet(c, c.db.lookupRead(argv[1]));
  if (z === null) return;
  const s1 = z === undefined ? undefined : z.score(argv[2]);
  const s2 = z === undefined || s1 === undefined ? undefined : z.score(argv[3]);
  if (s1 === undefined || s2 === undefined) {
    c.addNull();
    return;
  }
  const [lon1, lat1] = decodeScore(s1);
  const [lon2, lat2] = decodeScore(s2);
  c.addBulk(formatDistance(distance(lon1, lat1, lon2, lat2) / toMeter));
}

function geohash(c: Client, argv: string[]): void {
  const z = asZSet(c, c.db.lookupRead(argv[1]));
  if (z === null) return;
  c.addArrayLen(argv.length - 2);
  for (let j = 2; j < argv.length; j++) {
    const score = z === undefined ? undefined : z.score(argv[j]);
    if (score === undefined) c.addNull();
    else c.addBulk(geohashString(score));
  }
}

// ---- searches -------------------------------------------------------------------------------

/** A point found by a search (geoPoint). */
interface GeoPoint {
  lon: number;
  lat: number;
  /** Meters until the reply divides by the unit. */
  dist: number;
  score: number;
  member: string;
}

/** Scratch for decoded coordinates. */
const XY = new Float64Array(2);

/**
 * geoGetPointsInRange for one cell: the points with min <= score < max,
 * in set order, that lie in the shape. Stops once `limit` points (if not 0)
 * have been found overall. Distances are exact only when `exact` (they are
 * sorted on, replied or stored); otherwise only the decisions are.
 */
function pointsInCell(z: ZSetValue, cell: Cell, shape: Shape, out: GeoPoint[], limit: number, exact: boolean): void {
  const [min, max] = cellScoreRange(cell);
  const [first, last] = z.scoreRange({ min, max, minex: false, maxex: true });
  if (first > last) return;
  z.forRange(first, last, false, (member, score) => {
    decodeScoreTo(score, XY);
    const d = distanceIfInShape(shape, XY[0], XY[1], exact);
    if (d >= 0) out.push({ lon: XY[0], lat: XY[1], dist: d, score, member });
    return limit === 0 || out.length < limit;
  });
}

/** membersOfAllNeighbors: scans the cells, skipping zero cells and a cell equal to the last one scanned. */
function pointsInCells(z: ZSetValue, cells: Cell[], shape: Shape, limit: number, exact: boolean): GeoPoint[] {
  const out: GeoPoint[] = [];
  let lastProcessed = 0;
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i];
    if (isZeroCell(cell)) continue;
    // Huge radii make neighbours coincide. Redis compares with the last scanned
    // cell only, and never skips on account of the centre cell (index 0).
    const prev = cells[lastProcessed];
    if (lastProcessed !== 0 && cell.lat === prev.lat && cell.lon === prev.lon && cell.step === prev.step) continue;
    if (out.length !== 0 && limit !== 0 && out.length >= limit) break;
    pointsInCell(z, cell, shape, out, limit, exact);
    lastProcessed = i;
  }
  return out;
}

function byDistanceAsc(a: GeoPoint, b: GeoPoint): number {
  return a.dist === b.dist ? 0 : a.dist > b.dist ? 1 : -1;
}

function byDistanceDesc(a: GeoPoint, b: GeoPoint): number {
  return -byDistanceAsc(a, b);
}

/** Flags of georadiusGeneric. */
const RADIUS_COORDS = 1;
const RADIUS_MEMBER = 2;
const RADIUS_NOSTORE = 4;
const GEOSEARCH = 8;
const GEOSEARCHSTORE = 16;

const SORT_NONE = 0;
const SORT_ASC = 1;
const SORT_DESC = 2;

/** (long long)score as x86_64 converts it: truncation, LLONG_MIN when out of range. */
function scoreAsLongLong(score: number): number | bigint {
  if (!(Math.abs(score) < 9223372036854775808)) return -9223372036854775808n;
  return Math.trunc(score);
}

function georadiusGeneric(c: Client, argv: string[], srcKeyIndex: number, flags: number): void {
  const db = c.db;
  const z = asZSet(c, db.lookupRead(argv[srcKeyIndex]));
  if (z === null) return;

  let storekey: string | null = null;
  let storedist = false;
  const shape: Shape = { lon: 0, lat: 0, conversion: 0, type: 'circle', radius: 0, width: 0, height: 0 };

  let baseArgs: number;
  if (flags & RADIUS_COORDS) {
    baseArgs = 6;
    const xy = parseLonLat(c, argv, 2);
    if (xy === null) return;
    [shape.lon, shape.lat] = xy;
    if (!parseRadius(c, argv, baseArgs - 2, shape)) return;
  } else if (flags & RADIUS_MEMBER && z === undefined) {
    // No source key: parse the options anyway to know which empty reply to give.
    baseArgs = 5;
  } else if (flags & RADIUS_MEMBER) {
    baseArgs = 5;
    if (!memberPosition(c, z!, argv[2], shape)) return;
    if (!parseRadius(c, argv, baseArgs - 2, shape)) return;
  } else {
    baseArgs = 2;
    if (flags & GEOSEARCHSTORE) {
      baseArgs = 3;
      storekey = argv[1];
    }
  }

  let withdist = false;
  let withhash = false;
  let withcoords = false;
  let frommember = false;
  let fromloc = false;
  let byradius = false;
  let bybox = false;
  let sort = SORT_NONE;
  let any = false;
  let count = 0;
  const remaining = argv.length - baseArgs;
  for (let i = 0; i < remaining; i++) {
    const at = baseArgs + i;
    const arg = argv[at];
    if (optIs(arg, 'withdist')) {
      withdist = true;
    } else if (optIs(arg, 'withhash')) {
      withhash = true;
    } else if (optIs(arg, 'withcoord')) {
      withcoords = true;
    } else if (optIs(arg, 'any')) {
      any = true;
    } else if (optIs(arg, 'asc')) {
      sort = SORT_ASC;
    } else if (optIs(arg, 'desc')) {
      sort = SORT_DESC;
    } else if (optIs(arg, 'count') && i + 1 < remaining) {
      const n = parseInt64(argv[at + 1]);
      if (n === null) {
        c.addError(ERR_NOT_INT);
        return;
      }
      if (n <= 0) {
        c.addError('ERR COUNT must be > 0');
        return;
      }
      count = n;
      i++;
    } else if (optIs(arg, 'store') && i + 1 < remaining && !(flags & RADIUS_NOSTORE) && !(flags & GEOSEARCH)) {
      storekey = argv[at + 1];
      storedist = false;
      i++;
    } else if (optIs(arg, 'storedist') && i + 1 < remaining && !(flags & RADIUS_NOSTORE) && !(flags & GEOSEARCH)) {
      storekey = argv[at + 1];
      storedist = true;
      i++;
    } else if (optIs(arg, 'storedist') && flags & GEOSEARCH && flags & GEOSEARCHSTORE) {
      storedist = true;
    } else if (optIs(arg, 'frommember') && i + 1 < remaining && flags & GEOSEARCH && !fromloc) {
      // Without a source key the member is not looked up: the reply will be empty anyway.
      if (z !== undefined && !memberPosition(c, z, argv[at + 1], shape)) return;
      frommember = true;
      i++;
    } else if (optIs(arg, 'fromlonlat') && i + 2 < remaining && flags & GEOSEARCH && !frommember) {
      const xy = parseLonLat(c, argv, at + 1);
      if (xy === null) return;
      [shape.lon, shape.lat] = xy;
      fromloc = true;
      i += 2;
    } else if (optIs(arg, 'byradius') && i + 2 < remaining && flags & GEOSEARCH && !bybox) {
      if (!parseRadius(c, argv, at + 1, shape)) return;
      byradius = true;
      i += 2;
    } else if (optIs(arg, 'bybox') && i + 3 < remaining && flags & GEOSEARCH && !byradius) {
      if (!parseBox(c, argv, at + 1, shape)) return;
      bybox = true;
      i += 3;
    } else {
      c.addError(ERR_SYNTAX);
      return;
    }
  }

  if (storekey !== null && (withdist || withhash || withcoords)) {
    const what = flags & GEOSEARCHSTORE ? 'GEOSEARCHSTORE' : 'STORE option in GEORADIUS';
    c.addError(`ERR ${what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options`);
    return;
  }
  if (flags & GEOSEARCH && !(frommember || fromloc)) {
    c.addError(`ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for ${argv[0]}`);
    return;
  }
  if (flags & GEOSEARCH && !(byradius || bybox)) {
    c.addError(`ERR exactly one of BYRADIUS and BYBOX can be specified for ${argv[0]}`);
    return;
  }
  if (any && count === 0) {
    c.addError('ERR the ANY argument requires COUNT argument');
    return;
  }

  if (z === undefined) {
    if (storekey !== null) {
      if (db.delete(storekey)) {
        c.server.notifier.notify('g', 'del', storekey, db.id);
        c.server.dirty++;
      }
      c.addInt(0);
    } else {
      c.addEmptyArray();
    }
    return;
  }

  // COUNT means "the closest N": sort unless ANY asked for any N.
  if (count !== 0 && sort === SORT_NONE && !any) sort = SORT_ASC;

  const exact = sort !== SORT_NONE || withdist || storedist;
  const points = pointsInCells(z, searchCells(shape), shape, any ? count : 0, exact);
  if (points.length === 0 && storekey === null) {
    c.addEmptyArray();
    return;
  }
  const returned = count === 0 || points.length < count ? points.length : count;
  if (sort !== SORT_NONE) {
    const cmp = sort === SORT_ASC ? byDistanceAsc : byDistanceDesc;
    if (returned === points.length) points.sort(cmp); // stable, like glibc's qsort
    else pqsort(points, cmp, 0, returned - 1);
  }

  if (storekey === null) {
    const options = (withdist ? 1 : 0) + (withcoords ? 1 : 0) + (withhash ? 1 : 0);
    c.addArrayLen(returned);
    for (let i = 0; i < returned; i++) {
      const p = points[i];
      if (options !== 0) c.addArrayLen(options + 1);
      c.addBulk(p.member);
      if (withdist) c.addBulk(formatDistance(p.dist / shape.conversion));
      if (withhash) c.addInt(scoreAsLongLong(p.score));
      if (withcoords) {
        c.addArrayLen(2);
        addHumanDouble(c, p.lon);
        addHumanDouble(c, p.lat);
      }
    }
    return;
  }

  const server = c.server;
  if (returned > 0) {
    const pairs: Array<[string, number]> = [];
    for (let i = 0; i < returned; i++) {
      const p = points[i];
      pairs.push([p.member, storedist ? p.dist / shape.conversion : p.score]);
    }
    pairs.sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const cfg = server.config;
    const stored = ZSetValue.fromSorted(
      pairs.map((p) => p[0]),
      pairs.map((p) => p[1]),
      { maxEntries: cfg.zsetMaxListpackEntries, maxValue: cfg.zsetMaxListpackValue },
    );
    db.set(storekey, stored);
    server.notifier.notify('z', flags & GEOSEARCH ? 'geosearchstore' : 'georadiusstore', storekey, db.id);
    server.dirty += returned;
  } else if (db.delete(storekey)) {
    server.notifier.notify('g', 'del', storekey, db.id);
    server.dirty++;
  }
  c.addInt(returned);
}

/** longLatFromMember into the shape's centre, or false after replying. */
function memberPosition(c: Client, z: ZSetValue, member: string, shape: Shape): boolean {
  const score = z.score(member);
  if (score === undefined) {
    c.addError(ERR_MEMBER);
    return false;
  }
  [shape.lon, shape.lat] = decodeScore(score);
  return true;
}

/** extractDistanceOrReply: radius and unit into the shape (a circle). */
function parseRadius(c: Client, argv: string[], at: number, shape: Shape): boolean {
  const radius = parseDoubleOrReply(c, argv[at], 'ERR need numeric radius');
  if (radius === null) return false;
  if (radius < 0) {
    c.addError('ERR radius cannot be negative');
    return false;
  }
  const unit = parseUnit(c, argv[at + 1]);
  if (unit < 0) return false;
  shape.type = 'circle';
  shape.radius = radius;
  shape.conversion = unit;
  return true;
}

/** extractBoxOrReply: width, height and unit into the shape (a box). */
function parseBox(c: Client, argv: string[], at: number, shape: Shape): boolean {
  const width = parseDoubleOrReply(c, argv[at], 'ERR need numeric width');
  if (width === null) return false;
  const height = parseDoubleOrReply(c, argv[at + 1], 'ERR need numeric height');
  if (height === null) return false;
  if (height < 0 || width < 0) {
    c.addError('ERR height or width cannot be negative');
    return false;
  }
  const unit = parseUnit(c, argv[at + 2]);
  if (unit < 0) return false;
  shape.type = 'box';
  shape.width = width;
  shape.height = height;
  shape.conversion = unit;
  return true;
}

function searchCommand(srcKeyIndex: number, flags: number) {
  return (c: Client, argv: string[]): void => georadiusGeneric(c, argv, srcKeyIndex, flags);
}

export const commands: CommandImpl[] = [
  { name: 'geoadd', summary: 'Adds points (longitude, latitude, name) to a geospatial index kept in a sorted set.', handler: geoadd },
  { name: 'geopos', summary: 'Replies the longitude and latitude of points of a geospatial index.', handler: geopos },
  { name: 'geodist', summary: 'Replies the distance between two points of a geospatial index, in a chosen unit.', handler: geodist },
  { name: 'geohash', summary: 'Replies standard 11-character geohash strings for points of a geospatial index.', handler: geohash },
  { name: 'geosearch', summary: 'Finds the points within a circle or box around a point or member.', handler: searchCommand(1, GEOSEARCH) },
  {
    name: 'geosearchstore',
    summary: 'Finds the points within a circle or box and stores them (or their distances) in a sorted set.',
    handler: searchCommand(2, GEOSEARCH | GEOSEARCHSTORE),
  },
  { name: 'georadius', summary: 'Finds the points within a radius of coordinates, optionally storing them.', handler: searchCommand(1, RADIUS_COORDS) },
  { name: 'georadius_ro', summary: 'Finds the points within a radius of coordinates (read-only form).', handler: searchCommand(1, RADIUS_COORDS | RADIUS_NOSTORE) },
  {
    name: 'georadiusbymember',
    summary: 'Finds the points within a radius of a member, optionally storing them.',
    handler: searchCommand(1, RADIUS_MEMBER),
  },
  {
    name: 'georadiusbymember_ro',
    summary: 'Finds the points within a radius of a member (read-only form).',
    handler: searchCommand(1, RADIUS_MEMBER | RADIUS_NOSTORE),
  },
];
