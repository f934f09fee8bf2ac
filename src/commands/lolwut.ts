/**
 * LOLWUT [VERSION <n>] [args...]: Redis 7.0's generative art command.
 *
 * Redis 7.0.15 has no art of its own: with no VERSION, or any version other
 * than 5 and 6, the reply is the verbatim string "Redis ver. 7.0.15\n".
 *
 * - VERSION 5: Georg Nees' "Schotter" (1968) drawn with Unicode braille
 *   characters (2x4 pixels each): a grid of squares whose rotation and
 *   displacement grow row after row. Arguments: terminal columns (66), squares
 *   per row (8), squares per column (12), clamped to 1..1000, 1..200, 1..200.
 *   The first two rows are never disturbed, so with at most two rows of
 *   squares the drawing is deterministic and matches Redis pixel for pixel
 *   (the coordinates use the same single-precision arithmetic Redis does:
 *   with doubles, some centres fall on the other side of an integer).
 * - VERSION 6: a skyline in four ANSI grey levels, after the 8 bit image
 *   Redis 6 credits. Arguments: columns (80) and rows (20), both clamped to
 *   1..1000. Same frame as Redis (one coloured space per pixel, the two
 *   dedication lines); the city itself is our own generator.
 *
 * Both are random, so the differential tests compare them by shape only
 * (test/unit/lolwut.test.ts checks sizes, character set and trailers).
 */
import type { CommandImpl } from '../server/command-table.js';
import type { Client } from '../server/client.js';
import { parseInt64 } from '../util/numbers.js';
import { REDIS_VERSION } from '../version.js';
import { ERR_NOT_INT } from './errors.js';

function lolwut(c: Client, argv: string[]): void {
  let version = Number(REDIS_VERSION.split('.')[0]);
  if (argv.length >= 3 && argv[1].toLowerCase() === 'version') {
    const v = parseInt64(argv[2]);
    if (v === null) {
      c.addError(ERR_NOT_INT);
      return;
    }
    version = v;
  }
  // Version-specific arguments follow VERSION <n>.
  const args = argv.slice(3);
  if (version === 5) {
    const art = lolwut5(c, args);
    if (art !== null) addVerbatimBytes(c, art);
  } else if (version === 6) {
    const art = lolwut6(c, args);
    if (art !== null) c.addVerbatim(art);
  } else {
    c.addVerbatim(`Redis ver. ${REDIS_VERSION}\n`);
  }
}

/** addVerbatim for text already in bytes (UTF-8): RESP3 `=len txt:...`, RESP2 a bulk string. */
function addVerbatimBytes(c: Client, bytes: Buffer): void {
  c.addRaw(c.resp === 3 ? `=${bytes.length + 4}\r\ntxt:` : `$${bytes.length}\r\n`);
  c.addRawBuffer(bytes);
  c.addRaw('\r\n');
}

/**
 * Parses the optional numeric arguments: each must be an integer, and is
 * clamped into its range (Redis does not reject out-of-range sizes). Null
 * after replying the error.
 */
function numericArgs(c: Client, args: string[], spec: ReadonlyArray<readonly [def: number, min: number, max: number]>): number[] | null {
  const out: number[] = [];
  for (let i = 0; i < spec.length; i++) {
    const [def, min, max] = spec[i];
    if (i >= args.length) {
      out.push(def);
      continue;
    }
    const v = parseInt64(args[i]);
    if (v === null) {
      c.addError(ERR_NOT_INT);
      return null;
    }
    out.push(Math.min(max, Math.max(min, v)));
  }
  return out;
}

// ---- VERSION 5: Schotter ----------------------------------------------------------------

const f32 = Math.fround;

/** C's round(): halves away from zero. */
function roundHalfAway(v: number): number {
  return v < 0 ? -Math.round(-v) : Math.round(v);
}

/** A 1-bit canvas (one bit per pixel), rendered as braille characters. */
class BrailleCanvas {
  private readonly bits: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.bits = new Uint8Array(Math.ceil((width * height) / 8));
  }

  set(x: number, y: number): void {
    if (x >= 0 && y >= 0 && x < this.width && y < this.height) {
      const i = y * this.width + x;
      this.bits[i >>> 3] |= 1 << (i & 7);
    }
  }

  private get(x: number, y: number): number {
    if (x >= this.width || y >= this.height) return 0;
    const i = y * this.width + x;
    return (this.bits[i >>> 3] >>> (i & 7)) & 1;
  }

  /** Bresenham's line between two pixels, both included. */
  line(x0: number, y0: number, x1: number, y1: number): void {
    const dx = Math.abs(x1 - x0);
    const dy = Math.abs(y1 - y0);
    const sx = x0 < x1 ? 1 : -1;
    const sy = y0 < y1 ? 1 : -1;
    let err = dx - dy;
    for (;;) {
      this.set(x0, y0);
      if (x0 === x1 && y0 === y1) return;
      const e2 = err * 2;
      if (e2 > -dy) {
        err -= dy;
        x0 += sx;
      }
      if (e2 < dx) {
        err += dx;
        y0 += sy;
      }
    }
  }

  /**
   * A square of side `side` centred on (x, y), rotated by `angle` radians:
   * its corners lie on a circle whose radius is the half diagonal, rounded to
   * whole pixels, at 45 degrees plus `angle` and then every quarter turn.
   */
  square(x: number, y: number, side: number, angle: number): void {
    const radius = Math.round(f32(side / 1.4142135623));
    const px: number[] = [];
    const py: number[] = [];
    let a = f32(Math.PI / 4 + angle);
    for (let k = 0; k < 4; k++) {
      px.push(roundHalfAway(Math.sin(a) * radius + x));
      py.push(roundHalfAway(Math.cos(a) * radius + y));
      a = f32(a + Math.PI / 2);
    }
    for (let k = 0; k < 4; k++) this.line(px[k], py[k], px[(k + 1) % 4], py[(k + 1) % 4]);
  }

  /**
   * UTF-8 rows of braille characters (2x4 pixels each, 3 bytes), a newline
   * after every row but one whose first pixel row is the canvas's last (as
   * Redis renders it). Written straight into bytes: at 1000 columns and 200
   * tall squares the drawing is 300 MB, more than is wise as a JS string.
   */
  render(): Buffer {
    const rows = Math.ceil(this.height / 4);
    const cols = Math.ceil(this.width / 2);
    const out = Buffer.allocUnsafe(rows * (cols * 3 + 1));
    let p = 0;
    for (let y = 0; y < this.height; y += 4) {
      for (let x = 0; x < this.width; x += 2) {
        // Braille dots 1-2-3-7 are the left column top to bottom, 4-5-6-8 the right one.
        const bits =
          this.get(x, y) |
          (this.get(x, y + 1) << 1) |
          (this.get(x, y + 2) << 2) |
          (this.get(x + 1, y) << 3) |
          (this.get(x + 1, y + 1) << 4) |
          (this.get(x + 1, y + 2) << 5) |
          (this.get(x, y + 3) << 6) |
          (this.get(x + 1, y + 3) << 7);
        // U+2800 + bits in UTF-8: E2, A0 + the top two bits, 80 + the low six.
        out[p++] = 0xe2;
        out[p++] = 0xa0 | (bits >>> 6);
        out[p++] = 0x80 | (bits & 0x3f);
      }
      if (y !== this.height - 1) out[p++] = 0x0a;
    }
    return out.subarray(0, p);
  }
}

/**
 * Draws Schotter on a canvas `cols` characters wide, as UTF-8. Exported for
 * the unit test; `random` returns numbers in [0, 1).
 */
export function schotter(cols: number, squaresPerRow: number, squaresPerCol: number, random: () => number = Math.random): Buffer {
  const width = cols * 2;
  const padding = width > 4 ? 2 : 0;
  const side = f32((width - padding * 2) / squaresPerRow);
  const height = Math.trunc(f32(f32(side * squaresPerCol) + padding * 2));
  const canvas = new BrailleCanvas(width, height);
  const halfSide = f32(side / 2);
  for (let y = 0; y < squaresPerCol; y++) {
    for (let x = 0; x < squaresPerRow; x++) {
      let sx = f32(f32(f32(x * side) + halfSide) + padding);
      let sy = f32(f32(f32(y * side) + halfSide) + padding);
      let angle = 0;
      // The first two rows stay in order; below, each square turns and moves by up to row/rows.
      if (y > 1) {
        const spread = (): number => {
          const r = f32(f32(random() / squaresPerCol) * y);
          return random() < 0.5 ? -r : r;
        };
        angle = spread();
        sx = f32(sx + f32(f32(spread() * side) / 3));
        sy = f32(sy + f32(f32(spread() * side) / 3));
      }
      canvas.square(Math.trunc(sx), Math.trunc(sy), side, angle);
    }
  }
  return canvas.render();
}

function lolwut5(c: Client, args: string[]): Buffer | null {
  const n = numericArgs(c, args, [
    [66, 1, 1000],
    [8, 1, 200],
    [12, 1, 200],
  ]);
  if (n === null) return null;
  const trailer = Buffer.from(`\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. ${REDIS_VERSION}\n`, 'latin1');
  return Buffer.concat([schotter(n[0], n[1], n[2]), trailer]);
}

// ---- VERSION 6: a skyline in four greys -----------------------------------------------------

/** Pixel colours: black, dark grey, light grey, white. */
const ANSI_PIXEL = ['\x1b[0;30;40m \x1b[0m', '\x1b[0;90;100m \x1b[0m', '\x1b[0;37;47m \x1b[0m', '\x1b[0;97;107m \x1b[0m'];
const BLACK = 0;
const DARK = 1;
const LIGHT = 2;
const SKY = 3;

/**
 * A city at dusk on a `cols` x `rows` grid of colours: far light-grey towers,
 * nearer dark-grey ones, and in front black buildings whose windows (two
 * pixels wide, every other row) are lit or not. Exported for the unit test.
 */
export function skyline(cols: number, rows: number, random: () => number = Math.random): Uint8Array {
  const px = new Uint8Array(cols * rows).fill(SKY);
  const between = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));
  const fill = (x0: number, x1: number, top: number, color: number): void => {
    for (let y = Math.max(0, top); y < rows; y++) for (let x = Math.max(0, x0); x < Math.min(cols, x1); x++) px[y * cols + x] = color;
  };
  // Layers back to front: colour, building heights as fractions of the canvas, widths, gaps
  // (the far towers stand side by side, so no sky shows at street level).
  const layers = [
    { color: LIGHT, minH: 0.5, maxH: 0.95, minW: 4, maxW: 20, maxGap: 0 },
    { color: DARK, minH: 0.3, maxH: 0.7, minW: 5, maxW: 16, maxGap: 6 },
    { color: BLACK, minH: 0.2, maxH: 0.55, minW: 9, maxW: 24, maxGap: 4 },
  ];
  for (const layer of layers) {
    let x = -between(0, layer.maxW - 1);
    while (x < cols) {
      const w = between(layer.minW, layer.maxW);
      // At least one pixel tall; below the top row, which stays sky (unless the canvas is one row).
      const h = Math.min(Math.max(1, rows - 1), Math.max(1, Math.round(rows * (layer.minH + random() * (layer.maxH - layer.minH)))));
      const top = rows - h;
      fill(x, x + w, top, layer.color);
      if (layer.color === BLACK) {
        // Windows: from the third column and the third row of the building, a 2-pixel gap around each.
        for (let wy = top + 2; wy < rows - 2; wy += 2) {
          for (let wx = x + 3; wx + 2 <= x + w - 2; wx += 4) fill2(px, cols, rows, wx, wy, random() < 0.5 ? LIGHT : DARK);
        }
      }
      x += w + between(-3, layer.maxGap);
    }
  }
  return px;
}

function fill2(px: Uint8Array, cols: number, rows: number, x: number, y: number, color: number): void {
  if (y < 0 || y >= rows) return;
  for (let i = x; i < x + 2; i++) if (i >= 0 && i < cols) px[y * cols + i] = color;
}

function lolwut6(c: Client, args: string[]): string | null {
  const n = numericArgs(c, args, [
    [80, 1, 1000],
    [20, 1, 1000],
  ]);
  if (n === null) return null;
  const [cols, rows] = n;
  const px = skyline(cols, rows);
  const parts: string[] = [];
  for (let y = 0; y < rows; y++) {
    let line = '';
    for (let x = 0; x < cols; x++) line += ANSI_PIXEL[px[y * cols + x]];
    parts.push(line + '\n');
  }
  parts.push('Dedicated to the 8 bit game developers of past and present.\n');
  parts.push(`Original 8 bit image from Plaguemon by hikikomori. Redis ver. ${REDIS_VERSION}\n`);
  return parts.join('');
}

export const commands: CommandImpl[] = [
  {
    name: 'lolwut',
    summary:
      "Shows the Redis version, with computer art for VERSION 5 (Schotter in braille, as Redis's) and 6 (a grey skyline in Redis's frame, but our own drawing).",
    handler: lolwut,
  },
];
