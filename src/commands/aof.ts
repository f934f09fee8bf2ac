/**
 * BGREWRITEAOF: rewrites the append-only file in the background (see
 * src/persistence/aof/rewrite.ts), with the AOF on or off, as in Redis 7.0.
 * While a BGSAVE runs (or inside MULTI) it is scheduled instead, as Redis
 * does with its one child process at a time.
 */
import type { CommandImpl } from '../server/command-table.js';
import type { Client } from '../server/client.js';
import { getAof } from '../persistence/aof/index.js';
import { hasActiveChild } from '../persistence/index.js';

const CANNOT = "ERR Can't execute an AOF background rewriting. Please check the server logs for more information.";

function bgrewriteaof(c: Client): void {
  const aof = getAof(c.server);
  if (aof === undefined) {
    c.addError(CANNOT);
    return;
  }
  if (aof.rewrite !== null) {
    c.addError('ERR Background append only file rewriting already in progress');
  } else if (hasActiveChild(c.server) || c.inMulti) {
    aof.rewriteScheduled = true;
    aof.consecutiveFailures = 0;
    c.addSimple('Background append only file rewriting scheduled');
  } else if (aof.startRewrite() === null) {
    c.addSimple('Background append only file rewriting started');
  } else {
    c.addError(CANNOT);
  }
}

export const commands: CommandImpl[] = [
  { name: 'bgrewriteaof', summary: 'Rewrites the append-only file in the background as the shortest commands that rebuild the dataset.', handler: bgrewriteaof },
];
