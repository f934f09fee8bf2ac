/**
 * The interactive line editor of mnemo-cli, behaving like the linenoise library redis-cli
 * uses (multi-line mode): the same keys (arrows, Home/End, Ctrl-A/E/B/F/P/N/K/U/W/T/L/D/H,
 * Ctrl-C), history with up/down, Tab cycling through completions, grey hints after the
 * cursor, and the same screen updates, so a session looks the same in both tools.
 * Text is handled as bytes (latin1), one column per byte, as linenoise does.
 */
import { readFileSync, writeFileSync, chmodSync } from 'node:fs';
import type { ByteReader } from './byte-reader.js';
import type { Hint } from './help.js';

export interface LineEditorHooks {
  completion?: (buf: string) => string[];
  hints?: (buf: string) => Hint | null;
}

const KEY = {
  CTRL_A: 1,
  CTRL_B: 2,
  CTRL_C: 3,
  CTRL_D: 4,
  CTRL_E: 5,
  CTRL_F: 6,
  CTRL_H: 8,
  TAB: 9,
  CTRL_K: 11,
  CTRL_L: 12,
  ENTER: 13,
  CTRL_N: 14,
  CTRL_P: 16,
  CTRL_T: 20,
  CTRL_U: 21,
  CTRL_W: 23,
  ESC: 27,
  BACKSPACE: 127,
} as const;

/** Terminals linenoise does not try to drive (it then reads a plain line). */
const UNSUPPORTED_TERMS = ['dumb', 'cons25', 'emacs'];

export function isUnsupportedTerm(env: NodeJS.ProcessEnv): boolean {
  const t = env.TERM;
  return t !== undefined && UNSUPPORTED_TERMS.includes(t.toLowerCase());
}

interface EditState {
  buf: string;
  pos: number;
  oldpos: number;
  prompt: string;
  cols: number;
  maxrows: number;
  historyIndex: number;
}

export class LineEditor {
  history: string[] = [];
  historyMaxLen = 100;
  maskMode = false;
  hooks: LineEditorHooks = {};

  constructor(
    private readonly input: ByteReader,
    private readonly write: (s: string) => void,
    private readonly setRaw: (on: boolean) => void,
    private readonly columns: () => number,
    private readonly beep: () => void,
  ) {}

  /** Adds a line unless it repeats the last one; drops the oldest past the maximum. */
  historyAdd(line: string): boolean {
    if (this.historyMaxLen === 0) return false;
    if (this.history.length > 0 && this.history[this.history.length - 1] === line) return false;
    if (this.history.length === this.historyMaxLen) this.history.shift();
    this.history.push(line);
    return true;
  }

  historyLoad(file: string): void {
    let text: string;
    try {
      text = readFileSync(file, 'latin1');
    } catch {
      return;
    }
    for (const raw of text.split('\n')) {
      if (raw === '' ) continue;
      const cr = raw.indexOf('\r');
      this.historyAdd(cr >= 0 ? raw.slice(0, cr) : raw);
    }
  }

  historySave(file: string): void {
    try {
      writeFileSync(file, this.history.map((l) => l + '\n').join(''), { encoding: 'latin1', mode: 0o600 });
      chmodSync(file, 0o600);
    } catch {
      // Like linenoise: a history file that cannot be written is not an error.
    }
  }

  clearScreen(): void {
    this.write('\x1b[H\x1b[2J');
  }

  /**
   * Reads one line in raw mode with editing; null on Ctrl-C, or Ctrl-D on an empty line.
   * A newline is written after the line either way, as linenoise does.
   */
  async readLine(prompt: string): Promise<string | null> {
    this.setRaw(true);
    this.input.setEditing(true);
    let result: string | null;
    try {
      result = await this.edit(prompt);
    } finally {
      this.input.setEditing(false);
      this.setRaw(false);
    }
    this.write('\n');
    return result;
  }

  private async edit(prompt: string): Promise<string | null> {
    const l: EditState = { buf: '', pos: 0, oldpos: 0, prompt, cols: this.columns(), maxrows: 0, historyIndex: 0 };
    // The entry being edited lives at the end of the history while editing.
    this.historyAdd('');
    this.write(prompt);
    for (;;) {
      let c = await this.input.readByte();
      if (c === null) return l.buf;
      if (c === KEY.TAB && this.hooks.completion) {
        c = await this.completeLine(l);
        if (c === null) return l.buf;
        if (c === 0) continue;
      }
      switch (c) {
        case KEY.ENTER: {
          this.history.pop();
          this.moveEnd(l);
          // Redraw without the hint, so the accepted line stays as typed.
          const hints = this.hooks.hints;
          this.hooks.hints = undefined;
          this.refresh(l);
          this.hooks.hints = hints;
          return l.buf;
        }
        case KEY.CTRL_C:
          return null;
        case KEY.BACKSPACE:
        case KEY.CTRL_H:
          if (l.pos > 0 && l.buf.length > 0) {
            l.buf = l.buf.slice(0, l.pos - 1) + l.buf.slice(l.pos);
            l.pos--;
            this.refresh(l);
          }
          break;
        case KEY.CTRL_D:
          if (l.buf.length > 0) {
            this.deleteAtCursor(l);
          } else {
            this.history.pop();
            return null;
          }
          break;
        case KEY.CTRL_T:
          if (l.pos > 0 && l.pos < l.buf.length) {
            const b = l.buf;
            l.buf = b.slice(0, l.pos - 1) + b[l.pos] + b[l.pos - 1] + b.slice(l.pos + 1);
            if (l.pos !== l.buf.length - 1) l.pos++;
            this.refresh(l);
          }
          break;
        case KEY.CTRL_B:
          this.moveLeft(l);
          break;
        case KEY.CTRL_F:
          this.moveRight(l);
          break;
        case KEY.CTRL_P:
          this.historyStep(l, 1);
          break;
        case KEY.CTRL_N:
          this.historyStep(l, -1);
          break;
        case KEY.ESC:
          await this.escapeSequence(l);
          break;
        case KEY.CTRL_U:
          l.buf = '';
          l.pos = 0;
          this.refresh(l);
          break;
        case KEY.CTRL_K:
          l.buf = l.buf.slice(0, l.pos);
          this.refresh(l);
          break;
        case KEY.CTRL_A:
          if (l.pos !== 0) {
            l.pos = 0;
            this.refresh(l);
          }
          break;
        case KEY.CTRL_E:
          this.moveEnd(l);
          break;
        case KEY.CTRL_L:
          this.clearScreen();
          this.refresh(l);
          break;
        case KEY.CTRL_W: {
          const old = l.pos;
          while (l.pos > 0 && l.buf[l.pos - 1] === ' ') l.pos--;
          while (l.pos > 0 && l.buf[l.pos - 1] !== ' ') l.pos--;
          l.buf = l.buf.slice(0, l.pos) + l.buf.slice(old);
          this.refresh(l);
          break;
        }
        default:
          l.buf = l.buf.slice(0, l.pos) + String.fromCharCode(c) + l.buf.slice(l.pos);
          l.pos++;
          this.refresh(l);
      }
    }
  }

  private async escapeSequence(l: EditState): Promise<void> {
    const s0 = await this.input.readByte();
    const s1 = await this.input.readByte();
    if (s0 === null || s1 === null) return;
    const a = String.fromCharCode(s0);
    const b = String.fromCharCode(s1);
    if (a === '[') {
      if (b >= '0' && b <= '9') {
        const s2 = await this.input.readByte();
        if (s2 === 0x7e /* ~ */ && b === '3') this.deleteAtCursor(l);
      } else if (b === 'A') this.historyStep(l, 1);
      else if (b === 'B') this.historyStep(l, -1);
      else if (b === 'C') this.moveRight(l);
      else if (b === 'D') this.moveLeft(l);
      else if (b === 'H') this.moveHome(l);
      else if (b === 'F') this.moveEnd(l);
    } else if (a === 'O') {
      if (b === 'H') this.moveHome(l);
      else if (b === 'F') this.moveEnd(l);
    }
  }

  private deleteAtCursor(l: EditState): void {
    if (l.buf.length > 0 && l.pos < l.buf.length) {
      l.buf = l.buf.slice(0, l.pos) + l.buf.slice(l.pos + 1);
      this.refresh(l);
    }
  }

  private moveLeft(l: EditState): void {
    if (l.pos > 0) {
      l.pos--;
      this.refresh(l);
    }
  }

  private moveRight(l: EditState): void {
    if (l.pos !== l.buf.length) {
      l.pos++;
      this.refresh(l);
    }
  }

  private moveHome(l: EditState): void {
    if (l.pos !== 0) {
      l.pos = 0;
      this.refresh(l);
    }
  }

  private moveEnd(l: EditState): void {
    if (l.pos !== l.buf.length) {
      l.pos = l.buf.length;
      this.refresh(l);
    }
  }

  /** dir 1 = older entry, -1 = newer; the edited text is kept in its history slot. */
  private historyStep(l: EditState, dir: 1 | -1): void {
    const h = this.history;
    if (h.length <= 1) return;
    h[h.length - 1 - l.historyIndex] = l.buf;
    l.historyIndex += dir;
    if (l.historyIndex < 0) {
      l.historyIndex = 0;
      return;
    }
    if (l.historyIndex >= h.length) {
      l.historyIndex = h.length - 1;
      return;
    }
    l.buf = h[h.length - 1 - l.historyIndex];
    l.pos = l.buf.length;
    this.refresh(l);
  }

  /**
   * Tab: shows the first completion, Tab again the next one (then the original text, with
   * a beep), Esc goes back to the original; any other key keeps the shown completion and
   * is then handled as usual (returned). 0 means "nothing more to do".
   */
  private async completeLine(l: EditState): Promise<number | null> {
    const list = this.hooks.completion!(l.buf);
    if (list.length === 0) {
      this.beep();
      return 0;
    }
    let i = 0;
    for (;;) {
      if (i < list.length) {
        const saved = { buf: l.buf, pos: l.pos };
        l.buf = list[i];
        l.pos = l.buf.length;
        this.refresh(l);
        l.buf = saved.buf;
        l.pos = saved.pos;
      } else {
        this.refresh(l);
      }
      const c = await this.input.readByte();
      if (c === null) return null;
      if (c === KEY.TAB) {
        i = (i + 1) % (list.length + 1);
        if (i === list.length) this.beep();
      } else if (c === KEY.ESC) {
        if (i < list.length) this.refresh(l);
        return c;
      } else {
        if (i < list.length) {
          l.buf = list[i];
          l.pos = l.buf.length;
        }
        return c;
      }
    }
  }

  /**
   * Redraws the (possibly wrapped) edited line: clears the rows the previous drawing used,
   * writes prompt + text + hint, and puts the cursor back at its position.
   */
  private refresh(l: EditState): void {
    const plen = l.prompt.length;
    const cols = l.cols;
    const len = l.buf.length;
    let rows = Math.floor((plen + len + cols - 1) / cols);
    const rpos = Math.floor((plen + l.oldpos + cols) / cols);
    const oldRows = l.maxrows;
    if (rows > l.maxrows) l.maxrows = rows;

    let ab = '';
    if (oldRows - rpos > 0) ab += `\x1b[${oldRows - rpos}B`;
    for (let j = 0; j < oldRows - 1; j++) ab += '\r\x1b[0K\x1b[1A';
    ab += '\r\x1b[0K';
    ab += l.prompt + (this.maskMode ? '*'.repeat(len) : l.buf);
    ab += this.hintText(l, plen);
    if (l.pos && l.pos === len && (l.pos + plen) % cols === 0) {
      ab += '\n\r';
      rows++;
      if (rows > l.maxrows) l.maxrows = rows;
    }
    const rpos2 = Math.floor((plen + l.pos + cols) / cols);
    if (rows - rpos2 > 0) ab += `\x1b[${rows - rpos2}A`;
    const col = (plen + l.pos) % cols;
    ab += col ? `\r\x1b[${col}C` : '\r';
    l.oldpos = l.pos;
    this.write(ab);
  }

  private hintText(l: EditState, plen: number): string {
    if (!this.hooks.hints || plen + l.buf.length >= l.cols) return '';
    const hint = this.hooks.hints(l.buf);
    if (!hint) return '';
    const max = l.cols - (plen + l.buf.length);
    const text = hint.text.slice(0, max);
    let color = hint.color;
    if (hint.bold === 1 && color === -1) color = 37;
    if (color === -1 && hint.bold === 0) return text;
    return `\x1b[${hint.bold};${color};49m${text}\x1b[0m`;
  }
}
