/**
 * The part of Redis's replication handshake that snapshot tools use:
 * `redis-cli --rdb` (and mnemo-cli's) send `REPLCONF rdb-only 1`, then `SYNC`,
 * read `$<length>` and the RDB image, and hang up. Mnemo has no replicas yet:
 * SYNC/PSYNC from a client that did not ask for the RDB only are refused,
 * rather than accepted and then never fed the write stream a replica expects.
 */
import type { CommandImpl } from '../server/command-table.js';
import type { Client } from '../server/client.js';
import { writeRdbSync } from '../persistence/index.js';
import { ERR_SYNTAX } from './errors.js';

/** Clients that sent REPLCONF rdb-only 1. */
const rdbOnly = new WeakSet<Client>();

const ERR_NO_REPLICATION =
  'ERR Replication is not supported by Mnemo; send REPLCONF rdb-only 1 first to fetch an RDB snapshot (redis-cli --rdb)';

function replconf(c: Client, argv: string[]): void {
  if (argv.length % 2 === 0) {
    c.addError(ERR_SYNTAX);
    return;
  }
  for (let i = 1; i < argv.length; i += 2) {
    const option = argv[i].toLowerCase();
    const value = argv[i + 1];
    switch (option) {
      case 'listening-port':
      case 'ip-address':
      case 'capa':
        break;
      case 'rdb-only':
        if (value !== '0' && value !== '1') {
          c.addError('ERR value is out of range, value must between 0 and 1');
          return;
        }
        if (value === '1') rdbOnly.add(c);
        else rdbOnly.delete(c);
        break;
      case 'ack':
      case 'getack':
        // Sent only between a master and its replicas: Redis answers nothing here.
        return;
      default:
        c.addError(`ERR Unrecognized REPLCONF option: ${argv[i]}`);
        return;
    }
  }
  c.addOK();
}

/** SYNC: the RDB image as `$<length>\r\n<bytes>` (no trailing CRLF, as Redis), then the connection closes. */
function sync(c: Client): void {
  if (!rdbOnly.has(c)) {
    c.addError(ERR_NO_REPLICATION);
    return;
  }
  const chunks: Buffer[] = [];
  // Synchronous, like SAVE: nothing runs in between, so the image is a point in time.
  writeRdbSync(c.server, (chunk) => chunks.push(Buffer.from(chunk)));
  const image = Buffer.concat(chunks);
  c.addRaw(`$${image.length}\r\n`);
  c.addRawBuffer(image);
  c.closeAfterReply = true;
}

/** PSYNC: a full resynchronisation header, then what SYNC sends. */
function psync(c: Client): void {
  if (!rdbOnly.has(c)) {
    c.addError(ERR_NO_REPLICATION);
    return;
  }
  c.addRaw(`+FULLRESYNC ${c.server.runId} 0\r\n`);
  sync(c);
}

export const commands: CommandImpl[] = [
  { name: 'replconf', summary: 'Replication handshake options; rdb-only lets SYNC send just a snapshot.', handler: replconf },
  { name: 'sync', summary: 'Sends an RDB snapshot to a client that asked for the RDB only, then disconnects.', handler: sync },
  { name: 'psync', summary: 'Like SYNC after a FULLRESYNC header, for RDB-only clients.', handler: psync },
];
