/**
 * FAILOVER [TO <host> <port> [FORCE]] [ABORT] [TIMEOUT <ms>]: Redis 7.0's
 * coordinated failover, with its argument parsing and checks in Redis's order,
 * so the same error wins. An accepted request pauses writes; once the target
 * (or any replica) acknowledged the whole stream, or at the TIMEOUT with FORCE,
 * this master becomes the target's replica and its PSYNC carries FAILOVER,
 * which turns the target into the master (server/replication.ts). TIMEOUT
 * without FORCE, FAILOVER ABORT, or a target refusing the PSYNC undo it.
 */
import type { CommandImpl } from '../server/command-table.js';
import type { Client } from '../server/client.js';
import { replicationOf } from '../server/replication.js';
import { parseInt64 } from '../util/numbers.js';
import { ERR_NOT_INT, ERR_SYNTAX } from './errors.js';

function failover(c: Client, argv: string[]): void {
  if (c.server.cluster !== null) {
    c.addError('ERR FAILOVER not allowed in cluster mode. Use CLUSTER FAILOVER command instead.');
    return;
  }
  const m = replicationOf(c.server);
  if (argv.length === 2 && argv[1].toLowerCase() === 'abort') {
    if (m.failover === null) {
      c.addError('ERR No failover in progress.');
      return;
    }
    m.abortFailover('Failover manually aborted');
    c.addOK();
    return;
  }
  let host: string | null = null;
  let port = 0;
  let timeout = 0;
  let force = false;
  for (let j = 1; j < argv.length; j++) {
    const opt = argv[j].toLowerCase();
    if (opt === 'to' && j + 2 < argv.length && host === null) {
      const p = parseInt64(argv[j + 2]);
      if (p === null) {
        c.addError(ERR_NOT_INT);
        return;
      }
      host = argv[j + 1];
      port = p;
      j += 2;
    } else if (opt === 'timeout' && j + 1 < argv.length && timeout === 0) {
      const t = parseInt64(argv[j + 1]);
      if (t === null) {
        c.addError(ERR_NOT_INT);
        return;
      }
      if (t <= 0) {
        c.addError('ERR FAILOVER timeout must be greater than 0');
        return;
      }
      timeout = t;
      j += 1;
    } else if (opt === 'force' && !force) {
      force = true;
    } else {
      c.addError(ERR_SYNTAX);
      return;
    }
  }
  if (m.failover !== null) {
    c.addError('ERR FAILOVER already in progress.');
    return;
  }
  if (c.server.isReplica) {
    c.addError('ERR FAILOVER is not valid when server is a replica.');
    return;
  }
  const replicas = m.replicas;
  if (replicas.length === 0) {
    c.addError('ERR FAILOVER requires connected replicas.');
    return;
  }
  if (force && (timeout === 0 || host === null)) {
    c.addError('ERR FAILOVER with force option requires both a timeout and target HOST and IP.');
    return;
  }
  if (host !== null) {
    const target = m.findReplica(host, port);
    if (target === undefined) {
      c.addError('ERR FAILOVER target HOST and PORT is not a replica.');
      return;
    }
    if (target.state !== 'online') {
      c.addError('ERR FAILOVER target replica is not online.');
      return;
    }
  }
  m.startFailover(host, port, timeout, force);
  c.addOK();
}

export const commands: CommandImpl[] = [
  {
    name: 'failover',
    summary: 'Hands the master role to a replica once it caught up, with writes paused meanwhile (or ABORT it).',
    handler: failover,
  },
];
