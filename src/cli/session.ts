/**
 * The state of a mnemo-cli session and the command round trip, following redis-cli 7.0
 * (cliConnect, cliSendCommand, cliReadReply, issueCommandRepeat): connect + AUTH + SELECT +
 * HELLO 3, the prompt, repeat/interval, the client-side effects of SELECT / MULTI / EXEC /
 * DISCARD / RESET / AUTH, MONITOR and SUBSCRIBE streaming, and what happens when the
 * connection is lost (one-shot: "Error: ..." and exit 1; interactive: report, then
 * reconnect on the next command).
 */
import { CliConnection, ConnError, type ConnectTarget } from './connection.js';
import { formatInvalidateTTY, formatReply, isInvalidatePush } from './format.js';
import type { Reply } from './reply.js';
import { atoi, type CliConfig } from './options.js';
import { fromBinary, writeErr, writeOut } from './output.js';
import type { HelpTable } from './help.js';

/** Thrown instead of calling process.exit() deep inside async code; main() exits. */
export class SessionExit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** ASCII case-insensitive equality (strcasecmp() == 0). */
export function eqi(a: string | undefined, b: string): boolean {
  return a !== undefined && a.length === b.length && a.toLowerCase() === b;
}

/** Commands whose reply is text to show as is, without quoting (redis-cli's output_raw list). */
export function isVerbatimOutputCommand(argv: readonly string[]): boolean {
  const [cmd, sub] = argv;
  const argc = argv.length;
  if (eqi(cmd, 'info') || eqi(cmd, 'lolwut')) return true;
  if (argc >= 2 && eqi(cmd, 'debug') && (eqi(sub, 'htstats') || eqi(sub, 'htstats-key') || eqi(sub, 'client-eviction'))) return true;
  if (argc >= 2 && eqi(cmd, 'memory') && (eqi(sub, 'malloc-stats') || eqi(sub, 'doctor'))) return true;
  if (argc === 2 && eqi(cmd, 'cluster') && (eqi(sub, 'nodes') || eqi(sub, 'info'))) return true;
  if (argc >= 2 && eqi(cmd, 'client') && (eqi(sub, 'list') || eqi(sub, 'info'))) return true;
  if (argc === 3 && eqi(cmd, 'latency') && eqi(sub, 'graph')) return true;
  if (argc === 2 && eqi(cmd, 'latency') && eqi(sub, 'doctor')) return true;
  if (argc >= 2 && eqi(cmd, 'proxy') && eqi(sub, 'info')) return true;
  return false;
}

export class Session {
  conn: CliConnection | null = null;
  /** The db the connection is in (as far as the client knows). */
  dbnum = 0;
  inMulti = false;
  private preMultiDbnum = 0;
  prompt = '';
  interactive = false;
  monitorMode = false;
  pubsubMode = false;
  replicaMode = false;
  /** Set by SHUTDOWN: the connection closing is then expected, not an error. */
  shutdown = false;
  /** Set by Ctrl-C during MONITOR/SUBSCRIBE: the read failure means "reconnect". */
  blockingStateAborted = false;
  lastReply: Reply | null = null;
  /** Lazily built from COMMAND DOCS (see help.ts); used by HELP, hints and completion. */
  help: HelpTable | null = null;
  /** Prints HELP output; installed by main so session.ts does not depend on help building. */
  outputHelp: (args: string[]) => Promise<void> = async () => {};
  /** Runs SYNC/PSYNC typed as a command (replica output); installed by main. */
  runReplica: () => Promise<void> = async () => {};

  constructor(readonly cfg: CliConfig) {
    this.refreshPrompt();
  }

  /** Where to connect; names from the command line go back to the OS's (UTF-8) form. */
  get target(): ConnectTarget {
    const c = this.cfg;
    const os = (s: string | null) => (s === null ? null : fromBinary(s));
    const tls = c.tls
      ? { sni: os(c.sni), cacert: os(c.cacert), cacertdir: os(c.cacertdir), cert: os(c.cert), key: os(c.key), insecure: c.insecure, ciphers: c.tlsCiphers }
      : null;
    return { host: fromBinary(c.host), port: c.port, socket: os(c.socket), tls };
  }

  /** host:port as redis-cli formats addresses (IPv6 in brackets). */
  get address(): string {
    const h = this.cfg.host;
    return h.includes(':') ? `[${h}]:${this.cfg.port}` : `${h}:${this.cfg.port}`;
  }

  refreshPrompt(): void {
    let p = this.cfg.socket !== null ? `redis ${this.cfg.socket}` : this.address;
    if (this.dbnum !== 0) p += `[${this.dbnum}]`;
    if (this.inMulti) p += '(TX)';
    this.prompt = p + '> ';
  }

  /** Prints a RESP3 push outside of SUBSCRIBE (client tracking invalidations, ...). */
  readonly pushHandler = (r: Reply): void => {
    const out = this.cfg.output === 'standard' && isInvalidatePush(r) ? formatInvalidateTTY(r) : formatReply(r, this.cfg.output, false, this.cfg.mbDelim, this.cfg.cmdDelim);
    writeOut(out);
  };

  /**
   * cliConnect: (re)connects when there is no connection or `force`, then AUTH, SELECT and
   * HELLO 3 as configured. A failed AUTH/SELECT keeps the connection (commands still go out).
   */
  async connect(force = false, quiet = false): Promise<boolean> {
    if (this.conn === null || force) {
      if (this.conn !== null) {
        this.conn.close();
        this.dbnum = 0;
        this.inMulti = false;
        this.refreshPrompt();
      }
      try {
        this.conn = await CliConnection.connect(this.target);
      } catch (e) {
        if (!quiet) {
          const where = this.cfg.socket !== null ? this.cfg.socket : `${this.cfg.host}:${this.cfg.port}`;
          writeErr(`Could not connect to Redis at ${where}: ${(e as Error).message}\n`);
        }
        this.conn = null;
        return false;
      }
      if (!(await this.authenticate())) return false;
      if (!(await this.selectDb())) return false;
      if (!(await this.switchProto())) return false;
    }
    if (this.cfg.pushOutput) this.conn.pushHandler = this.pushHandler;
    return true;
  }

  /** A command sent during connection setup; null (after "I/O error") when the link fails. */
  private async setupCommand(argv: string[]): Promise<Reply | null> {
    try {
      return await this.conn!.command(...argv);
    } catch {
      writeErr('\nI/O error\n');
      return null;
    }
  }

  private async authenticate(): Promise<boolean> {
    const { auth, user } = this.cfg;
    if (auth === null) return true;
    const r = await this.setupCommand(user === null ? ['AUTH', auth] : ['AUTH', user, auth]);
    if (r === null) return false;
    if (r.type === 'error') {
      writeErr(`AUTH failed: ${r.str}\n`);
      return false;
    }
    return true;
  }

  async selectDb(): Promise<boolean> {
    const want = this.cfg.inputDbnum;
    if (want === this.dbnum) return true;
    const r = await this.setupCommand(['SELECT', String(want)]);
    if (r === null) return false;
    if (r.type === 'error') {
      writeErr(`SELECT ${want} failed: ${r.str}\n`);
      return false;
    }
    this.dbnum = want;
    this.refreshPrompt();
    return true;
  }

  private async switchProto(): Promise<boolean> {
    if (!this.cfg.resp3 || this.cfg.resp2) return true;
    const r = await this.setupCommand(['HELLO', '3']);
    if (r === null) return false;
    if (r.type === 'error') {
      writeErr(`HELLO 3 failed: ${r.str}\n`);
      return this.cfg.resp3 !== 1;
    }
    return true;
  }

  /** cliPrintContextError: the connection's error text. */
  printContextError(): void {
    if (this.conn === null) return;
    writeErr(`Error: ${this.conn.err?.message ?? ''}\n`);
  }

  /**
   * cliReadReply: reads and prints one reply. False when the connection was lost in
   * interactive mode (the caller reports it); exits on other read failures.
   */
  async readReply(verbatim: boolean): Promise<boolean> {
    let r: Reply;
    try {
      r = await this.conn!.readReply();
    } catch (e) {
      if (!(e instanceof ConnError)) throw e;
      if (this.blockingStateAborted) {
        this.blockingStateAborted = false;
        this.monitorMode = false;
        this.pubsubMode = false;
        return this.connect(true);
      }
      if (this.shutdown) {
        this.conn = null;
        return true;
      }
      if (this.interactive) {
        const lost = e.kind === 'eof' || (e.kind === 'io' && (e.message === 'Connection reset by peer' || e.message === 'Broken pipe'));
        if (lost) return false;
      }
      this.printContextError();
      throw new SessionExit(1);
    }
    this.lastReply = r;
    if (this.cfg.setErrcode && !this.interactive && r.type === 'error') {
      writeErr(r.str + '\n');
      throw new SessionExit(1);
    }
    writeOut(formatReply(r, this.cfg.output, verbatim, this.cfg.mbDelim, this.cfg.cmdDelim));
    return true;
  }

  get lastType(): Reply['type'] | null {
    return this.lastReply?.type ?? null;
  }

  /** cliSendCommand: sends argv `repeat` times (forever when negative) and prints replies. */
  async sendCommand(argv: string[], repeat: number): Promise<boolean> {
    if (this.conn === null) return false;
    const command = argv[0];
    const verbatim = isVerbatimOutputCommand(argv);
    if (eqi(command, 'help') || command === '?') {
      await this.outputHelp(argv.slice(1));
      return true;
    }
    if (eqi(command, 'shutdown')) this.shutdown = true;
    if (eqi(command, 'monitor')) this.monitorMode = true;
    if (eqi(command, 'subscribe') || eqi(command, 'psubscribe') || eqi(command, 'ssubscribe')) this.pubsubMode = true;
    if (eqi(command, 'sync') || eqi(command, 'psync')) this.replicaMode = true;

    while (repeat < 0 || repeat-- > 0) {
      if (this.conn === null) break; // gone after SHUTDOWN
      this.conn.send(argv);

      if (this.monitorMode) {
        do {
          if (!(await this.readReply(verbatim))) {
            this.printContextError();
            throw new SessionExit(1);
          }
          if (this.lastType === 'error') this.monitorMode = false;
        } while (this.monitorMode);
        return true;
      }

      if (this.pubsubMode) {
        if (this.cfg.output !== 'raw') writeOut('Reading messages... (press Ctrl-C to quit)\n');
        this.conn!.pushHandler = null; // pushes are the messages: print them
        while (this.pubsubMode) {
          if (!(await this.readReply(verbatim))) {
            this.printContextError();
            throw new SessionExit(1);
          }
          if (!this.pubsubMode || this.lastType === 'error') {
            if (this.cfg.pushOutput && this.conn) this.conn.pushHandler = this.pushHandler;
            this.pubsubMode = false;
          }
        }
        continue;
      }

      if (this.replicaMode) {
        writeOut('Entering replica output mode...  (press Ctrl-C to quit)\n');
        await this.runReplica();
        this.replicaMode = false;
        return false;
      }

      if (!(await this.readReply(verbatim))) return false;
      await this.trackClientState(argv);
      if (this.cfg.interval) await sleep(this.cfg.interval / 1000);
    }
    return true;
  }

  /** What redis-cli remembers from a reply: the db after SELECT, MULTI state, RESET. */
  private async trackClientState(argv: string[]): Promise<void> {
    const command = argv[0];
    const argc = argv.length;
    const failed = this.lastType === 'error';
    if (eqi(command, 'select') && argc === 2 && !failed) {
      this.cfg.inputDbnum = this.dbnum = atoi(argv[1]);
      this.refreshPrompt();
    } else if (eqi(command, 'auth') && (argc === 2 || argc === 3)) {
      await this.selectDb();
    } else if (eqi(command, 'multi') && argc === 1 && !failed) {
      this.inMulti = true;
      this.preMultiDbnum = this.dbnum;
      this.refreshPrompt();
    } else if (eqi(command, 'exec') && argc === 1 && this.inMulti) {
      this.inMulti = false;
      if (failed || this.lastType === 'nil') this.cfg.inputDbnum = this.dbnum = this.preMultiDbnum;
      this.refreshPrompt();
    } else if (eqi(command, 'discard') && argc === 1 && !failed) {
      this.inMulti = false;
      this.cfg.inputDbnum = this.dbnum = this.preMultiDbnum;
      this.refreshPrompt();
    } else if (eqi(command, 'reset') && argc === 1 && !failed) {
      this.inMulti = false;
      this.dbnum = 0;
      this.cfg.inputDbnum = 0;
      this.cfg.resp3 = 0;
      this.refreshPrompt();
    }
  }

  /**
   * issueCommandRepeat: HELP is answered locally; otherwise (re)connect when needed, send,
   * and on a lost connection report "Error: ..." and drop it (the next command reconnects).
   */
  async issueCommandRepeat(argv: string[], repeat: number): Promise<boolean> {
    if (eqi(argv[0], 'help') || argv[0] === '?') {
      await this.outputHelp(argv.slice(1));
      return true;
    }
    const failed = this.conn?.reportedErr;
    if (this.conn === null || (failed && failed.kind !== 'protocol')) {
      if (!(await this.connect(true))) {
        this.printContextError();
        return false;
      }
    }
    if (!(await this.sendCommand(argv, repeat))) {
      this.printContextError();
      this.conn?.close();
      this.conn = null;
      return false;
    }
    return true;
  }
}
