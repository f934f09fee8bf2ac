/**
 * MONITOR: clients that asked to see every command the server executes.
 *
 * After each command (commands flagged skip_monitor or admin excepted, as in
 * Redis 7.0) every monitor receives one status line:
 *
 *   +1700000000.123456 [0 127.0.0.1:52555] "set" "k" "v"
 *
 * time from the server clock in seconds.microseconds, the database the client
 * is on after the command, its address ("lua" for commands run by a script,
 * "unix:<path>" for a unix socket),
 * then the arguments as sent, quoted and escaped like Redis's sdscatrepr. The
 * line is the same in RESP2 and RESP3. Passwords given to AUTH, HELLO ... AUTH
 * and MIGRATE ... AUTH/AUTH2 show as "(redacted)" (see redactArgv).
 *
 * The monitors are other connections than the one that ran the command, so
 * their output would otherwise wait for their own next read: lines are
 * appended to each monitor's reply buffer and flushed in one setImmediate
 * batch, one socket write per monitor however many commands ran meanwhile.
 */
import type { Server } from '../server/server.js';
import type { Client } from '../server/client.js';
import { flush } from '../net/connection.js';
import { quoteArg } from '../util/splitargs.js';

const REDACTED = '(redacted)';

/**
 * The arguments as MONITOR and SLOWLOG show them: Redis 7.0's AUTH, HELLO and
 * MIGRATE handlers replace secrets with "(redacted)" while they parse, so an
 * argument is redacted exactly when the handler got that far. Returns `argv`
 * itself when nothing is secret.
 */
export function redactArgv(
  name: string,
  argv: readonly string[],
  sensitiveConfig: ((directive: string) => boolean) | null = null,
): readonly string[] {
  switch (name) {
    case 'acl|setuser':
      // ACL SETUSER redacts the user name and every rule before it checks them.
      return argv.map((a, i) => (i < 2 ? a : REDACTED));
    case 'config|set': {
      // CONFIG SET redacts the values of sensitive directives (even when the command fails);
      // an odd argument count is refused before.
      if (sensitiveConfig === null || argv.length % 2 !== 0) return argv;
      let out: string[] | null = null;
      for (let j = 2; j + 1 < argv.length; j += 2) {
        if (!sensitiveConfig(argv[j])) continue;
        out ??= argv.slice();
        out[j + 1] = REDACTED;
      }
      return out ?? argv;
    }
    case 'auth':
      // Forms with more than two arguments fail before redaction.
      if (argv.length > 3) return argv;
      return argv.map((a, i) => (i === 0 ? a : REDACTED));
    case 'hello':
      return redactHello(argv);
    case 'migrate':
      return redactMigrate(argv);
    default:
      return argv;
  }
}

function redactHello(argv: readonly string[]): readonly string[] {
  if (argv.length >= 2) {
    // A bad protocol version is refused before the options are read.
    // (string2ll accepts exactly "2" and "3" here: no sign, no leading zeros).
    if (argv[1] !== '2' && argv[1] !== '3') return argv;
  }
  let out: string[] | null = null;
  for (let j = 2; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const opt = argv[j].toLowerCase();
    if (opt === 'auth' && more >= 2) {
      out ??= argv.slice();
      out[j + 1] = REDACTED;
      out[j + 2] = REDACTED;
      j += 2;
    } else if (opt === 'setname' && more >= 1) {
      j++;
    } else {
      break;
    }
  }
  return out ?? argv;
}

function redactMigrate(argv: readonly string[]): readonly string[] {
  let out: string[] | null = null;
  for (let j = 6; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const opt = argv[j].toLowerCase();
    if (opt === 'copy' || opt === 'replace') continue;
    if (opt === 'auth') {
      if (more < 1) break;
      out ??= argv.slice();
      out[++j] = REDACTED;
    } else if (opt === 'auth2') {
      if (more < 2) break;
      out ??= argv.slice();
      out[++j] = REDACTED;
      out[++j] = REDACTED;
    } else {
      break; // KEYS (the rest are keys) or a syntax error
    }
  }
  return out ?? argv;
}

export class Monitors {
  readonly clients = new Set<Client>();
  private pending = new Set<Client>();
  private scheduled = false;

  constructor(private readonly server: Server) {}

  get size(): number {
    return this.clients.size;
  }

  add(c: Client): void {
    this.clients.add(c);
    c.monitor = true;
  }

  remove(c: Client): void {
    this.clients.delete(c);
    c.monitor = false;
    this.pending.delete(c);
  }

  /** Sends one executed command to every monitor. */
  feed(c: Client, name: string, argv: readonly string[]): void {
    const us = this.server.clock.nowMicros();
    const sec = Math.floor(us / 1e6);
    const frac = String(us - sec * 1e6).padStart(6, '0');
    const who = c.inScript ? 'lua' : this.peer(c);
    let line = `+${sec}.${frac} [${c.db.id} ${who}]`;
    const shown = redactArgv(name, argv);
    for (let i = 0; i < shown.length; i++) line += ' ' + quoteArg(shown[i]);
    line += '\r\n';
    for (const m of this.clients) {
      if (m.closed) continue;
      m.addRaw(line);
      this.pending.add(m);
    }
    if (!this.scheduled && this.pending.size !== 0) {
      this.scheduled = true;
      setImmediate(() => this.flushPending());
    }
  }

  /** "ip:port", or "unix:<unixsocket>" for a unix socket connection, as Redis shows it. */
  private peer(c: Client): string {
    if (c.socket !== null && c.socket.remoteAddress === undefined && !c.socket.destroyed) {
      return `unix:${this.server.config.get('unixsocket') ?? ''}`;
    }
    return c.addr;
  }

  private flushPending(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = new Set();
    for (const m of batch) if (!m.closed) flush(this.server, m);
  }
}
