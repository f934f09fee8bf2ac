/**
 * Byte-at-a-time reading of a stream (the terminal or piped stdin), as the line editor
 * reads keys with read(fd, &c, 1). A piped stream is paused whenever nobody is reading.
 * A terminal in interactive mode is read all the time and what is typed while a command
 * runs is dropped, as linenoise drops it (it switches to raw mode with TCSAFLUSH).
 */
import type { Readable } from 'node:stream';

export class ByteReader {
  private chunks: Buffer[] = [];
  private offset = 0;
  private ended = false;
  private waiter: (() => void) | null = null;
  /** Terminal mode: keep reading, and drop input that arrives outside of a line edit. */
  private dropIdleInput = false;
  private editing = false;

  constructor(private readonly input: Readable) {
    input.on('data', (chunk: Buffer | string) => {
      if (this.dropIdleInput && !this.editing) return;
      this.chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
      if (!this.waiter && !this.dropIdleInput) input.pause();
      this.wake();
    });
    input.on('end', () => {
      this.ended = true;
      this.wake();
    });
    input.on('error', () => {
      this.ended = true;
      this.wake();
    });
    input.pause();
  }

  /** Switches to terminal mode (see the class comment). */
  dropInputWhileIdle(): void {
    this.dropIdleInput = true;
    this.input.resume();
  }

  /** Marks a line edit in progress: input is kept between begin and end. */
  setEditing(on: boolean): void {
    this.editing = on;
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /** True when bytes are already buffered (a pasted line continues, ...). */
  get buffered(): boolean {
    return this.chunks.length > 0;
  }

  /** The next byte, or null at end of input. */
  async readByte(): Promise<number | null> {
    for (;;) {
      const head = this.chunks[0];
      if (head) {
        const b = head[this.offset++];
        if (this.offset >= head.length) {
          this.chunks.shift();
          this.offset = 0;
        }
        return b;
      }
      if (this.ended) return null;
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        this.input.resume();
      });
    }
  }

  /** Everything until end of input (for -x, -X and --pipe). */
  async readAll(): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (;;) {
      const head = this.chunks.shift();
      if (head) {
        parts.push(head.subarray(this.offset));
        this.offset = 0;
        continue;
      }
      if (this.ended) return Buffer.concat(parts);
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        this.input.resume();
      });
    }
  }

  /** A line without its "\n" (a "\r" stays), or null at end of input with nothing read. */
  async readLine(): Promise<string | null> {
    let line = '';
    let any = false;
    for (;;) {
      const b = await this.readByte();
      if (b === null) return any ? line : null;
      any = true;
      if (b === 0x0a) return line;
      line += String.fromCharCode(b);
    }
  }
}
