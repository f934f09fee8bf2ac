/**
 * Propagation targets and sink types (kept in a module of their own, with no
 * imports, so the AOF, replication and scripting modules can use them without
 * an import cycle through server.ts).
 */

/** Propagation targets (Redis's PROPAGATE_AOF / PROPAGATE_REPL): what redis.set_repl selects. */
export const PROPAGATE_AOF = 1;
export const PROPAGATE_REPL = 2;
export const PROPAGATE_ALL = 3;

/** A propagation sink; `target` says which stream it is (untagged sinks get every write). */
export type PropagateSink = ((db: number, argv: string[]) => void) & { target?: number };

/** A write waiting for the end of the outermost command, and the streams it goes to. */
export interface PendingWrite {
  db: number;
  argv: string[];
  target: number;
}
