/**
 * The geospatial arithmetic of Redis 7.0's GEO commands, reproduced operation
 * by operation so that scores, coordinates and distances come out bit for bit
 * as Redis computes them (x86_64, glibc):
 *
 *  - Scores: 52-bit geohashes, 26 bits per coordinate, latitude in the even
 *    bits and longitude in the odd bits, over Redis's ranges (longitude
 *    +-180, latitude +-85.05112878, the Web Mercator limits). The grid index
 *    of a coordinate is the truncated offset scaled by 2^step.
 *  - Cells are kept as (lat index, lon index, step) instead of interleaved
 *    64-bit words: interleaving is a bijection and every operation Redis does
 *    on the word (moving to a neighbour, aligning to 52 bits, deinterleaving)
 *    has an exact counterpart on the two indexes. Only the conversions to and
 *    from a score need the 64-bit value, done in two 32-bit halves so that
 *    the one rounding to a double happens where Redis's does.
 *  - Distances: haversine on a sphere of radius 6372797.560856 m, with the
 *    shortcut Redis takes when both longitudes are equal.
 *  - Search areas: the cell at the step chosen from the radius, its eight
 *    neighbours, the step lowered once when a neighbour does not reach the
 *    bounding box, and the neighbours outside the bounding box dropped.
 *
 * glibc's sin, cos and asin are not JavaScript's Math functions: V8's fdlibm
 * ports differ from glibc in the last bit for a few percent of arguments,
 * which shows in distances stored with STOREDIST (printed with 17 digits).
 * So this file computes correctly rounded sin, cos and asin: a fast path
 * (a table and short series, partly in double-double arithmetic, with an
 * error bound) settles the rounding almost always, and a slow path (exact
 * argument reduction and long Taylor series in double-double) the rest.
 * glibc is correctly rounded except on about one argument in two thousand
 * lying very close to halfway between two doubles (its error bound is a bit
 * above half an ulp), so about one stored distance in a thousand can still
 * differ from Redis's in its 17th digit; replies (4 decimals) and search
 * results are not affected in practice. Searches decide inside/outside with
 * Math's functions first and use the exact distance only when the margin is
 * too thin, or when the distance itself is sorted on, replied or stored.
 *
 * (The correctly rounded functions would deserve their own file, e.g.
 * src/util/precise-math.ts; they live here because only GEO uses them.)
 */

// ---- double-double arithmetic ----------------------------------------------------------

/**
 * Result registers of the double-double helpers: value = R[0] + R[1], with
 * |R[1]| <= ulp(R[0]) / 2. A typed array, because doubles stored in plain
 * module variables are boxed: one allocation per write.
 */
const R = new Float64Array(2);

/** 2^27 + 1: Dekker's splitter for exact products without FMA. */
const SPLITTER = 134217729;

function twoSum(a: number, b: number): void {
  const s = a + b;
  const bb = s - a;
  R[1] = a - (s - bb) + (b - bb);
  R[0] = s;
}

function twoProd(a: number, b: number): void {
  const p = a * b;
  let t = SPLITTER * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLITTER * b;
  const bh = t - (t - b);
  const bl = b - bh;
  R[1] = ah * bh - p + ah * bl + al * bh + al * bl;
  R[0] = p;
}

function ddMul(ah: number, al: number, bh: number, bl: number): void {
  twoProd(ah, bh);
  const p = R[0];
  const e = R[1] + (ah * bl + al * bh);
  const s = p + e;
  R[1] = e - (s - p);
  R[0] = s;
}

function ddAdd(ah: number, al: number, bh: number, bl: number): void {
  twoSum(ah, bh);
  const s = R[0];
  const e = R[1] + (al + bl);
  const r = s + e;
  R[1] = e - (r - s);
  R[0] = r;
}

/** num/den (positive bigints) as a double-double [hi, lo]. */
function ddFromRatio(num: bigint, den: bigint): [number, number] {
  const q = (num << 320n) / den;
  const hi = Number(q) * 2 ** -320;
  const lo = Number(q - BigInt(hi * 2 ** 320)) * 2 ** -320;
  return [hi, lo];
}

/** arctan(1/x) * 2^bits (Machin's series, for pi). */
function arctanInverse(x: bigint, bits: bigint): bigint {
  const x2 = x * x;
  let term = (1n << bits) / x;
  let sum = 0n;
  for (let k = 1n, positive = true; term !== 0n; k += 2n, positive = !positive) {
    sum += positive ? term / k : -(term / k);
    term /= x2;
  }
  return sum;
}

/** pi * 2^1600: enough bits to reduce any double argument exactly. */
const PI_SCALED = 4n * (4n * arctanInverse(5n, 1600n) - arctanInverse(239n, 1600n));
/** pi/2 in three doubles (about 160 bits), for the reduction of ordinary arguments. */
const [PIO2_1, PIO2_2] = ddFromRatio(PI_SCALED, 2n << 1600n);
const PIO2_3 = Number((PI_SCALED >> 1281n) - BigInt(PIO2_1 * 2 ** 320) - BigInt(PIO2_2 * 2 ** 320)) * 2 ** -320;
/** pi/2 * 2^1400, for the exact reduction of huge arguments. */
const PIO2_BIG = PI_SCALED >> 201n;

/** Taylor coefficients as double-doubles: SIN_C[k] = (-1)^k/(2k+1)!, COS_C[k] = (-1)^(k+1)/(2k+2)!. */
const SIN_C: number[] = [];
const COS_C: number[] = [];
{
  let fact = 1n;
  for (let n = 1n; n <= 30n; n++) {
    fact *= n;
    const [h, l] = ddFromRatio(1n, fact);
    const k = Number((n - 1n) / 2n);
    if (n % 2n === 1n) {
      const neg = k % 2 === 1;
      SIN_C.push(neg ? -h : h, neg ? -l : l);
    } else {
      const neg = k % 2 === 0;
      COS_C.push(neg ? -h : h, neg ? -l : l);
    }
  }
}
/** Terms used: |r| <= pi/4 makes the 15th term below 1e-33. */
const TERMS = 14;

/** sin(r) for a double-double |r| <= pi/4, into R[0]/R[1]. */
function sinKernel(rh: number, rl: number): void {
  ddMul(rh, rl, rh, rl);
  const r2h = R[0];
  const r2l = R[1];
  let sh = SIN_C[2 * TERMS];
  let sl = SIN_C[2 * TERMS + 1];
  for (let k = TERMS - 1; k >= 0; k--) {
    ddMul(sh, sl, r2h, r2l);
    ddAdd(R[0], R[1], SIN_C[2 * k], SIN_C[2 * k + 1]);
    sh = R[0];
    sl = R[1];
  }
  ddMul(sh, sl, rh, rl);
}

/** cos(r) for a double-double |r| <= pi/4, into R[0]/R[1]. */
function cosKernel(rh: number, rl: number): void {
  ddMul(rh, rl, rh, rl);
  const r2h = R[0];
  const r2l = R[1];
  let sh = COS_C[2 * TERMS];
  let sl = COS_C[2 * TERMS + 1];
  for (let k = TERMS - 1; k >= 0; k--) {
    ddMul(sh, sl, r2h, r2l);
    ddAdd(R[0], R[1], COS_C[2 * k], COS_C[2 * k + 1]);
    sh = R[0];
    sl = R[1];
  }
  ddMul(sh, sl, r2h, r2l);
  ddAdd(R[0], R[1], 1, 0);
}

/** Quadrant of the last reduction. */
let QUADRANT = 0;

/** x - k*pi/2 with |result| <= ~pi/4, into R[0]/R[1]; k mod 4 into QUADRANT. */
function reduce(xh: number, xl: number): void {
  const ax = Math.abs(xh);
  if (ax <= 0.785) {
    QUADRANT = 0;
    R[0] = xh;
    R[1] = xl;
    return;
  }
  if (ax < 1048576) {
    // Cody-Waite with pi/2 in three parts: exact enough below 2^20.
    const k = Math.round(xh * (2 / Math.PI));
    twoProd(k, PIO2_1);
    ddAdd(xh, xl, -R[0], -R[1]);
    const rh = R[0];
    const rl = R[1];
    twoProd(k, PIO2_2);
    ddAdd(rh, rl, -R[0], -R[1]);
    ddAdd(R[0], R[1], -k * PIO2_3, 0);
    QUADRANT = ((k % 4) + 4) % 4;
    return;
  }
  // Huge arguments (absurd radii): exact reduction with big integers.
  const f = new Float64Array([ax]);
  const bits = new BigUint64Array(f.buffer)[0];
  const exp = Number((bits >> 52n) & 0x7ffn) - 1075;
  const mant = (bits & 0xfffffffffffffn) | 0x10000000000000n;
  const scaled = mant << BigInt(exp + 1400); // exp >= -52 here
  let k = scaled / PIO2_BIG;
  let rem = scaled - k * PIO2_BIG;
  if (rem * 2n > PIO2_BIG) {
    k += 1n;
    rem -= PIO2_BIG;
  }
  const hi = bigToDouble(rem, 1400);
  const lo = bigToDouble(rem - BigInt(hi * 2 ** 1000) * 2n ** 400n, 1400);
  const q = Number(k % 4n);
  if (xh < 0) {
    R[0] = -hi;
    R[1] = -lo;
    QUADRANT = (4 - q) % 4;
  } else {
    R[0] = hi;
    R[1] = lo;
    QUADRANT = q;
  }
}

/** n * 2^-shift rounded to a double (|n| < 2^1100). */
function bigToDouble(n: bigint, shift: number): number {
  return Number(n >> 400n) * 2 ** (400 - shift) + Number(n & ((1n << 400n) - 1n)) * 2 ** -shift;
}

/** sin(x) as a double-double into R (reduction, then the Taylor kernels: ~2^-100 accurate). */
function slowSinDD(xh: number, xl: number): void {
  reduce(xh, xl);
  const rh = R[0];
  const rl = R[1];
  const q = QUADRANT;
  if (q === 0 || q === 2) sinKernel(rh, rl);
  else cosKernel(rh, rl);
  if (q >= 2) {
    R[0] = -R[0];
    R[1] = -R[1];
  }
}

/** cos(x) as a double-double into R. */
function slowCosDD(xh: number, xl: number): void {
  reduce(xh, xl);
  const rh = R[0];
  const rl = R[1];
  const q = QUADRANT;
  if (q === 0 || q === 2) cosKernel(rh, rl);
  else sinKernel(rh, rl);
  if (q === 1 || q === 2) {
    R[0] = -R[0];
    R[1] = -R[1];
  }
}

// Fast paths (Ziv's strategy). For |x| <= pi, x = c + h with c = k/64 and
// |h| <= 1/128; sin c and cos c come from a table of double-doubles, and
//   sin x = sin c + cos c * h + [sin c (cos h - 1) + cos c (sin h - h)]
//   cos x = cos c - sin c * h + [cos c (cos h - 1) - sin c (sin h - h)]
// with the leading terms in double-double and the small bracket in plain
// doubles. The result comes with an error bound; when it cannot decide the
// rounding (a few times in ten thousand), the slow path above is used.

const TABLE_STEPS = 64;
/** Entries up to round(pi * 64) = 201. */
const TABLE_MAX = 201;
/** sin(k/64) and cos(k/64) as double-doubles. */
const SIN_T = new Float64Array(2 * (TABLE_MAX + 1));
const COS_T = new Float64Array(2 * (TABLE_MAX + 1));
for (let k = 0; k <= TABLE_MAX; k++) {
  slowSinDD(k / TABLE_STEPS, 0);
  SIN_T[2 * k] = R[0];
  SIN_T[2 * k + 1] = R[1];
  slowCosDD(k / TABLE_STEPS, 0);
  COS_T[2 * k] = R[0];
  COS_T[2 * k + 1] = R[1];
}

/** Relative error allowed for the plain-double bracket terms (a few ulps, generously). */
const TAIL_REL = 2 ** -48;
/** Relative error of the double-double parts. */
const DD_REL = 2 ** -100;

/** Fast-path result: value R[0] + R[1] within EPS[0] of the exact one. */
const EPS = new Float64Array(1);

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);

/**
 * The double nearest to a double-double (h, l) whose exact value is within
 * `eps` of h + l, or NaN when the exact value might round differently.
 */
function roundChecked(h: number, l: number, eps: number): number {
  const r = h + l;
  const e = l - (r - h);
  F64[0] = r;
  const exp = (U32[1] >>> 20) & 0x7ff;
  // Half the gap to the nearer neighbour (the one below is closer at a power of two).
  const powerOfTwo = (U32[1] & 0xfffff) === 0 && U32[0] === 0;
  let half: number;
  if (exp > 54) {
    // 2^(exp - 1076), built from its bits (halved again at a power of two).
    U32[1] = (exp - 53 - (powerOfTwo ? 1 : 0)) << 20;
    U32[0] = 0;
    half = F64[0];
  } else {
    half = 2 ** -1075;
  }
  return Math.abs(e) + eps < half ? r : NaN;
}

/** sin(x) for |x| <= pi as a double-double into R, its error bound into EPS. */
function fastSinDD(x: number): void {
  const ax = Math.abs(x);
  const k = Math.round(ax * TABLE_STEPS);
  const h = ax - k / TABLE_STEPS; // exact
  const h2 = h * h;
  const smh = h * h2 * (-1 / 6 + h2 * (1 / 120 + h2 * (-1 / 5040 + h2 * (1 / 362880))));
  if (k === 0) {
    twoSum(ax, smh);
    EPS[0] = Math.abs(smh) * TAIL_REL;
  } else {
    const cm1 = h2 * (-0.5 + h2 * (1 / 24 + h2 * (-1 / 720 + h2 * (1 / 40320))));
    const sh = SIN_T[2 * k];
    const sl = SIN_T[2 * k + 1];
    const ch = COS_T[2 * k];
    const cl = COS_T[2 * k + 1];
    const t1 = sh * cm1;
    const t2 = ch * smh;
    twoProd(ch, h);
    ddAdd(sh, sl, R[0], R[1] + cl * h);
    ddAdd(R[0], R[1], t1 + t2, 0);
    EPS[0] = (Math.abs(t1) + Math.abs(t2)) * TAIL_REL + (Math.abs(sh) + Math.abs(ch * h)) * DD_REL;
  }
  if (x < 0) {
    R[0] = -R[0];
    R[1] = -R[1];
  }
}

/** cos(x) for |x| <= pi as a double-double into R, its error bound into EPS. */
function fastCosDD(x: number): void {
  const ax = Math.abs(x);
  const k = Math.round(ax * TABLE_STEPS);
  const h = ax - k / TABLE_STEPS; // exact
  const h2 = h * h;
  const cm1 = h2 * (-0.5 + h2 * (1 / 24 + h2 * (-1 / 720 + h2 * (1 / 40320))));
  if (k === 0) {
    twoSum(1, cm1);
    EPS[0] = Math.abs(cm1) * TAIL_REL;
    return;
  }
  const smh = h * h2 * (-1 / 6 + h2 * (1 / 120 + h2 * (-1 / 5040 + h2 * (1 / 362880))));
  const sh = SIN_T[2 * k];
  const sl = SIN_T[2 * k + 1];
  const ch = COS_T[2 * k];
  const cl = COS_T[2 * k + 1];
  const t1 = ch * cm1;
  const t2 = sh * smh;
  twoProd(sh, h);
  ddAdd(ch, cl, -R[0], -R[1] - sl * h);
  ddAdd(R[0], R[1], t1 - t2, 0);
  EPS[0] = (Math.abs(t1) + Math.abs(t2)) * TAIL_REL + (Math.abs(ch) + Math.abs(sh * h)) * DD_REL;
}

/** Largest |x| the fast paths take: the table's reach. */
const FAST_LIMIT = (TABLE_MAX - 0.5) / TABLE_STEPS;

/** Correctly rounded sin(x). */
export function preciseSin(x: number): number {
  if (x === 0 || !Number.isFinite(x)) return x === 0 ? x : NaN;
  if (Math.abs(x) <= FAST_LIMIT) {
    fastSinDD(x);
    const r = roundChecked(R[0], R[1], EPS[0]);
    if (r === r) return r;
  }
  slowSinDD(x, 0);
  return R[0] + R[1];
}

/** Correctly rounded cos(x). */
export function preciseCos(x: number): number {
  if (!Number.isFinite(x)) return NaN;
  if (Math.abs(x) <= FAST_LIMIT) {
    fastCosDD(x);
    const r = roundChecked(R[0], R[1], EPS[0]);
    if (r === r) return r;
  }
  slowCosDD(x, 0);
  return R[0] + R[1];
}

/**
 * asin of a double-double 0 <= y <= 0.5 into R: one Newton step from
 * Math.asin, z + (y - sin z) / cos z. With `fast`, sin z comes from the fast
 * path and EPS gets an error bound; otherwise it is ~2^-100 accurate.
 */
function asinSmall(yh: number, yl: number, fast: boolean): void {
  const z = Math.asin(yh);
  if (fast) fastSinDD(z);
  else slowSinDD(z, 0);
  const sinEps = fast ? EPS[0] : 0;
  ddAdd(yh, yl, -R[0], -R[1]);
  const c = Math.cos(z);
  const corr = (R[0] + R[1]) / c;
  twoSum(z, corr);
  // The residual's error through 1/cos z, the correction's own rounding, Newton's quadratic term.
  EPS[0] = sinEps / c + Math.abs(corr) * 2 ** -50 + corr * corr;
}

/** Correctly rounded asin(y); NaN outside [-1, 1]. */
export function preciseAsin(y: number): number {
  if (!(Math.abs(y) <= 1)) return NaN;
  if (y === 0) return y;
  const a = Math.abs(y);
  if (a === 1) return y * PIO2_1;
  let r = NaN;
  if (a <= 0.5) {
    asinSmall(a, 0, true);
    r = roundChecked(R[0], R[1], EPS[0]);
    if (r !== r) {
      asinSmall(a, 0, false);
      r = R[0] + R[1];
    }
  } else {
    // asin(a) = pi/2 - 2 asin(sqrt((1 - a) / 2)), well conditioned near 1.
    const t = (1 - a) / 2;
    const s = Math.sqrt(t);
    twoProd(s, s);
    const sl = (t - R[0] - R[1]) / (2 * s);
    for (let pass = 0; pass < 2 && r !== r; pass++) {
      const fast = pass === 0;
      asinSmall(s, sl, fast);
      const eps = 2 * EPS[0] + s * DD_REL;
      ddAdd(PIO2_1, PIO2_2, -2 * R[0], -2 * R[1]);
      r = fast ? roundChecked(R[0], R[1], eps + PIO2_1 * DD_REL) : R[0] + R[1];
    }
  }
  return y < 0 ? -r : r;
}

// ---- ranges and constants -----------------------------------------------------------------

export const GEO_LAT_MIN = -85.05112878;
export const GEO_LAT_MAX = 85.05112878;
export const GEO_LONG_MIN = -180;
export const GEO_LONG_MAX = 180;
/** Bits per coordinate in a stored score. */
export const GEO_STEP_MAX = 26;

export const EARTH_RADIUS_IN_METERS = 6372797.560856;
const MERCATOR_MAX = 20037726.37;
/** Degrees to radians as Redis computes it: M_PI / 180.0. */
const D_R = Math.PI / 180.0;

function degRad(ang: number): number {
  return ang * D_R;
}

function radDeg(ang: number): number {
  return ang / D_R;
}

/** A coordinate interval (GeoHashRange). */
export interface Range {
  min: number;
  max: number;
}

export const LONG_RANGE: Range = { min: GEO_LONG_MIN, max: GEO_LONG_MAX };
export const LAT_RANGE: Range = { min: GEO_LAT_MIN, max: GEO_LAT_MAX };
/** The standard geohash ranges GEOHASH re-encodes with. */
export const STD_LAT_RANGE: Range = { min: -90, max: 90 };

// ---- cells ------------------------------------------------------------------------------

/**
 * A geohash cell: grid indexes at `step` bits per coordinate. An index can
 * be 2^step (one bit above the step) for a coordinate on the upper edge of
 * the range, exactly as in Redis's word. The zero cell (step 0) is Redis's
 * "zeroed" neighbour, meaning "do not search here".
 */
export interface Cell {
  lat: number;
  lon: number;
  step: number;
}

export const ZERO_CELL: Cell = { lat: 0, lon: 0, step: 0 };

export function isZeroCell(c: Cell): boolean {
  return c.step === 0 && c.lat === 0 && c.lon === 0;
}

/**
 * geohashEncode: the cell holding (longitude, latitude) at `step`, or null
 * when the point is outside the Redis limits or the given ranges.
 */
export function encode(longitude: number, latitude: number, step: number, lonRange: Range = LONG_RANGE, latRange: Range = LAT_RANGE): Cell | null {
  if (longitude > GEO_LONG_MAX || longitude < GEO_LONG_MIN || latitude > GEO_LAT_MAX || latitude < GEO_LAT_MIN) return null;
  if (latitude < latRange.min || latitude > latRange.max || longitude < lonRange.min || longitude > lonRange.max) return null;
  let latOffset = (latitude - latRange.min) / (latRange.max - latRange.min);
  let lonOffset = (longitude - lonRange.min) / (lonRange.max - lonRange.min);
  const scale = 2 ** step;
  latOffset *= scale;
  lonOffset *= scale;
  // The C code converts to uint32_t: truncation.
  return { lat: latOffset >>> 0, lon: lonOffset >>> 0, step };
}

/** Spreads the low 16 bits of v to the even bit positions of a 32-bit word. */
function spread16(v: number): number {
  v &= 0xffff;
  v = (v | (v << 8)) & 0x00ff00ff;
  v = (v | (v << 4)) & 0x0f0f0f0f;
  v = (v | (v << 2)) & 0x33333333;
  v = (v | (v << 1)) & 0x55555555;
  return v;
}

/** Gathers the even bits of a 32-bit word into 16 bits. */
function squash16(v: number): number {
  v &= 0x55555555;
  v = (v | (v >>> 1)) & 0x33333333;
  v = (v | (v >>> 2)) & 0x0f0f0f0f;
  v = (v | (v >>> 4)) & 0x00ff00ff;
  v = (v | (v >>> 8)) & 0x0000ffff;
  return v;
}

/** A 64-bit word as its [high, low] 32-bit halves: W[0], W[1] (typed: no boxing on writes). */
const W = new Float64Array(2);

function interleave(lat: number, lon: number): void {
  W[1] = (spread16(lat) | (spread16(lon) << 1)) >>> 0;
  W[0] = (spread16(lat >>> 16) | (spread16(lon >>> 16) << 1)) >>> 0;
}

const TWO_32 = 4294967296;

/** A uint64 given as halves, rounded to the nearest double (one rounding, as C's conversion). */
function wordToDouble(hi: number, lo: number): number {
  return hi * TWO_32 + lo;
}

/** The exact decimal text of a uint64 given as halves. */
function wordToString(hi: number, lo: number): string {
  if (hi < 0x200000) return String(hi * TWO_32 + lo);
  return ((BigInt(hi) << 32n) | BigInt(lo)).toString();
}

/** geohashAlign52Bits: the cell's word shifted to 52 bits, as halves in W[0]/W[1]. */
function align52(c: Cell): void {
  const shift = 2 ** (GEO_STEP_MAX - c.step);
  interleave(c.lat * shift, c.lon * shift);
}

/** The score Redis stores for a cell at step 26 (GEOADD), and its exact decimal text. */
export function cellScore(c: Cell): number {
  align52(c);
  return wordToDouble(W[0], W[1]);
}

export function cellScoreText(c: Cell): string {
  align52(c);
  return wordToString(W[0], W[1]);
}

/**
 * scoresOfGeoHashBox: the score interval [min, max) covered by a cell at
 * its step. max is (word + 1) aligned, computed exactly and rounded once.
 */
export function cellScoreRange(c: Cell): [number, number] {
  align52(c);
  const min = wordToDouble(W[0], W[1]);
  const shift = 52 - 2 * c.step;
  let hi = W[0];
  let lo = W[1];
  if (shift < 32) {
    lo += 2 ** shift;
    if (lo >= TWO_32) {
      lo -= TWO_32;
      hi += 1;
    }
  } else {
    hi += 2 ** (shift - 32);
  }
  return [min, wordToDouble(hi, lo)];
}

/**
 * The uint64 a score converts to in C ((uint64_t)score on x86_64 with GCC),
 * as halves in W[0]/W[1]: truncation for [0, 2^64), two's complement
 * for negative values down to -2^63, and the "integer indefinite" results
 * (2^63, or 0 once the compiler's high-range fix-up flips it) otherwise.
 */
function scoreToWord(score: number): void {
  if (score >= 0 && score < 18446744073709551616) {
    const t = Math.trunc(score);
    const hi = Math.floor(t / TWO_32);
    W[0] = hi;
    W[1] = t - hi * TWO_32;
    return;
  }
  if (score >= 9223372036854775808) {
    // Above the uint64 range (or +inf): indefinite 2^63 with bit 63 flipped.
    W[0] = 0;
    W[1] = 0;
    return;
  }
  if (score >= -9223372036854775808) {
    const w = BigInt.asUintN(64, BigInt(Math.trunc(score)));
    W[0] = Number(w >> 32n);
    W[1] = Number(w & 0xffffffffn);
    return;
  }
  // Below -2^63, -inf or NaN: the indefinite value 2^63.
  W[0] = 0x80000000;
  W[1] = 0;
}

/** The step-26 cell of a score: deinterleaves the 64-bit word (all 32 bits of each index). */
export function scoreCell(score: number): Cell {
  scoreToWord(score);
  const lat = (squash16(W[1]) | (squash16(W[0]) << 16)) >>> 0;
  const lon = (squash16(W[1] >>> 1) | (squash16(W[0] >>> 1) << 16)) >>> 0;
  return { lat, lon, step: GEO_STEP_MAX };
}

/** A cell's area (GeoHashArea). */
export interface Area {
  lonMin: number;
  lonMax: number;
  latMin: number;
  latMax: number;
}

/** geohashDecode: the coordinates a cell covers. Indexes are uint32 in C, so index + 1 wraps. */
export function cellArea(c: Cell, lonRange: Range = LONG_RANGE, latRange: Range = LAT_RANGE): Area {
  const scale = 2 ** c.step;
  const latScale = latRange.max - latRange.min;
  const lonScale = lonRange.max - lonRange.min;
  return {
    latMin: latRange.min + ((c.lat * 1.0) / scale) * latScale,
    latMax: latRange.min + ((((c.lat + 1) >>> 0) * 1.0) / scale) * latScale,
    lonMin: lonRange.min + ((c.lon * 1.0) / scale) * lonScale,
    lonMax: lonRange.min + ((((c.lon + 1) >>> 0) * 1.0) / scale) * lonScale,
  };
}

const LAT_SCALE = LAT_RANGE.max - LAT_RANGE.min;
const LON_SCALE = LONG_RANGE.max - LONG_RANGE.min;
const STEP26_SCALE = 2 ** GEO_STEP_MAX;

/**
 * decodeGeohash without allocating: out[0] = longitude, out[1] = latitude of
 * a stored score (any score decodes). The same operations as cellArea and
 * areaCentre at step 26.
 */
export function decodeScoreTo(score: number, out: Float64Array): void {
  scoreToWord(score);
  const lo = W[1];
  const hi = W[0];
  const lat = (squash16(lo) | (squash16(hi) << 16)) >>> 0;
  const lon = (squash16(lo >>> 1) | (squash16(hi >>> 1) << 16)) >>> 0;
  const latMin = GEO_LAT_MIN + ((lat * 1.0) / STEP26_SCALE) * LAT_SCALE;
  const latMax = GEO_LAT_MIN + ((((lat + 1) >>> 0) * 1.0) / STEP26_SCALE) * LAT_SCALE;
  const lonMin = GEO_LONG_MIN + ((lon * 1.0) / STEP26_SCALE) * LON_SCALE;
  const lonMax = GEO_LONG_MIN + ((((lon + 1) >>> 0) * 1.0) / STEP26_SCALE) * LON_SCALE;
  let x = (lonMin + lonMax) / 2;
  if (x > GEO_LONG_MAX) x = GEO_LONG_MAX;
  if (x < GEO_LONG_MIN) x = GEO_LONG_MIN;
  let y = (latMin + latMax) / 2;
  if (y > GEO_LAT_MAX) y = GEO_LAT_MAX;
  if (y < GEO_LAT_MIN) y = GEO_LAT_MIN;
  out[0] = x;
  out[1] = y;
}

const DECODED = new Float64Array(2);

/** decodeGeohash: [longitude, latitude] of a stored score (any score decodes). */
export function decodeScore(score: number): [number, number] {
  decodeScoreTo(score, DECODED);
  return [DECODED[0], DECODED[1]];
}

/** The score GEOADD stores for a point (which must be within the limits). */
export function encodeScore(longitude: number, latitude: number): number {
  return cellScore(encode(longitude, latitude, GEO_STEP_MAX)!);
}

const GEOALPHABET = '0123456789bcdefghjkmnpqrstuvwxyz';

/**
 * GEOHASH's 11-character string for a stored score: the decoded point
 * re-encoded over the standard ranges (latitude +-90), 52 bits in ten
 * base-32 characters and a final '0'.
 */
export function geohashString(score: number): string {
  const [lon, lat] = decodeScore(score);
  const c = encode(lon, lat, GEO_STEP_MAX, LONG_RANGE, STD_LAT_RANGE)!;
  align52(c);
  let out = '';
  for (let i = 0; i < 10; i++) {
    // Bits 51-5i .. 47-5i of the word; bits 52 and up (an index of 2^26) are dropped.
    const shift = 52 - (i + 1) * 5;
    let idx: number;
    if (shift >= 32) idx = (W[0] >>> (shift - 32)) & 0x1f;
    else if (shift + 5 <= 32) idx = (W[1] >>> shift) & 0x1f;
    else idx = ((W[1] >>> shift) | (W[0] << (32 - shift))) & 0x1f;
    out += GEOALPHABET[idx];
  }
  return out + '0';
}

// ---- neighbours and search areas --------------------------------------------------------

/** A neighbour: longitude index moved by dx, latitude by dy, each wrapping at 2^step. */
function moved(c: Cell, dx: number, dy: number): Cell {
  const size = 2 ** c.step;
  const lon = dx === 0 ? c.lon : (((c.lon + dx) % size) + size) % size;
  const lat = dy === 0 ? c.lat : (((c.lat + dy) % size) + size) % size;
  return { lat, lon, step: c.step };
}

export interface Neighbors {
  north: Cell;
  south: Cell;
  east: Cell;
  west: Cell;
  northEast: Cell;
  northWest: Cell;
  southEast: Cell;
  southWest: Cell;
}

export function neighbors(c: Cell): Neighbors {
  return {
    east: moved(c, 1, 0),
    west: moved(c, -1, 0),
    south: moved(c, 0, -1),
    north: moved(c, 0, 1),
    northWest: moved(c, -1, 1),
    southWest: moved(c, -1, -1),
    northEast: moved(c, 1, 1),
    southEast: moved(c, 1, -1),
  };
}

/** geohashEstimateStepsByRadius: the step whose cells roughly match the radius. */
export function estimateStepsByRadius(rangeMeters: number, lat: number): number {
  if (rangeMeters === 0) return 26;
  let step = 1;
  while (rangeMeters < MERCATOR_MAX) {
    rangeMeters *= 2;
    step++;
  }
  step -= 2;
  // Cells shrink in width towards the poles.
  if (lat > 66 || lat < -66) {
    step--;
    if (lat > 80 || lat < -80) step--;
  }
  if (step < 1) step = 1;
  if (step > 26) step = 26;
  return step;
}

/** The search shape: a circle (radius) or an axis-aligned box, in the unit given by `conversion`. */
export interface Shape {
  lon: number;
  lat: number;
  /** Meters per unit. */
  conversion: number;
  type: 'circle' | 'box';
  radius: number;
  width: number;
  height: number;
}

/** geohashBoundingBox: [minLon, minLat, maxLon, maxLat] around the shape. */
export function boundingBox(s: Shape): [number, number, number, number] {
  const height = s.conversion * (s.type === 'circle' ? s.radius : s.height / 2);
  const width = s.conversion * (s.type === 'circle' ? s.radius : s.width / 2);
  const latDelta = radDeg(height / EARTH_RADIUS_IN_METERS);
  const lonDeltaTop = radDeg(width / EARTH_RADIUS_IN_METERS / preciseCos(degRad(s.lat + latDelta)));
  const lonDeltaBottom = radDeg(width / EARTH_RADIUS_IN_METERS / preciseCos(degRad(s.lat - latDelta)));
  // The box is widest on the side nearer the equator.
  const southern = s.lat < 0;
  const minLon = southern ? s.lon - lonDeltaBottom : s.lon - lonDeltaTop;
  const maxLon = southern ? s.lon + lonDeltaBottom : s.lon + lonDeltaTop;
  return [minLon, s.lat - latDelta, maxLon, s.lat + latDelta];
}

/**
 * geohashCalculateAreasByShapeWGS84: the nine cells to scan, in Redis's
 * order (centre, N, S, E, W, NE, NW, SE, SW), zero cells meaning "skip".
 */
export function searchCells(s: Shape): Cell[] {
  const [minLon, minLat, maxLon, maxLat] = boundingBox(s);
  const radiusMeters =
    (s.type === 'circle' ? s.radius : Math.sqrt((s.width / 2) * (s.width / 2) + (s.height / 2) * (s.height / 2))) * s.conversion;
  let steps = estimateStepsByRadius(radiusMeters, s.lat);
  let hash = encode(s.lon, s.lat, steps) ?? { lat: 0, lon: 0, step: steps };
  let n = neighbors(hash);
  let area = cellArea(hash);

  // Lower the step when a side neighbour does not reach the bounding box.
  const north = cellArea(n.north);
  const south = cellArea(n.south);
  const east = cellArea(n.east);
  const west = cellArea(n.west);
  const decrease = north.latMax < maxLat || south.latMin > minLat || east.lonMax < maxLon || west.lonMin > minLon;
  if (steps > 1 && decrease) {
    steps--;
    hash = encode(s.lon, s.lat, steps) ?? { lat: 0, lon: 0, step: steps };
    n = neighbors(hash);
    area = cellArea(hash);
  }

  // Drop the neighbours beyond the bounding box.
  if (steps >= 2) {
    if (area.latMin < minLat) n.south = n.southWest = n.southEast = ZERO_CELL;
    if (area.latMax > maxLat) n.north = n.northEast = n.northWest = ZERO_CELL;
    if (area.lonMin < minLon) n.west = n.southWest = n.northWest = ZERO_CELL;
    if (area.lonMax > maxLon) n.east = n.southEast = n.northEast = ZERO_CELL;
  }
  return [hash, n.north, n.south, n.east, n.west, n.northEast, n.northWest, n.southEast, n.southWest];
}

// ---- distances ----------------------------------------------------------------------------

/** geohashGetLatDistance: the distance along a meridian. */
export function latDistance(lat1: number, lat2: number): number {
  return EARTH_RADIUS_IN_METERS * Math.abs(degRad(lat2) - degRad(lat1));
}

/** The last cosine distance() computed for a first point (searches reuse their centre). */
const COS_MEMO = new Float64Array([NaN, NaN]);

/** geohashGetDistance: haversine distance in meters (correctly rounded trigonometry, as glibc). */
export function distance(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const lon1r = degRad(lon1);
  const lon2r = degRad(lon2);
  const v = preciseSin((lon2r - lon1r) / 2);
  // Same longitude: Redis skips the trigonometry.
  if (v === 0.0) return latDistance(lat1, lat2);
  const lat1r = degRad(lat1);
  const lat2r = degRad(lat2);
  const u = preciseSin((lat2r - lat1r) / 2);
  if (COS_MEMO[0] !== lat1r) {
    COS_MEMO[0] = lat1r;
    COS_MEMO[1] = preciseCos(lat1r);
  }
  const a = u * u + COS_MEMO[1] * preciseCos(lat2r) * v * v;
  return 2.0 * EARTH_RADIUS_IN_METERS * preciseAsin(Math.sqrt(a));
}

/**
 * distance() with Math's sin/cos/asin: within a few ulps of it, or NaN when
 * that cannot be promised (nearly antipodal points, where asin amplifies
 * errors). Used to settle most inside/outside decisions cheaply.
 */
function roughDistance(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const lon1r = degRad(lon1);
  const lon2r = degRad(lon2);
  const v = Math.sin((lon2r - lon1r) / 2);
  if (v === 0.0) return latDistance(lat1, lat2);
  const lat1r = degRad(lat1);
  const lat2r = degRad(lat2);
  const u = Math.sin((lat2r - lat1r) / 2);
  const a = u * u + Math.cos(lat1r) * Math.cos(lat2r) * v * v;
  return a > 0.9 ? NaN : 2.0 * EARTH_RADIUS_IN_METERS * Math.asin(Math.sqrt(a));
}

/** Relative distance between roughDistance and distance we never rely on (a few ulps would do). */
const ROUGH_MARGIN = 1e-10;

/**
 * -1 when the rough distance puts the point clearly beyond `limit`, 1 when
 * clearly within, 0 when only the exact distance can tell.
 */
function roughSide(lon1: number, lat1: number, lon2: number, lat2: number, limit: number): number {
  const d = roughDistance(lon1, lat1, lon2, lat2);
  if (d > limit * (1 + ROUGH_MARGIN)) return -1;
  if (d < limit * (1 - ROUGH_MARGIN)) return 1;
  return 0;
}

/**
 * Whether a point (lon, lat) lies in the shape (Redis's
 * geohashGetDistanceIfInRadius / geohashGetDistanceIfInRectangle), and its
 * distance in meters from the centre; -1 when it is outside. When `exact` is
 * false the caller only needs the decision, and the distance returned for a
 * point inside may be an estimate. The decision is always Redis's.
 */
export function distanceIfInShape(s: Shape, lon: number, lat: number, exact = true): number {
  if (s.type === 'circle') {
    const limit = s.radius * s.conversion;
    const side = roughSide(s.lon, s.lat, lon, lat, limit);
    if (side < 0) return -1;
    if (side > 0 && !exact) return 0;
    const d = distance(s.lon, s.lat, lon, lat);
    return d > limit ? -1 : d;
  }
  const heightM = s.height * s.conversion;
  const widthM = s.width * s.conversion;
  if (latDistance(lat, s.lat) > heightM / 2) return -1;
  const side = roughSide(lon, lat, s.lon, lat, widthM / 2);
  if (side < 0 || (side === 0 && distance(lon, lat, s.lon, lat) > widthM / 2)) return -1;
  return exact ? distance(s.lon, s.lat, lon, lat) : 0;
}

// ---- reply formatting ------------------------------------------------------------------------

/**
 * Redis's fixedpoint_d2string(d, 4) (distances in replies): llrint(d * 10^4)
 * (ties to even; NaN or out of range give LLONG_MIN), printed with 4 decimals.
 */
export function formatDistance(d: number): string {
  if (d === 0) return '0.0000';
  const scaled = d * 10000;
  if (!(Math.abs(scaled) < 9223372036854775808)) return '-922337203685477.5808';
  let r = Math.round(scaled);
  // Math.round rounds halves up; llrint rounds them to even.
  if (r - scaled === 0.5 && r % 2 !== 0) r -= 1;
  const neg = r < 0;
  const abs = neg ? -r : r;
  if (abs > Number.MAX_SAFE_INTEGER) {
    const v = BigInt(abs);
    return (neg ? '-' : '') + (v / 10000n).toString() + '.' + (v % 10000n).toString().padStart(4, '0');
  }
  const int = Math.floor(abs / 10000);
  const frac = abs - int * 10000;
  return (neg ? '-' : '') + int + '.' + (frac < 10 ? '000' : frac < 100 ? '00' : frac < 1000 ? '0' : '') + frac;
}
