/**
 * FAILOVER [TO <host> <port> [FORCE]] [ABORT] [TIMEOUT <ms>]: Redis 7.0's
 * argument parsing and checks, in Redis's order, so the same error wins.
 *
 * Mnemo never has a failover in progress, so `FAILOVER ABORT` says so. With
 * no replica attached (the usual case) a valid request gets Redis's "requires
 * connected replicas"; with replicas, the FORCE and TO checks run as in Redis,
 * and a request that passes them is refused: Mnemo does not coordinate a
 * failover (pausing writes, handing the stream over to a replica).
 */
import type { CommandImpl } from '../server/command-table.js';
import type { Client } from '../server/client.js';
import { replicationOf } from '../server/replication.js';
import { parseInt64 } from '../util/numbers.js';
import { ERR_NOT_INT, ERR_SYNTAX } from './errors.js';

function failover(c: Client, argv: string[]): void {
  if (argv.length === 2 && argv[1].toLowerCase() === 'abort') {
    c.addError('ERR No failover in progress.');
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
  if (c.server.isReplica) {
    c.addError('ERR FAILOVER is not valid when server is a replica.');
    return;
  }
  const replicas = replicationOf(c.server).replicas;
  if (replicas.length === 0) {
    c.addError('ERR FAILOVER requires connected replicas.');
    return;
  }
  if (force && (timeout === 0 || host === null)) {
    c.addError('ERR FAILOVER with force option requires both a timeout and target HOST and IP.');
    return;
  }
  if (host !== null) {
    const target = host.toLowerCase();
    if (!replicas.some((r) => r.ip.toLowerCase() === target && r.port === port)) {
      c.addError('ERR FAILOVER target HOST and PORT is not a replica.');
      return;
    }
  }
  c.addError('ERR FAILOVER is not supported by Mnemo');
}

export const commands: CommandImpl[] = [
  {
    name: 'failover',
    summary: "Checks a coordinated failover request as Redis does; with replicas attached, a valid one is refused (not supported).",
    handler: failover,
  },
];
