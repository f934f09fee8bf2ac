/**
 * Replication commands of a master: the handshake a replica sends (REPLCONF,
 * PSYNC or SYNC), its acknowledgements (REPLCONF ACK), and WAIT. The stream
 * and the backlog live in src/server/replication.ts. `redis-cli --rdb` uses
 * the same handshake with `REPLCONF rdb-only 1`: it gets the snapshot alone
 * and the connection closes.
 */
import type { CommandImpl } from '../server/command-table.js';
import type { Client } from '../server/client.js';
import { writeRdbSync } from '../persistence/index.js';
import { replicationOf } from '../server/replication.js';
import { parseInt64 } from '../util/numbers.js';
import { log } from '../persistence/log.js';
import { randomBytes } from 'node:crypto';
import { mayBlock, blockTimeoutMs } from './blocking-pop.js';
import { ERR_SYNTAX, ERR_NOT_INT } from './errors.js';

/** Clients that sent REPLCONF rdb-only 1. */
const rdbOnly = new WeakSet<Client>();

/** NET_HOST_STR_LEN: the longest address REPLCONF ip-address keeps. */
const HOST_STR_LEN = 256;

function replconf(c: Client, argv: string[]): void {
  if (argv.length % 2 === 0) {
    c.addError(ERR_SYNTAX);
    return;
  }
  const m = replicationOf(c.server);
  for (let i = 1; i < argv.length; i += 2) {
    const option = argv[i].toLowerCase();
    const value = argv[i + 1];
    switch (option) {
      case 'listening-port': {
        const port = parseInt64(value);
        if (port === null || typeof port === 'bigint') {
          c.addError(ERR_NOT_INT);
          return;
        }
        m.setListeningPort(c, port);
        break;
      }
      case 'ip-address':
        if (value.length >= HOST_STR_LEN) {
          c.addError(`ERR REPLCONF ip-address provided by replica instance is too long: ${value.length} bytes`);
          return;
        }
        m.setIpAddress(c, value);
        break;
      case 'capa':
        m.setCapa(c, value);
        break;
      case 'rdb-filter-only': {
        // An include list: nothing (""), or "functions" (redis-cli --replica and --functions-rdb).
        let functions = false;
        for (const f of value.split(/\s+/).filter(Boolean)) {
          if (f.toLowerCase() !== 'functions') {
            c.addError(`ERR Unsupported rdb-filter-only option: ${f}`);
            return;
          }
          functions = true;
        }
        m.setFilter(c, functions);
        break;
      }
      case 'rdb-only':
        if (value !== '0' && value !== '1') {
          c.addError('ERR value is out of range, value must between 0 and 1');
          return;
        }
        if (value === '1') rdbOnly.add(c);
        else rdbOnly.delete(c);
        break;
      case 'ack': {
        // From an attached replica: its processed offset. Never replied to.
        const offset = parseInt64(value);
        if (offset !== null && typeof offset === 'number') m.ack(c, offset);
        return;
      }
      case 'getack':
        // From our master's stream (we are its replica): answer with our offset. Others get nothing.
        if (c.isMaster) m.link?.sendAck();
        return;
      default:
        c.addError(`ERR Unrecognized REPLCONF option: ${argv[i]}`);
        return;
    }
  }
  c.addOK();
}

/** SYNC and PSYNC <replid> <offset>. */
function syncCommand(c: Client, argv: string[]): void {
  const m = replicationOf(c.server);
  // A replica repeating itself is ignored, as in Redis.
  if (m.isReplica(c)) return;
  if (c.len > 0) {
    c.addError('ERR SYNC and PSYNC are invalid with pending output');
    return;
  }
  const psync = argv[0].toLowerCase() === 'psync';
  if (psync && argv.length > 3 && argv[3].toLowerCase() === 'failover') {
    // Our master is failing over to us: with our replication id, we become the master.
    log(c.server, 'warning', `Failover request received for replid ${argv[1]}.`);
    if (m.link === null) {
      c.addError("ERR PSYNC FAILOVER can't be sent to a master.");
      return;
    }
    if (argv[1].toLowerCase() !== m.replId.toLowerCase()) {
      c.addError('ERR PSYNC FAILOVER replid must match my replid.');
      return;
    }
    m.promote();
    c.server.config.setInternal('replicaof', 'no one');
    log(c.server, 'notice', `MASTER MODE enabled (failover request from 'id=${c.id} addr=${c.addr}')`);
  }
  // Replicas do not sync with a master that is failing over.
  if (m.failover !== null) {
    c.addError("NOMASTERLINK Can't SYNC while failing over");
    return;
  }
  // A replica serves sub-replicas only while its own link is up: a snapshot taken now
  // would not be its master's stream (they try again later, keeping what they have).
  if (m.link !== null && m.link.state !== 'connected') {
    c.addError("NOMASTERLINK Can't SYNC while not connected with my master");
    return;
  }
  let offset = -1;
  if (psync) {
    const n = parseInt64(argv[2]);
    if (n === null || typeof n === 'bigint') {
      c.addError(ERR_NOT_INT);
      return;
    }
    offset = n;
  }
  if (rdbOnly.has(c)) {
    // redis-cli --rdb: the snapshot, then the connection closes.
    if (psync) c.addRaw(`+FULLRESYNC ${m.replId} ${m.offset}\r\n`);
    const chunks: Buffer[] = [];
    writeRdbSync(c.server, (chunk) => chunks.push(Buffer.from(chunk)), m.snapshotFilter(c));
    const image = Buffer.concat(chunks);
    // With capa eof, Redis's diskless format (what a Redis 7.0 master with repl-diskless-sync sends).
    const mark = m.wantsEof(c) ? randomBytes(20).toString('hex') : null;
    c.addRaw(mark !== null ? `$EOF:${mark}\r\n` : `$${image.length}\r\n`);
    c.addRawBuffer(image);
    if (mark !== null) c.addRaw(mark);
    c.closeAfterReply = true;
    return;
  }
  m.sync(c, psync, psync ? argv[1] : '', offset);
}

/** WAIT numreplicas timeout: replicas that acknowledged this client's last write. */
function wait(c: Client, argv: string[]): void {
  if (replicationOf(c.server).link !== null) {
    c.addError(
      'ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.',
    );
    return;
  }
  const wanted = parseInt64(argv[1]);
  if (wanted === null) {
    c.addError(ERR_NOT_INT);
    return;
  }
  const timeout = parseInt64(argv[2]);
  if (timeout === null) {
    c.addError('ERR timeout is not an integer or out of range');
    return;
  }
  if (timeout < 0) {
    c.addError('ERR timeout is negative');
    return;
  }
  const m = replicationOf(c.server);
  const offset = c.replOffset;
  const acks = m.countAcks(offset);
  // Enough already, or inside MULTI (and scripts, where WAIT is refused anyway): answer now.
  if (acks >= wanted || !mayBlock(c)) {
    c.addInt(acks);
    return;
  }
  c.server.blocking.block(c, c.current!, argv, {
    keys: [],
    timeoutMs: blockTimeoutMs(c, Number(timeout)),
    serve: () => false,
    timeout: (cl) => {
      m.removeWaiter(cl);
      cl.addInt(m.countAcks(offset));
    },
  });
  m.addWaiter(c, Number(wanted), offset);
}

/** REPLICAOF host port | NO ONE (and its old name SLAVEOF). */
function replicaof(c: Client, argv: string[]): void {
  const m = replicationOf(c.server);
  if (m.failover !== null) {
    c.addError('ERR REPLICAOF not allowed while failing over.');
    return;
  }
  if (argv[1].toLowerCase() === 'no' && argv[2].toLowerCase() === 'one') {
    if (m.link !== null) {
      m.promote();
      log(c.server, 'notice', `MASTER MODE enabled (user request from 'id=${c.id} addr=${c.addr}')`);
    }
    c.server.config.setInternal('replicaof', 'no one');
    c.addOK();
    return;
  }
  if (m.isReplica(c)) {
    c.addError('ERR Command is not valid when client is a replica.');
    return;
  }
  const port = parseInt64(argv[2]);
  if (port === null || typeof port === 'bigint' || port < 0 || port > 65535) {
    c.addError('ERR Invalid master port');
    return;
  }
  const host = argv[1];
  if (m.link !== null && m.link.host.toLowerCase() === host.toLowerCase() && m.link.port === port) {
    c.addRaw('+OK Already connected to specified master\r\n');
    return;
  }
  m.replicaOf(host, port);
  c.server.config.setInternal('replicaof', `${host} ${port}`);
  log(c.server, 'notice', `REPLICAOF ${host}:${port} enabled (user request from 'id=${c.id} addr=${c.addr}')`);
  c.addOK();
}

export const commands: CommandImpl[] = [
  { name: 'replicaof', summary: 'Follows a master (its snapshot, then its write stream), or with NO ONE becomes a master again.', handler: replicaof },
  { name: 'slaveof', summary: 'The old name of REPLICAOF.', handler: replicaof },
  { name: 'replconf', summary: 'Replication handshake options and acknowledgements (ACK); rdb-only asks SYNC for just a snapshot.', handler: replconf },
  { name: 'sync', summary: 'Attaches a replica: an RDB snapshot, then the stream of writes.', handler: syncCommand },
  { name: 'psync', summary: 'Attaches a replica: +CONTINUE from the backlog when it holds the offset, else a full resync.', handler: syncCommand },
  { name: 'wait', summary: 'Waits until that many replicas acknowledged the client\'s writes, or the timeout.', handler: wait },
];
