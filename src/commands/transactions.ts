/**
 * Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH (Redis 7.0).
 *
 * The dispatcher does the queueing: while `c.multi` is set, commands other
 * than EXEC/DISCARD/MULTI/WATCH/QUIT/RESET reply +QUEUED, and a command
 * refused while queueing (unknown, wrong arity, no-multi) marks the
 * transaction aborted. Watched keys and the dirty flag live in
 * server/watch.ts; the propagation of an EXEC's writes as one MULTI ... EXEC
 * unit is Server.call's (every write of one top-level command is batched).
 */
import type { CommandImpl } from '../server/command-table.js';
import type { Client } from '../server/client.js';
import { clientIntrospection } from './client.js';

const EXECABORT = 'EXECABORT Transaction discarded because of previous errors.';

function multi(c: Client): void {
  if (c.multi !== null) {
    // Not a queueing error: the open transaction goes on.
    c.addError('ERR MULTI calls can not be nested');
    return;
  }
  c.multi = { queue: [], aborted: false, bytes: 0 };
  c.addOK();
}

function discard(c: Client): void {
  if (c.multi === null) {
    c.addError('ERR DISCARD without MULTI');
    return;
  }
  c.server.watches.discard(c);
  c.addOK();
}

function exec(c: Client): void {
  const tx = c.multi;
  if (tx === null) {
    c.addError('ERR EXEC without MULTI');
    return;
  }
  const server = c.server;
  const watches = server.watches;
  // A queueing error wins over a touched watched key.
  if (tx.aborted) {
    watches.discard(c);
    c.addError(EXECABORT);
    return;
  }
  if (watches.isDirty(c) || watches.expiredSinceWatch(c)) {
    watches.discard(c);
    c.addNullArray();
    return;
  }
  // Our own writes must not doom anything of ours from here on.
  watches.unwatchAll(c);
  const queue = tx.queue;
  const errorsBefore = c.errorCount;
  const wasInMulti = c.inMulti;
  c.addArrayLen(queue.length);
  // Blocking commands answer like their non-blocking forms, and clients blocked
  // on keys written here wake only once the whole transaction has run.
  c.inMulti = true;
  server.inExec++;
  server.blocking.deferDepth++;
  try {
    for (let i = 0; i < queue.length; i++) {
      // ACL rules may have changed since the command was queued (Redis checks again here).
      const refused = server.aclActive ? server.acl.checkQueued(c, queue[i].cmd, queue[i].argv) : null;
      if (refused !== null) c.addError(refused);
      else server.call(c, queue[i].cmd, queue[i].argv);
    }
  } finally {
    server.blocking.deferDepth--;
    server.inExec--;
    c.inMulti = wasInMulti;
    // CLIENT INFO inside the transaction still sees it (flags=x): end it only now.
    watches.discard(c);
  }
  // The queued commands counted their own errors; EXEC itself did not fail.
  c.errorCount = errorsBefore;
  // Ready keys are served by the dispatcher when EXEC's call returns, after
  // the transaction's writes were propagated.
}

function watch(c: Client, argv: string[]): void {
  if (c.multi !== null) {
    c.addError('ERR WATCH inside MULTI is not allowed');
    return;
  }
  const watches = c.server.watches;
  // Already doomed: watching more cannot change the outcome.
  if (!watches.isDirty(c)) {
    for (let i = 1; i < argv.length; i++) watches.watch(c, argv[i]);
  }
  c.addOK();
}

function unwatch(c: Client): void {
  c.server.watches.unwatch(c);
  c.addOK();
}

// CLIENT LIST / CLIENT INFO: multi=, multi-mem= and the x and d flags.
clientIntrospection.multiQueued = (c) => (c.multi === null ? -1 : c.multi.queue.length);
// Redis counts each queued command's argument bytes plus a pointer per argument (kept by the dispatcher).
clientIntrospection.multiMemory = (c) => (c.multi === null ? 0 : c.multi.bytes);
clientIntrospection.dirtyCas = (c) => c.server.watches.isDirty(c);

export const commands: CommandImpl[] = [
  { name: 'multi', summary: 'Starts queueing commands to run later as one atomic transaction.', handler: multi },
  { name: 'exec', summary: 'Runs the queued transaction, unless a watched key changed or queueing failed.', handler: exec },
  { name: 'discard', summary: 'Drops the queued transaction and every watched key.', handler: discard },
  { name: 'watch', summary: 'Makes the next EXEC fail if any of these keys changes before it.', handler: watch },
  { name: 'unwatch', summary: 'Forgets every watched key of the connection.', handler: unwatch },
];
