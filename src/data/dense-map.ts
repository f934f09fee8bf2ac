/**
 * A map with O(1) get/set/delete, O(1) uniform random entry, and a SCAN cursor
 * with Redis's guarantee. Entries live in dense parallel arrays; a Map indexes them.
 * Delete swaps the last entry into the hole, so entries only ever move towards
 * lower positions. The scan cursor walks positions from high to low: an entry
 * present for the whole scan can move only into the part still to be visited,
 * so it is returned at least once (maybe twice), whatever happens between calls.
 *
 * Cursor encoding: 0 starts and ends; otherwise cursor = number of positions
 * still to visit (positions [0, cursor) remain).
 */
export class DenseMap<V> {
  protected index = new Map<string, number>();
  keys: string[] = [];
  vals: V[] = [];

  get size(): number {
    return this.keys.length;
  }

  has(key: string): boolean {
    return this.index.has(key);
  }

  get(key: string): V | undefined {
    const i = this.index.get(key);
    return i === undefined ? undefined : this.vals[i];
  }

  /** Position of key, or -1. */
  find(key: string): number {
    const i = this.index.get(key);
    return i === undefined ? -1 : i;
  }

  /** Sets key; returns true if it was added, false if it replaced a value. */
  set(key: string, val: V): boolean {
    const n = this.keys.length;
    this.put(key, val);
    return this.keys.length !== n;
  }

  /** Sets key and returns its position; a new key is appended (position size - 1). */
  put(key: string, val: V): number {
    const i = this.index.get(key);
    if (i !== undefined) {
      this.vals[i] = val;
      return i;
    }
    const n = this.keys.length;
    this.index.set(key, n);
    this.keys.push(key);
    this.vals.push(val);
    this.onAdd(n);
    return n;
  }

  delete(key: string): boolean {
    const i = this.index.get(key);
    if (i === undefined) return false;
    this.index.delete(key);
    const last = this.keys.length - 1;
    if (i !== last) {
      const lk = this.keys[last];
      this.keys[i] = lk;
      this.vals[i] = this.vals[last];
      this.index.set(lk, i);
      this.onMove(last, i);
    }
    this.keys.pop();
    this.vals.pop();
    return true;
  }

  clear(): void {
    this.index = new Map();
    this.keys = [];
    this.vals = [];
  }

  /** A uniformly random position, or -1 when empty. */
  randomIndex(): number {
    const n = this.keys.length;
    return n === 0 ? -1 : Math.floor(Math.random() * n);
  }

  /**
   * Visits about `count` positions starting at `cursor`, calling fn(key, value)
   * for each; returns the next cursor (0 when done).
   */
  scan(cursor: number, count: number, fn: (key: string, val: V) => void): number {
    let pos = cursor === 0 ? this.keys.length : Math.min(cursor, this.keys.length);
    let visited = 0;
    while (pos > 0 && visited < count) {
      pos--;
      fn(this.keys[pos], this.vals[pos]);
      visited++;
    }
    return pos;
  }

  /** Hooks for subclasses keeping extra per-entry arrays aligned. */
  protected onAdd(_i: number): void {}
  protected onMove(_from: number, _to: number): void {}
}
