/**
 * The server's one source of time. Real time by default; tests (and users'
 * tests through the embedding API) can freeze it and move it by hand, so TTLs,
 * blocking timeouts and idle times are testable without sleeping.
 */
export class Clock {
  private frozenAt: number | null = null;
  private offset = 0;

  /** Milliseconds since the Unix epoch, as the server sees it. */
  now(): number {
    return this.frozenAt !== null ? this.frozenAt : Date.now() + this.offset;
  }

  /** Microseconds since the epoch (TIME, slowlog). */
  nowMicros(): number {
    if (this.frozenAt !== null) return this.frozenAt * 1000;
    return Math.floor((performance.timeOrigin + performance.now()) * 1000) + this.offset * 1000;
  }

  get frozen(): boolean {
    return this.frozenAt !== null;
  }

  /** Stops time at the current instant (or at `at` ms since the epoch). */
  freeze(at?: number): void {
    this.frozenAt = at ?? this.now();
    // The server's cached clocks (LRU seconds) must read the frozen instant at once.
    this.onAdvance?.();
  }

  /** Moves time forward by `ms` (frozen or not). */
  advance(ms: number): void {
    if (this.frozenAt !== null) this.frozenAt += ms;
    else this.offset += ms;
    this.onAdvance?.();
  }

  /** Lets time run again from where it stands now. */
  resume(): void {
    if (this.frozenAt === null) return;
    this.offset = this.frozenAt - Date.now();
    this.frozenAt = null;
    this.onAdvance?.();
  }

  /** Set by the server: re-checks timers (blocked clients, expiry) after a jump. */
  onAdvance?: () => void;
}
