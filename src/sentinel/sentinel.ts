/**
 * Sentinel mode (`mnemo-server sentinel.conf --sentinel`, or `mnemo-sentinel`):
 * Redis Sentinel's monitoring and automatic failover, speaking to Redis and
 * Mnemo instances alike. The algorithm is the documented one
 * (https://redis.io/docs/management/sentinel/), with Redis 7.0's timings,
 * events and replies:
 *
 *  - every monitored master, its replicas (found in the master's INFO) and
 *    the other Sentinels (found through hello messages on
 *    `__sentinel__:hello`) get a command link; masters and replicas also a
 *    pub/sub link. PING every second, INFO every 10 s, hello every 2 s;
 *  - an instance without a valid PING reply for down-after-milliseconds is
 *    subjectively down (+sdown); a master is objectively down (+odown) when
 *    `quorum` Sentinels (asked with SENTINEL IS-MASTER-DOWN-BY-ADDR) agree;
 *  - the failover: a new epoch, a leader elected by a majority (votes are
 *    the same IS-MASTER-DOWN-BY-ADDR requests carrying our run id), the best
 *    replica promoted (priority, replication offset, run id), the others
 *    pointed at it `parallel-syncs` at a time, then +switch-master;
 *  - every event is published on this Sentinel's own pub/sub channel named
 *    after it and logged; the state is written to the config file (the
 *    `sentinel ...` lines) whenever it changes.
 *
 * Time is the server's clock (src/server/clock.ts); the timer runs on real
 * time every 50-100 ms, as Redis's varying hz keeps Sentinels out of step.
 */
import { isIP } from 'node:net';
import { lookup as dnsLookup } from 'node:dns';
import { accessSync, constants as fsConstants } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import type { Server } from '../server/server.js';
import type { SentinelConfigLine } from '../config/config.js';
import { rewriteConfigFile } from '../config/rewrite.js';
import { pubsubOf } from '../server/pubsub.js';
import { log, type LogLevel } from '../persistence/log.js';
import { randomHex } from '../util/random-hex.js';
import { quoteArg } from '../util/splitargs.js';
import { Link } from './link.js';
import { Scripts } from './scripts.js';
import {
  Instance,
  FailoverState,
  addrName,
  SRI_MASTER,
  SRI_SLAVE,
  SRI_SENTINEL,
  SRI_S_DOWN,
  SRI_O_DOWN,
  SRI_MASTER_DOWN,
  SRI_FAILOVER_IN_PROGRESS,
  SRI_PROMOTED,
  SRI_RECONF_SENT,
  SRI_RECONF_INPROG,
  SRI_RECONF_DONE,
  SRI_FORCE_FAILOVER,
  SRI_SCRIPT_KILL_SENT,
  SRI_MASTER_REBOOT,
} from './instance.js';

export const HELLO_CHANNEL = '__sentinel__:hello';
/** Config options that do not refer to a master: applied before the monitor lines. */
const PRE_MONITOR = new Set(['announce-ip', 'announce-port', 'deny-scripts-reconfig', 'sentinel-user', 'sentinel-pass', 'current-epoch', 'myid', 'resolve-hostnames', 'announce-hostnames']);
const MAX_PENDING_COMMANDS = 100;
const MAX_DESYNC = 1000;

/** The timing parameters SENTINEL DEBUG shows and changes (milliseconds). */
export const DEFAULT_TIMING = {
  'info-period': 10000,
  'ping-period': 1000,
  'ask-period': 1000,
  'publish-period': 2000,
  'default-down-after': 30000,
  'default-failover-timeout': 180000,
  'tilt-trigger': 2000,
  'tilt-period': 30000,
  'slave-reconf-timeout': 10000,
  'min-link-reconnect-period': 15000,
  'election-timeout': 10000,
  'script-max-runtime': 60000,
  'script-retry-delay': 30000,
};
export type TimingName = keyof typeof DEFAULT_TIMING;

/** SENTINEL SIMULATE-FAILURE flags. */
export const SIMFAILURE_CRASH_AFTER_ELECTION = 1;
export const SIMFAILURE_CRASH_AFTER_PROMOTION = 2;

export class Sentinel {
  myid = '';
  currentEpoch = 0;
  readonly masters = new Map<string, Instance>();
  tilt = false;
  tiltStartTime = 0;
  private previousTime: number;
  announceIp = '';
  announcePort = 0;
  simfailureFlags = 0;
  denyScriptsReconfig = true;
  resolveHostnames = false;
  announceHostnames = false;
  sentinelAuthUser: string | null = null;
  sentinelAuthPass: string | null = null;
  readonly timing = { ...DEFAULT_TIMING };
  readonly scripts: Scripts;
  private timer: NodeJS.Timeout | null = null;

  constructor(readonly server: Server) {
    this.previousTime = this.now();
    this.scripts = new Scripts(this);
    // As Redis, global options first, then the monitor lines, then what refers to a master.
    const lines = server.config.sentinelLines;
    const stage = (l: SentinelConfigLine): number => {
      const opt = l.argv[0].toLowerCase();
      return PRE_MONITOR.has(opt) ? 0 : opt === 'monitor' ? 1 : 2;
    };
    for (const n of [0, 1, 2]) for (const line of lines) if (stage(line) === n) this.applyConfigLine(line);
    server.config.sentinelState = () => this.configLines();
  }

  now(): number {
    return this.server.clock.now();
  }

  /** The working directory relative paths are resolved against (Redis chdir()s into `dir`). */
  get dir(): string {
    return this.server.config.get('dir') ?? '.';
  }

  // ---- configuration ------------------------------------------------------------

  private defaults(): { downAfter: number; failoverTimeout: number } {
    return { downAfter: this.timing['default-down-after'], failoverTimeout: this.timing['default-failover-timeout'] };
  }

  /** Redis's sentinelHandleConfiguration: one `sentinel ...` line. */
  private applyConfigLine({ argv, fail }: SentinelConfigLine): void {
    const opt = argv[0].toLowerCase();
    const n = argv.length;
    const master = (): Instance => {
      const ri = this.masters.get(argv[1]);
      if (!ri) fail('No such master with specified name.');
      return ri!;
    };
    const positive = (s: string): number => {
      const v = Number(s);
      if (!Number.isInteger(v) || v <= 0) fail('negative or zero time parameter.');
      return v;
    };
    if (opt === 'monitor' && n === 5) {
      const quorum = Number(argv[4]);
      if (!(quorum > 0)) fail('Quorum must be 1 or greater.');
      const err = this.createMaster(argv[1], argv[2], Number(argv[3]) | 0, Math.floor(quorum));
      if (typeof err === 'string') fail(err);
    } else if (opt === 'down-after-milliseconds' && n === 3) {
      this.setDownAfterPeriod(master(), positive(argv[2]));
    } else if (opt === 'failover-timeout' && n === 3) {
      master().failoverTimeout = positive(argv[2]);
    } else if (opt === 'parallel-syncs' && n === 3) {
      master().parallelSyncs = Number(argv[2]) | 0;
    } else if (opt === 'notification-script' && n === 3) {
      const ri = master();
      if (!isExecutable(this.dir, argv[2])) fail('Notification script seems non existing or non executable.');
      ri.notificationScript = argv[2];
    } else if (opt === 'client-reconfig-script' && n === 3) {
      const ri = master();
      if (!isExecutable(this.dir, argv[2])) fail('Client reconfiguration script seems non existing or non executable.');
      ri.clientReconfigScript = argv[2];
    } else if (opt === 'auth-pass' && n === 3) {
      master().authPass = argv[2];
    } else if (opt === 'auth-user' && n === 3) {
      master().authUser = argv[2];
    } else if (opt === 'current-epoch' && n === 2) {
      const e = Number(argv[1]);
      if (e > this.currentEpoch) this.currentEpoch = e;
    } else if (opt === 'myid' && n === 2) {
      if (argv[1].length !== 40) fail('Malformed Sentinel id in myid option.');
      this.myid = argv[1];
    } else if (opt === 'config-epoch' && n === 3) {
      const ri = master();
      ri.configEpoch = Number(argv[2]) || 0;
      // The epoch of a master's config is also a lower bound for ours.
      if (ri.configEpoch > this.currentEpoch) this.currentEpoch = ri.configEpoch;
    } else if (opt === 'leader-epoch' && n === 3) {
      master().leaderEpoch = Number(argv[2]) || 0;
    } else if ((opt === 'known-slave' || opt === 'known-replica') && n === 4) {
      const ri = master();
      const slave = this.createInstance(SRI_SLAVE, argv[2], Number(argv[3]) | 0, ri);
      if (typeof slave === 'string') fail(slave);
    } else if (opt === 'known-sentinel' && (n === 4 || n === 5)) {
      // The old form without a run id is ignored, as by Redis.
      if (n === 5) {
        const ri = master();
        const si = this.createInstance(SRI_SENTINEL, argv[2], Number(argv[3]) | 0, ri, argv[4]);
        if (typeof si === 'string') fail(si);
        else si.runid = argv[4];
      }
    } else if (opt === 'rename-command' && n === 4) {
      const ri = master();
      if (argv[2].toLowerCase() !== argv[3].toLowerCase()) ri.renamedCommands.set(argv[2].toLowerCase(), argv[3]);
    } else if (opt === 'announce-ip' && n === 2) {
      this.announceIp = argv[1];
    } else if (opt === 'announce-port' && n === 2) {
      this.announcePort = Number(argv[1]) | 0;
    } else if (opt === 'deny-scripts-reconfig' && n === 2) {
      const v = yesno(argv[1]);
      if (v === null) fail('Please specify yes or no for the deny-scripts-reconfig options.');
      this.denyScriptsReconfig = v!;
    } else if (opt === 'sentinel-user' && n === 2) {
      this.sentinelAuthUser = argv[1] === '' ? null : argv[1];
    } else if (opt === 'sentinel-pass' && n === 2) {
      this.sentinelAuthPass = argv[1] === '' ? null : argv[1];
    } else if (opt === 'resolve-hostnames' && n === 2) {
      const v = yesno(argv[1]);
      if (v === null) fail('Please specify yes or no for the resolve-hostnames option.');
      this.resolveHostnames = v!;
    } else if (opt === 'announce-hostnames' && n === 2) {
      const v = yesno(argv[1]);
      if (v === null) fail('Please specify yes or no for the announce-hostnames option.');
      this.announceHostnames = v!;
    } else if (opt === 'master-reboot-down-after-period' && n === 3) {
      const v = Number(argv[2]);
      if (!Number.isInteger(v) || v < 0) fail('negative time parameter.');
      master().masterRebootDownAfterPeriod = v;
    } else {
      fail('Unrecognized sentinel configuration statement.');
    }
  }

  /** The state as `sentinel ...` config lines (Redis's rewriteConfigSentinelOption). */
  configLines(): string[] {
    const out: string[] = [`sentinel myid ${this.myid}`];
    if (!this.denyScriptsReconfig) out.push('sentinel deny-scripts-reconfig no');
    if (this.resolveHostnames) out.push('sentinel resolve-hostnames yes');
    if (this.announceHostnames) out.push('sentinel announce-hostnames yes');
    for (const m of this.masters.values()) {
      const current = this.currentMaster(m);
      out.push(`sentinel monitor ${m.name} ${this.announce(current)} ${current.port} ${m.quorum}`);
      if (m.downAfterPeriod !== DEFAULT_TIMING['default-down-after']) out.push(`sentinel down-after-milliseconds ${m.name} ${m.downAfterPeriod}`);
      if (m.failoverTimeout !== DEFAULT_TIMING['default-failover-timeout']) out.push(`sentinel failover-timeout ${m.name} ${m.failoverTimeout}`);
      if (m.parallelSyncs !== 1) out.push(`sentinel parallel-syncs ${m.name} ${m.parallelSyncs}`);
      if (m.notificationScript) out.push(`sentinel notification-script ${m.name} ${m.notificationScript}`);
      if (m.clientReconfigScript) out.push(`sentinel client-reconfig-script ${m.name} ${m.clientReconfigScript}`);
      if (m.authPass) out.push(`sentinel auth-pass ${m.name} ${quoteArg(m.authPass)}`);
      if (m.authUser) out.push(`sentinel auth-user ${m.name} ${quoteArg(m.authUser)}`);
      if (m.masterRebootDownAfterPeriod !== 0) out.push(`sentinel master-reboot-down-after-period ${m.name} ${m.masterRebootDownAfterPeriod}`);
      out.push(`sentinel config-epoch ${m.name} ${m.configEpoch}`);
      out.push(`sentinel leader-epoch ${m.name} ${m.leaderEpoch}`);
      for (const s of m.slaves.values()) {
        // The promoted replica is the master's address now: not a replica line.
        if (s === current) continue;
        out.push(`sentinel known-replica ${m.name} ${this.announce(s)} ${s.port}`);
      }
      // During the last stage of a failover the old master is a replica already.
      if (current !== m) out.push(`sentinel known-replica ${m.name} ${this.announce(m)} ${m.port}`);
      for (const s of m.sentinels.values()) {
        if (s.runid === null) continue;
        out.push(`sentinel known-sentinel ${m.name} ${this.announce(s)} ${s.port} ${s.runid}`);
      }
      for (const [from, to] of m.renamedCommands) out.push(`sentinel rename-command ${m.name} ${from} ${to}`);
    }
    out.push(`sentinel current-epoch ${this.currentEpoch}`);
    if (this.announceIp !== '') out.push(`sentinel announce-ip ${quoteArg(this.announceIp)}`);
    if (this.announcePort !== 0) out.push(`sentinel announce-port ${this.announcePort}`);
    if (this.sentinelAuthUser) out.push(`sentinel sentinel-user ${quoteArg(this.sentinelAuthUser)}`);
    if (this.sentinelAuthPass) out.push(`sentinel sentinel-pass ${quoteArg(this.sentinelAuthPass)}`);
    return out;
  }

  /** Writes the state to the config file; null, or the error text. */
  flushConfig(): string | null {
    if (!this.server.config.configFile) return 'no config file';
    const err = rewriteConfigFile(this.server.config);
    if (err !== null) log(this.server, 'warning', `WARNING: Sentinel was not able to save the new configuration on disk!!!: ${err}`);
    else log(this.server, 'notice', 'Sentinel new configuration saved on disk');
    return err;
  }

  // ---- instances ----------------------------------------------------------------

  /** A new master; returns the instance or Redis's error text. */
  createMaster(name: string, host: string, port: number, quorum: number): Instance | string {
    if (this.masters.has(name)) return 'Duplicate master name.';
    const ip = this.resolve(host);
    if (ip === null) return "Can't resolve instance hostname.";
    if (port < 0 || port > 65535) return 'Invalid port number';
    const ri = new Instance(SRI_MASTER, name, ip, port, null, this.now(), this.defaults());
    this.lookup(ri);
    ri.quorum = quorum;
    this.masters.set(name, ri);
    return ri;
  }

  /** A replica (named "ip:port") or a Sentinel (named by its run id) of `master`. */
  createInstance(kind: number, host: string, port: number, master: Instance, runid = ''): Instance | string {
    const ip = this.resolve(host);
    if (ip === null) return "Can't resolve instance hostname.";
    const name = kind === SRI_SLAVE ? addrName(ip, port) : runid;
    const table = kind === SRI_SLAVE ? master.slaves : master.sentinels;
    if (table.has(name)) return kind === SRI_SLAVE ? 'Duplicate hostname and port for replica.' : 'Duplicate runid for sentinel.';
    const ri = new Instance(kind, name, ip, port, master, this.now(), this.defaults());
    this.lookup(ri);
    table.set(name, ri);
    return ri;
  }

  /** An address as given, when it is an IP or hostnames are allowed; else null. */
  resolve(host: string): string | null {
    if (isIP(host) !== 0) return host;
    return this.resolveHostnames && host !== '' ? host : null;
  }

  /** A master's down-after-milliseconds, which its replicas and Sentinels share. */
  setDownAfterPeriod(master: Instance, ms: number): void {
    master.downAfterPeriod = ms;
    for (const s of master.slaves.values()) s.downAfterPeriod = ms;
    for (const s of master.sentinels.values()) s.downAfterPeriod = ms;
  }

  /** An instance's address as reported: its hostname with announce-hostnames, else its IP. */
  announce(ri: Instance): string {
    return this.announceHostnames ? ri.ip : ri.resolvedIp;
  }

  /** Where clients should find the master now (the promoted replica once it took over), as reported. */
  currentMasterAddress(m: Instance): [string, number] {
    const ri = this.currentMaster(m);
    return [this.announce(ri), ri.port];
  }

  currentMaster(m: Instance): Instance {
    if (m.flags & SRI_FAILOVER_IN_PROGRESS && m.promotedSlave && m.failoverState >= FailoverState.ReconfSlaves) return m.promotedSlave;
    return m;
  }

  /** With resolve-hostnames, a hostname's IP is looked up in the background (connections use the name). */
  private lookup(ri: Instance): void {
    if (isIP(ri.ip) !== 0) return;
    const host = ri.ip;
    dnsLookup(host, (err, address) => {
      if (!err && ri.ip === host) ri.resolvedIp = address;
    });
  }

  /** getSentinelRedisInstanceByAddrAndRunID: null ip or runid match anything. */
  private findByAddrAndRunid(table: Map<string, Instance>, ip: string | null, port: number, runid: string | null): Instance | null {
    for (const ri of table.values()) {
      if (runid !== null && ri.runid !== runid) continue;
      if (ip !== null && ((ri.ip !== ip && ri.resolvedIp !== ip) || ri.port !== port)) continue;
      return ri;
    }
    return null;
  }

  masterByAddr(ip: string, port: number): Instance | null {
    return this.findByAddrAndRunid(this.masters, ip, port, null);
  }

  // ---- events -------------------------------------------------------------------

  /**
   * Logs an event and publishes it on the channel named after its type. With an
   * instance, the message starts "<type> <name> <ip> <port>" (and "@ <master> <ip>
   * <port>" for replicas and Sentinels), as Redis's "%@".
   */
  event(level: LogLevel, type: string, ri: Instance | null, rest = ''): void {
    let msg = '';
    if (ri !== null) {
      msg = `${ri.typeName} ${ri.name} ${this.announce(ri)} ${ri.port}`;
      if (ri.master) msg += ` @ ${ri.master.name} ${this.announce(ri.master)} ${ri.master.port}`;
      if (rest !== '') msg += ' ' + rest;
    } else {
      msg = rest;
    }
    log(this.server, level, `${type} ${msg}`);
    if (level !== 'debug') pubsubOf(this.server).publish(type, msg);
    if (level === 'warning' && ri !== null) {
      const script = ri.masterOf.notificationScript;
      if (script) this.scripts.schedule(script, [type, msg]);
    }
  }

  // ---- start and timer -----------------------------------------------------------

  /** After the server listens: an id, the config saved, the +monitor events, the timer. */
  start(): void {
    if (this.myid === '') {
      this.myid = randomHex(40);
    }
    this.flushConfig();
    log(this.server, 'warning', `Sentinel ID is ${this.myid}`);
    for (const m of this.masters.values()) this.event('warning', '+monitor', m, `quorum ${m.quorum}`);
    this.schedule();
  }

  private schedule(): void {
    // Redis runs the Sentinel timer at a random hz of 10-19 to keep Sentinels out of step.
    const delay = 1000 / (10 + Math.floor(Math.random() * 10));
    this.timer = setTimeout(() => {
      this.timer = null;
      try {
        this.tick();
      } catch (e) {
        // A bug in one tick must not take the Sentinel down: logged, and the next tick runs.
        log(this.server, 'warning', `Sentinel timer error: ${(e as Error).stack ?? String(e)}`);
      } finally {
        if (!this.server.shuttingDown && this.timer === null) this.schedule();
      }
    }, delay);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const m of this.masters.values()) this.releaseMaster(m);
    this.scripts.killAll();
  }

  releaseMaster(m: Instance): void {
    m.dropLinks();
    for (const s of m.slaves.values()) s.dropLinks();
    for (const s of m.sentinels.values()) s.dropLinks();
  }

  /** sentinelTimer. */
  tick(): void {
    this.checkTiltCondition();
    for (const m of [...this.masters.values()]) {
      this.handleInstance(m);
      for (const s of [...m.slaves.values()]) this.handleInstance(s);
      for (const s of [...m.sentinels.values()]) this.handleInstance(s);
      if (m.failoverState === FailoverState.UpdateConfig) this.switchToPromotedSlave(m);
    }
    this.scripts.run();
  }

  private checkTiltCondition(): void {
    const now = this.now();
    const delta = now - this.previousTime;
    if (delta < 0 || delta > this.timing['tilt-trigger']) {
      this.tilt = true;
      this.tiltStartTime = now;
      this.event('warning', '+tilt', null, '#tilt mode entered');
    }
    this.previousTime = now;
  }

  private handleInstance(ri: Instance): void {
    // Monitoring goes on in TILT mode; acting on what it sees does not.
    this.reconnect(ri);
    this.sendPeriodicCommands(ri);
    if (this.tilt) {
      if (this.now() - this.tiltStartTime < this.timing['tilt-period']) return;
      this.tilt = false;
      this.event('warning', '-tilt', null, '#tilt mode exited');
    }
    this.checkSubjectivelyDown(ri);
    if (ri.flags & SRI_MASTER) {
      this.checkObjectivelyDown(ri);
      if (this.startFailoverIfNeeded(ri)) this.askMasterStateToOtherSentinels(ri, true);
      this.failoverStateMachine(ri);
      this.askMasterStateToOtherSentinels(ri, false);
    }
  }

  // ---- links --------------------------------------------------------------------

  private reconnect(ri: Instance): void {
    if (!ri.disconnected || ri.port === 0) return;
    const now = this.now();
    if (now - ri.lastReconnTime < this.timing['ping-period']) return;
    ri.lastReconnTime = now;
    if (ri.cc === null) {
      const cc = new Link('cmd', () => {
        if (ri.cc === cc) ri.cc = null;
      });
      ri.cc = cc;
      // As Redis: AUTH, CLIENT SETNAME and a PING are queued at once, sent when the connection is up.
      cc.connect(ri.ip, ri.port);
      ri.ccConnTime = now;
      this.authenticate(ri, cc);
      cc.send(this.cmd(ri, ['CLIENT', 'SETNAME', `sentinel-${this.myid.slice(0, 8)}-cmd`]));
      this.sendPing(ri);
    }
    if (!(ri.flags & SRI_SENTINEL) && ri.pc === null) {
      const pc = new Link('pubsub', () => {
        if (ri.pc === pc) ri.pc = null;
      });
      ri.pc = pc;
      pc.onMessage = (channel, message) => {
        ri.pcLastActivity = this.now();
        if (channel === HELLO_CHANNEL) this.receiveHello(ri, message);
      };
      pc.connect(ri.ip, ri.port);
      ri.pcConnTime = now;
      ri.pcLastActivity = now;
      this.authenticate(ri, pc);
      pc.send(this.cmd(ri, ['CLIENT', 'SETNAME', `sentinel-${this.myid.slice(0, 8)}-pubsub`]));
      pc.sendSubscribe(this.cmd(ri, ['SUBSCRIBE', HELLO_CHANNEL]));
    }
  }

  /** AUTH with the master's auth-pass (masters and replicas) or sentinel-pass (Sentinels). */
  private authenticate(ri: Instance, link: Link): void {
    const isSentinel = (ri.flags & SRI_SENTINEL) !== 0;
    const pass = isSentinel ? this.sentinelAuthPass : ri.masterOf.authPass;
    const user = isSentinel ? this.sentinelAuthUser : ri.masterOf.authUser;
    if (pass === null) return;
    link.send(this.cmd(ri, user !== null ? ['AUTH', user, pass] : ['AUTH', pass]));
  }

  /** A command with the master's renamed command name in place of its first word. */
  private cmd(ri: Instance, argv: string[]): string[] {
    const renamed = ri.flags & SRI_SENTINEL ? undefined : ri.masterOf.renamedCommands.get(argv[0].toLowerCase());
    if (renamed !== undefined) argv[0] = renamed;
    return argv;
  }

  private sendPeriodicCommands(ri: Instance): void {
    const cc = ri.cc;
    if (ri.disconnected || cc === null) return;
    if (cc.pending >= MAX_PENDING_COMMANDS) return;
    const now = this.now();
    let infoPeriod = this.timing['info-period'];
    // Replicas of a master in trouble, and replicas that lost their master, are watched closely.
    if (ri.flags & SRI_SLAVE && (ri.masterOf.flags & (SRI_O_DOWN | SRI_FAILOVER_IN_PROGRESS) || ri.masterLinkDownTime !== 0)) infoPeriod = 1000;
    const pingPeriod = Math.min(ri.downAfterPeriod, this.timing['ping-period']);
    if (!(ri.flags & SRI_SENTINEL) && (ri.infoRefresh === 0 || now - ri.infoRefresh > infoPeriod)) {
      cc.send(this.cmd(ri, ['INFO']), (r) => {
        if (r !== null && r.type !== 'error' && 'str' in r) this.refreshInstanceInfo(ri, r.str);
      });
    }
    if (now - ri.lastPongTime > pingPeriod && now - ri.lastPingTime > pingPeriod / 2) this.sendPing(ri);
    if (now - ri.lastPubTime > this.timing['publish-period']) this.sendHello(ri);
  }

  private sendPing(ri: Instance): void {
    const cc = ri.cc;
    if (cc === null) return;
    const sent = cc.send(this.cmd(ri, ['PING']), (r) => {
      if (r === null) return;
      const now = this.now();
      const text = 'str' in r ? r.str : '';
      if ((r.type === 'status' || r.type === 'error') && (text.startsWith('PONG') || text.startsWith('LOADING') || text.startsWith('MASTERDOWN'))) {
        ri.lastAvailTime = now;
        ri.actPingTime = 0;
        // A rebooted master counts as back only once it answers PONG (not LOADING).
        if (ri.flags & SRI_MASTER_REBOOT && text.startsWith('PONG')) ri.flags &= ~SRI_MASTER_REBOOT;
      } else if (r.type === 'error' && text.startsWith('BUSY') && ri.flags & SRI_S_DOWN && !(ri.flags & SRI_SCRIPT_KILL_SENT)) {
        // A script blocking the master: kill it, it may be the reason it looks down.
        if (cc.send(this.cmd(ri, ['SCRIPT', 'KILL']))) ri.flags |= SRI_SCRIPT_KILL_SENT;
      }
      ri.lastPongTime = now;
    });
    if (sent) {
      ri.lastPingTime = this.now();
      if (ri.actPingTime === 0) ri.actPingTime = ri.lastPingTime;
    }
  }

  /** PUBLISHes "ip,port,runid,epoch,master-name,master-ip,master-port,master-config-epoch". */
  private sendHello(ri: Instance): void {
    const cc = ri.cc;
    if (cc === null || ri.disconnected) return;
    const m = ri.masterOf;
    const [mip, mport] = this.currentMasterAddress(m);
    const ip = this.announceIp !== '' ? this.announceIp : cc.localAddress;
    if (ip === '') return;
    const port = this.announcePort !== 0 ? this.announcePort : this.server.port;
    const payload = `${ip},${port},${this.myid},${this.currentEpoch},${m.name},${mip},${mport},${m.configEpoch}`;
    if (cc.send(this.cmd(ri, ['PUBLISH', HELLO_CHANNEL, payload]))) ri.lastPubTime = this.now();
  }

  /** Every instance of the master gets a hello on the next tick (after a config change). */
  forceHelloUpdate(m: Instance): void {
    const past = this.now() - this.timing['publish-period'] - 1;
    m.lastPubTime = past;
    for (const s of m.slaves.values()) s.lastPubTime = past;
    for (const s of m.sentinels.values()) s.lastPubTime = past;
  }

  private receiveHello(ri: Instance, message: string): void {
    // Our own hellos come back on the same channel.
    if (message.split(',')[2] === this.myid) return;
    this.processHello(message);
  }

  /** sentinelProcessHelloMessage: learns Sentinels, epochs and newer master addresses. */
  processHello(hello: string): void {
    const t = hello.split(',');
    if (t.length !== 8) return;
    const [ip, portText, runid, epochText, masterName, masterIp, masterPortText, masterEpochText] = t;
    const master = this.masters.get(masterName);
    if (!master) return;
    const port = Number(portText) | 0;
    const currentEpoch = Number(epochText);
    const masterPort = Number(masterPortText) | 0;
    const masterConfigEpoch = Number(masterEpochText);
    let si = this.findByAddrAndRunid(master.sentinels, ip, port, runid);
    if (si === null) {
      // The same Sentinel at a new address: forget the old record.
      let removed = 0;
      for (const [name, s] of master.sentinels) {
        if (s.runid === runid) {
          s.dropLinks();
          master.sentinels.delete(name);
          removed++;
        }
      }
      // A Sentinel with another run id at this address: it is gone (restarted with a new
      // id), and is forgotten for every master.
      const other = removed ? null : this.findByAddrAndRunid(master.sentinels, ip, port, null);
      if (other) {
        this.event('notice', '+sentinel-invalid-addr', other);
        for (const m of this.masters.values()) {
          for (const [name, s] of m.sentinels) {
            if (s.runid !== other.runid) continue;
            s.dropLinks();
            m.sentinels.delete(name);
          }
        }
      }
      const created = this.createInstance(SRI_SENTINEL, ip, port, master, runid);
      if (typeof created !== 'string') {
        si = created;
        if (removed) this.event('notice', '+sentinel-address-switch', master, `ip ${ip} port ${port} for ${runid}`);
        else this.event('notice', '+sentinel', si);
        si.runid = runid;
        this.flushConfig();
      }
    }
    if (currentEpoch > this.currentEpoch) {
      this.currentEpoch = currentEpoch;
      this.flushConfig();
      this.event('warning', '+new-epoch', null, String(this.currentEpoch));
    }
    if (si !== null && master.configEpoch < masterConfigEpoch) {
      master.configEpoch = masterConfigEpoch;
      if (masterPort !== master.port || (masterIp !== master.ip && masterIp !== master.resolvedIp)) {
        this.event('warning', '+config-update-from', si);
        this.event('warning', '+switch-master', null, `${master.name} ${this.announce(master)} ${master.port} ${masterIp} ${masterPort}`);
        this.resetMasterAndChangeAddress(master, masterIp, masterPort);
        this.callClientReconfScript(master, 'observer', 'start', [master.ip, master.port], [masterIp, masterPort]);
      }
    }
    if (si !== null) si.lastHelloTime = this.now();
  }

  // ---- INFO ---------------------------------------------------------------------

  /** sentinelRefreshInstanceInfo: what an instance's INFO tells, and the reactions to it. */
  refreshInstanceInfo(ri: Instance, info: string): void {
    const now = this.now();
    ri.info = info;
    let role = 0;
    let masterLinkDownSeen = false;
    for (const raw of info.split('\n')) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const key = line.slice(0, colon);
      const value = line.slice(colon + 1);
      if (key === 'run_id' && value.length === 40) {
        if (ri.runid !== value) {
          if (ri.runid !== null) {
            this.event('notice', '+reboot', ri);
            if (ri.flags & SRI_MASTER && ri.masterRebootDownAfterPeriod !== 0) {
              ri.flags |= SRI_MASTER_REBOOT;
              ri.masterRebootSinceTime = now;
            }
          }
          ri.runid = value;
        }
      } else if (ri.flags & SRI_MASTER && /^slave\d+$/.test(key)) {
        const found = parseReplicaLine(value);
        if (found && this.findByAddrAndRunid(ri.slaves, found.ip, found.port, null) === null) {
          const slave = this.createInstance(SRI_SLAVE, found.ip, found.port, ri);
          if (typeof slave !== 'string') {
            this.event('notice', '+slave', slave);
            this.flushConfig();
          }
        }
      } else if (key === 'master_link_down_since_seconds') {
        ri.masterLinkDownTime = Number(value) * 1000;
        masterLinkDownSeen = true;
      } else if (key === 'role') {
        role = value === 'master' ? SRI_MASTER : value === 'slave' ? SRI_SLAVE : 0;
      } else if (ri.flags & SRI_SLAVE) {
        if (key === 'master_host') {
          if (ri.slaveMasterHost !== value) {
            ri.slaveMasterHost = value;
            ri.slaveConfChangeTime = now;
          }
        } else if (key === 'master_port') {
          const p = Number(value) | 0;
          if (ri.slaveMasterPort !== p) {
            ri.slaveMasterPort = p;
            ri.slaveConfChangeTime = now;
          }
        } else if (key === 'master_link_status') {
          ri.slaveMasterLinkUp = value === 'up';
        } else if (key === 'slave_priority' || key === 'replica_priority') {
          ri.slavePriority = Number(value) | 0;
        } else if (key === 'slave_repl_offset') {
          ri.slaveReplOffset = Number(value) || 0;
        } else if (key === 'replica_announced') {
          ri.replicaAnnounced = Number(value) | 0;
        }
      }
    }
    if (!masterLinkDownSeen) ri.masterLinkDownTime = 0;
    ri.infoRefresh = now;
    if (role !== 0 && role !== ri.roleReported) {
      ri.roleReportedTime = now;
      ri.roleReported = role;
      if (role === SRI_SLAVE) ri.slaveConfChangeTime = now;
      this.event('verbose', (ri.flags & (SRI_MASTER | SRI_SLAVE)) === role ? '+role-change' : '-role-change', ri, `new reported role is ${role === SRI_MASTER ? 'master' : 'slave'}`);
    }
    // In TILT mode nothing is acted upon.
    if (this.tilt) return;
    const m = ri.masterOf;
    if (ri.flags & SRI_SLAVE && role === SRI_MASTER) {
      if (ri.flags & SRI_PROMOTED && m.flags & SRI_FAILOVER_IN_PROGRESS && m.failoverState === FailoverState.WaitPromotion) {
        // The replica we promoted is a master now: its config gets the failover's epoch.
        m.configEpoch = m.failoverEpoch;
        m.failoverState = FailoverState.ReconfSlaves;
        m.failoverStateChangeTime = now;
        this.flushConfig();
        this.event('warning', '+promoted-slave', ri);
        if (this.simfailureFlags & SIMFAILURE_CRASH_AFTER_PROMOTION) this.simFailureCrash();
        this.event('warning', '+failover-state-reconf-slaves', m);
        this.callClientReconfScript(m, 'leader', 'start', [m.ip, m.port], [ri.ip, ri.port]);
        this.forceHelloUpdate(m);
      } else {
        // A replica that says it is a master: make it a replica again once the master looks sane.
        const wait = this.timing['publish-period'] * 4;
        if (!(ri.flags & SRI_PROMOTED) && this.masterLooksSane(m) && this.noDownFor(ri, wait) && now - ri.roleReportedTime > wait) {
          if (this.sendSlaveOf(ri, m)) this.event('notice', '+convert-to-slave', ri);
        }
      }
    }
    // A replica following the wrong master.
    if (ri.flags & SRI_SLAVE && role === SRI_SLAVE && (ri.slaveMasterPort !== m.port || (ri.slaveMasterHost !== m.ip && ri.slaveMasterHost !== m.resolvedIp))) {
      const wait = m.failoverTimeout;
      if (this.masterLooksSane(m) && this.noDownFor(ri, wait) && now - ri.slaveConfChangeTime > wait) {
        if (this.sendSlaveOf(ri, m)) this.event('notice', '+fix-slave-config', ri);
      }
    }
    // A replica being reconfigured during a failover.
    if (ri.flags & SRI_SLAVE && role === SRI_SLAVE && ri.flags & (SRI_RECONF_SENT | SRI_RECONF_INPROG)) {
      const p = m.promotedSlave;
      if (ri.flags & SRI_RECONF_SENT && p !== null && (ri.slaveMasterHost === p.ip || ri.slaveMasterHost === p.resolvedIp) && ri.slaveMasterPort === p.port) {
        ri.flags &= ~SRI_RECONF_SENT;
        ri.flags |= SRI_RECONF_INPROG;
        this.event('notice', '+slave-reconf-inprog', ri);
      }
      if (ri.flags & SRI_RECONF_INPROG && ri.slaveMasterLinkUp) {
        ri.flags &= ~SRI_RECONF_INPROG;
        ri.flags |= SRI_RECONF_DONE;
        this.event('notice', '+slave-reconf-done', ri);
      }
    }
  }

  private masterLooksSane(m: Instance): boolean {
    return (
      (m.flags & (SRI_MASTER | SRI_S_DOWN | SRI_O_DOWN | SRI_FAILOVER_IN_PROGRESS)) === SRI_MASTER &&
      m.roleReported === SRI_MASTER &&
      this.now() - m.infoRefresh < this.timing['info-period'] * 2
    );
  }

  /** Not subjectively down for the last `ms` milliseconds. */
  private noDownFor(ri: Instance, ms: number): boolean {
    const since = Math.max(ri.sDownSinceTime, ri.oDownSinceTime);
    return !(ri.flags & (SRI_S_DOWN | SRI_O_DOWN)) && (since === 0 || this.now() - since > ms);
  }

  // ---- down detection -----------------------------------------------------------

  private checkSubjectivelyDown(ri: Instance): void {
    const now = this.now();
    let elapsed = 0;
    if (ri.actPingTime !== 0) elapsed = now - ri.actPingTime;
    else if (ri.disconnected) elapsed = now - ri.lastAvailTime;
    // A command link that stopped answering half-way to down-after: reconnect it.
    const reconnectAfter = this.timing['min-link-reconnect-period'];
    if (ri.cc && ri.cc.connected && now - ri.ccConnTime > reconnectAfter && ri.actPingTime !== 0 && now - ri.actPingTime > ri.downAfterPeriod / 2 && now - ri.lastPongTime > ri.downAfterPeriod / 2) {
      ri.cc.close();
      ri.cc = null;
    }
    // A pub/sub link with no hello for three publish periods: reconnect it.
    if (ri.pc && ri.pc.connected && now - ri.pcConnTime > reconnectAfter && now - ri.pcLastActivity > this.timing['publish-period'] * 3) {
      ri.pc.close();
      ri.pc = null;
    }
    const rebooting = ri.flags & SRI_MASTER_REBOOT && now - ri.masterRebootSinceTime > ri.masterRebootDownAfterPeriod;
    const reportsReplica = ri.flags & SRI_MASTER && ri.roleReported === SRI_SLAVE && now - ri.roleReportedTime > ri.downAfterPeriod + this.timing['info-period'] * 2;
    if (elapsed > ri.downAfterPeriod || reportsReplica || rebooting) {
      if (!(ri.flags & SRI_S_DOWN)) {
        this.event('warning', '+sdown', ri);
        ri.sDownSinceTime = now;
        ri.flags |= SRI_S_DOWN;
      }
    } else if (ri.flags & SRI_S_DOWN) {
      this.event('warning', '-sdown', ri);
      ri.flags &= ~(SRI_S_DOWN | SRI_SCRIPT_KILL_SENT);
    }
  }

  private checkObjectivelyDown(m: Instance): void {
    let quorum = 0;
    let odown = false;
    if (m.flags & SRI_S_DOWN) {
      quorum = 1;
      for (const s of m.sentinels.values()) if (s.flags & SRI_MASTER_DOWN) quorum++;
      if (quorum >= m.quorum) odown = true;
    }
    if (odown) {
      if (!(m.flags & SRI_O_DOWN)) {
        this.event('warning', '+odown', m, `#quorum ${quorum}/${m.quorum}`);
        m.flags |= SRI_O_DOWN;
        m.oDownSinceTime = this.now();
      }
    } else if (m.flags & SRI_O_DOWN) {
      this.event('warning', '-odown', m);
      m.flags &= ~SRI_O_DOWN;
    }
  }

  /** SENTINEL IS-MASTER-DOWN-BY-ADDR to the other Sentinels (our run id when asking for votes). */
  private askMasterStateToOtherSentinels(m: Instance, forced: boolean): void {
    const now = this.now();
    for (const ri of m.sentinels.values()) {
      const elapsed = now - ri.lastMasterDownReplyTime;
      // An answer too old counts for nothing.
      if (elapsed > this.timing['ask-period'] * 5) {
        ri.flags &= ~SRI_MASTER_DOWN;
        ri.leader = null;
      }
      if (!(m.flags & SRI_S_DOWN)) continue;
      if (ri.disconnected || ri.cc === null) continue;
      if (!forced && elapsed < this.timing['ask-period']) continue;
      const runid = m.failoverState > FailoverState.None ? this.myid : '*';
      ri.cc.send(['SENTINEL', 'is-master-down-by-addr', m.resolvedIp, String(m.port), String(this.currentEpoch), runid], (r) => {
        if (r === null || r.type !== 'array' || r.elements.length !== 3) return;
        const [down, leader, epoch] = r.elements;
        if (down.type !== 'integer' || leader.type !== 'string' || epoch.type !== 'integer') return;
        ri.lastMasterDownReplyTime = this.now();
        if (down.value === 1n) ri.flags |= SRI_MASTER_DOWN;
        else ri.flags &= ~SRI_MASTER_DOWN;
        if (leader.str !== '*') {
          ri.leader = leader.str;
          ri.leaderEpoch = Number(epoch.value);
        }
      });
    }
  }

  /** sentinelVoteLeader: our vote for the epoch (first come, first served); returns [leader, epoch]. */
  voteLeader(m: Instance, reqEpoch: number, reqRunid: string): [string | null, number] {
    if (reqEpoch > this.currentEpoch) {
      this.currentEpoch = reqEpoch;
      this.flushConfig();
      this.event('warning', '+new-epoch', null, String(this.currentEpoch));
    }
    if (m.leaderEpoch < reqEpoch && this.currentEpoch <= reqEpoch) {
      m.leader = reqRunid;
      m.leaderEpoch = this.currentEpoch;
      this.flushConfig();
      this.event('warning', '+vote-for-leader', null, `${m.leader} ${m.leaderEpoch}`);
      // Voted for another: do not start our own failover right away.
      if (m.leader !== this.myid) m.failoverStartTime = this.now() + Math.floor(Math.random() * MAX_DESYNC);
    }
    return [m.leader, m.leaderEpoch];
  }

  /** sentinelGetLeader: the run id with a majority of the votes for `epoch` (and the quorum), or null. */
  private getLeader(m: Instance, epoch: number): string | null {
    const counters = new Map<string, number>();
    const voters = m.sentinels.size + 1;
    for (const ri of m.sentinels.values()) {
      if (ri.leader !== null && ri.leaderEpoch === this.currentEpoch) counters.set(ri.leader, (counters.get(ri.leader) ?? 0) + 1);
    }
    let winner: string | null = null;
    let maxVotes = 0;
    for (const [runid, votes] of counters) {
      if (votes > maxVotes) {
        maxVotes = votes;
        winner = runid;
      }
    }
    // Our vote goes to the winner so far, or to ourselves.
    const [myvote, leaderEpoch] = this.voteLeader(m, epoch, winner ?? this.myid);
    if (myvote !== null && leaderEpoch === epoch) {
      const votes = (counters.get(myvote) ?? 0) + 1;
      counters.set(myvote, votes);
      if (votes > maxVotes) {
        maxVotes = votes;
        winner = myvote;
      }
    }
    const majority = Math.floor(voters / 2) + 1;
    if (winner !== null && (maxVotes < majority || maxVotes < m.quorum)) winner = null;
    return winner;
  }

  // ---- failover -----------------------------------------------------------------

  private startFailoverIfNeeded(m: Instance): boolean {
    if (!(m.flags & SRI_O_DOWN) || m.flags & SRI_FAILOVER_IN_PROGRESS) return false;
    const now = this.now();
    if (now - m.failoverStartTime < m.failoverTimeout * 2) {
      if (m.failoverDelayLogged !== m.failoverStartTime) {
        const when = ctime(new Date(m.failoverStartTime + m.failoverTimeout * 2));
        log(this.server, 'warning', `Next failover delay: I will not start a failover before ${when}`);
        m.failoverDelayLogged = m.failoverStartTime;
      }
      return false;
    }
    this.startFailover(m);
    return true;
  }

  startFailover(m: Instance): void {
    m.failoverState = FailoverState.WaitStart;
    m.flags |= SRI_FAILOVER_IN_PROGRESS;
    m.failoverEpoch = ++this.currentEpoch;
    this.event('warning', '+new-epoch', null, String(this.currentEpoch));
    this.event('warning', '+try-failover', m);
    m.failoverStartTime = this.now() + Math.floor(Math.random() * MAX_DESYNC);
    m.failoverStateChangeTime = this.now();
  }

  private abortFailover(m: Instance): void {
    m.flags &= ~(SRI_FAILOVER_IN_PROGRESS | SRI_FORCE_FAILOVER);
    m.failoverState = FailoverState.None;
    m.failoverStateChangeTime = this.now();
    if (m.promotedSlave) {
      m.promotedSlave.flags &= ~SRI_PROMOTED;
      m.promotedSlave = null;
    }
  }

  private failoverStateMachine(m: Instance): void {
    if (!(m.flags & SRI_FAILOVER_IN_PROGRESS)) return;
    switch (m.failoverState) {
      case FailoverState.WaitStart:
        this.failoverWaitStart(m);
        break;
      case FailoverState.SelectSlave:
        this.failoverSelectSlave(m);
        break;
      case FailoverState.SendSlaveofNoone:
        this.failoverSendSlaveOfNoOne(m);
        break;
      case FailoverState.WaitPromotion:
        if (this.now() - m.failoverStateChangeTime > m.failoverTimeout) {
          this.event('warning', '-failover-abort-slave-timeout', m);
          this.abortFailover(m);
        }
        break;
      case FailoverState.ReconfSlaves:
        this.failoverReconfNextSlave(m);
        break;
    }
  }

  private failoverWaitStart(m: Instance): void {
    const leader = this.getLeader(m, m.failoverEpoch);
    const isLeader = leader !== null && leader === this.myid;
    if (!isLeader && !(m.flags & SRI_FORCE_FAILOVER)) {
      const electionTimeout = Math.min(this.timing['election-timeout'], m.failoverTimeout);
      if (this.now() - m.failoverStartTime > electionTimeout) {
        this.event('warning', '-failover-abort-not-elected', m);
        this.abortFailover(m);
      }
      return;
    }
    this.event('warning', '+elected-leader', m);
    if (this.simfailureFlags & SIMFAILURE_CRASH_AFTER_ELECTION) this.simFailureCrash();
    m.failoverState = FailoverState.SelectSlave;
    m.failoverStateChangeTime = this.now();
    this.event('warning', '+failover-state-select-slave', m);
  }

  private failoverSelectSlave(m: Instance): void {
    const slave = this.selectSlave(m);
    if (slave === null) {
      this.event('warning', '-failover-abort-no-good-slave', m);
      this.abortFailover(m);
      return;
    }
    this.event('warning', '+selected-slave', slave);
    slave.flags |= SRI_PROMOTED;
    m.promotedSlave = slave;
    m.failoverState = FailoverState.SendSlaveofNoone;
    m.failoverStateChangeTime = this.now();
    this.event('notice', '+failover-state-send-slaveof-noone', slave);
  }

  private failoverSendSlaveOfNoOne(m: Instance): void {
    const p = m.promotedSlave!;
    if (p.disconnected) {
      if (this.now() - m.failoverStateChangeTime > m.failoverTimeout) {
        this.event('warning', '-failover-abort-slave-timeout', m);
        this.abortFailover(m);
      }
      return;
    }
    if (!this.sendSlaveOf(p, null)) return;
    this.event('notice', '+failover-state-wait-promotion', p);
    m.failoverState = FailoverState.WaitPromotion;
    m.failoverStateChangeTime = this.now();
  }

  private failoverReconfNextSlave(m: Instance): void {
    const now = this.now();
    const p = m.promotedSlave!;
    let inProgress = 0;
    for (const s of m.slaves.values()) if (s.flags & (SRI_RECONF_SENT | SRI_RECONF_INPROG)) inProgress++;
    for (const s of m.slaves.values()) {
      if (inProgress >= m.parallelSyncs) break;
      if (s.flags & (SRI_PROMOTED | SRI_RECONF_DONE)) continue;
      // A replica that never acknowledged the reconfiguration in time counts as done.
      if (s.flags & SRI_RECONF_SENT && now - s.slaveReconfSentTime > this.timing['slave-reconf-timeout']) {
        this.event('notice', '-slave-reconf-sent-timeout', s);
        s.flags &= ~SRI_RECONF_SENT;
        s.flags |= SRI_RECONF_DONE;
      }
      if (s.flags & (SRI_RECONF_SENT | SRI_RECONF_INPROG)) continue;
      if (s.disconnected) continue;
      if (this.sendSlaveOf(s, p)) {
        s.flags |= SRI_RECONF_SENT;
        s.slaveReconfSentTime = now;
        this.event('notice', '+slave-reconf-sent', s);
        inProgress++;
      }
    }
    this.failoverDetectEnd(m);
  }

  private failoverDetectEnd(m: Instance): void {
    const p = m.promotedSlave;
    if (p === null || p.flags & SRI_S_DOWN) return;
    let notReconfigured = 0;
    for (const s of m.slaves.values()) {
      if (s.flags & (SRI_PROMOTED | SRI_RECONF_DONE)) continue;
      if (s.flags & SRI_S_DOWN) continue;
      notReconfigured++;
    }
    let timeout = false;
    if (this.now() - m.failoverStateChangeTime > m.failoverTimeout) {
      notReconfigured = 0;
      timeout = true;
      this.event('warning', '+failover-end-for-timeout', m);
    }
    if (notReconfigured === 0) {
      this.event('warning', '+failover-end', m);
      m.failoverState = FailoverState.UpdateConfig;
      m.failoverStateChangeTime = this.now();
    }
    // Ended by the timeout: the replicas not reconfigured yet get the order anyway.
    if (timeout) {
      for (const s of m.slaves.values()) {
        if (s.flags & (SRI_PROMOTED | SRI_RECONF_DONE | SRI_RECONF_SENT)) continue;
        if (s.disconnected) continue;
        if (this.sendSlaveOf(s, p)) {
          this.event('notice', '+slave-reconf-sent-be', s);
          s.flags |= SRI_RECONF_SENT;
        }
      }
    }
  }

  /** sentinelSelectSlave: the best replica to promote, or null. */
  selectSlave(m: Instance): Instance | null {
    const now = this.now();
    let maxMasterDownTime = 0;
    if (m.flags & SRI_S_DOWN) maxMasterDownTime += now - m.sDownSinceTime;
    maxMasterDownTime += m.downAfterPeriod * 10;
    const infoValidity = m.flags & SRI_S_DOWN ? this.timing['ping-period'] * 5 : this.timing['info-period'] * 3;
    const candidates: Instance[] = [];
    for (const s of m.slaves.values()) {
      if (s.flags & (SRI_S_DOWN | SRI_O_DOWN)) continue;
      if (s.disconnected) continue;
      if (now - s.lastAvailTime > this.timing['ping-period'] * 5) continue;
      if (s.slavePriority === 0) continue;
      if (now - s.infoRefresh > infoValidity) continue;
      if (s.masterLinkDownTime > maxMasterDownTime) continue;
      candidates.push(s);
    }
    candidates.sort((a, b) => {
      if (a.slavePriority !== b.slavePriority) return a.slavePriority - b.slavePriority;
      if (a.slaveReplOffset !== b.slaveReplOffset) return a.slaveReplOffset > b.slaveReplOffset ? -1 : 1;
      // A replica whose run id we do not know yet goes last.
      if (a.runid === null || b.runid === null) return a.runid === b.runid ? 0 : a.runid === null ? 1 : -1;
      const x = a.runid.toLowerCase();
      const y = b.runid.toLowerCase();
      return x < y ? -1 : x > y ? 1 : 0;
    });
    return candidates[0] ?? null;
  }

  /**
   * REPLICAOF host port (null: NO ONE) in a transaction with CONFIG REWRITE and
   * the killing of the instance's clients, so they reconnect to the right master.
   */
  private sendSlaveOf(ri: Instance, target: Instance | null): boolean {
    const addr: [string, number] | null = target ? [this.announce(target), target.port] : null;
    const cc = ri.cc;
    if (cc === null || ri.disconnected) return false;
    const host = addr ? addr[0] : 'NO';
    const port = addr ? String(addr[1]) : 'ONE';
    if (!cc.send(this.cmd(ri, ['MULTI']))) return false;
    cc.send(this.cmd(ri, ['SLAVEOF', host, port]));
    cc.send(this.cmd(ri, ['CONFIG', 'REWRITE']));
    cc.send(this.cmd(ri, ['CLIENT', 'KILL', 'TYPE', 'normal']));
    cc.send(this.cmd(ri, ['CLIENT', 'KILL', 'TYPE', 'pubsub']));
    cc.send(this.cmd(ri, ['EXEC']));
    return true;
  }

  private switchToPromotedSlave(m: Instance): void {
    const ref = m.promotedSlave ?? m;
    this.event('warning', '+switch-master', null, `${m.name} ${this.announce(m)} ${m.port} ${this.announce(ref)} ${ref.port}`);
    this.callClientReconfScript(m, 'leader', 'end', [m.ip, m.port], [ref.ip, ref.port]);
    this.resetMasterAndChangeAddress(m, ref.ip, ref.port);
  }

  /**
   * The master moved to ip:port: its replicas are the old ones but the new
   * master, plus the old master; its failover state starts over.
   */
  resetMasterAndChangeAddress(m: Instance, ip: string, port: number): void {
    const replicas: Array<[string, number]> = [];
    for (const s of m.slaves.values()) if (s.ip !== ip || s.port !== port) replicas.push([s.ip, s.port]);
    if (m.ip !== ip || m.port !== port) replicas.push([m.ip, m.port]);
    this.resetMaster(m, false, false);
    m.ip = ip;
    m.port = port;
    for (const [sip, sport] of replicas) {
      const slave = this.createInstance(SRI_SLAVE, sip, sport, m);
      if (typeof slave !== 'string') this.event('notice', '+slave', slave);
    }
    m.oDownSinceTime = 0;
    m.sDownSinceTime = 0;
    this.flushConfig();
  }

  /** sentinelResetMaster: forget replicas (and with `sentinels`, the other Sentinels) and all transient state. */
  resetMaster(m: Instance, sentinels: boolean, generateEvent: boolean): void {
    for (const s of m.slaves.values()) s.dropLinks();
    m.slaves.clear();
    if (sentinels) {
      for (const s of m.sentinels.values()) s.dropLinks();
      m.sentinels.clear();
    }
    m.dropLinks();
    m.flags &= SRI_MASTER;
    m.leader = null;
    m.failoverState = FailoverState.None;
    m.failoverStateChangeTime = 0;
    m.failoverStartTime = 0;
    m.promotedSlave = null;
    m.runid = null;
    m.slaveMasterHost = null;
    m.info = null;
    m.infoRefresh = 0;
    const now = this.now();
    m.actPingTime = now;
    m.lastPingTime = 0;
    m.lastAvailTime = now;
    m.lastPongTime = now;
    m.roleReportedTime = now;
    m.roleReported = SRI_MASTER;
    if (generateEvent) this.event('warning', '+reset-master', m);
  }

  private callClientReconfScript(m: Instance, role: 'leader' | 'observer', state: 'start' | 'end' | 'abort', from: [string, number], to: [string, number]): void {
    if (!m.clientReconfigScript) return;
    this.scripts.schedule(m.clientReconfigScript, [m.name, role, state, from[0], String(from[1]), to[0], String(to[1])]);
  }

  private simFailureCrash(): never {
    log(this.server, 'warning', 'Sentinel CRASH because of SENTINEL simulate-failure');
    process.exit(99);
  }

  // ---- what SENTINEL and INFO report --------------------------------------------

  /** sentinelIsQuorumReachable: [usable Sentinels, no quorum, no majority]. */
  quorumReachable(m: Instance): [number, boolean, boolean] {
    const voters = m.sentinels.size + 1;
    let usable = 1;
    for (const s of m.sentinels.values()) if (!(s.flags & (SRI_S_DOWN | SRI_O_DOWN))) usable++;
    return [usable, usable < m.quorum, usable < Math.floor(voters / 2) + 1];
  }

  infoFields(): Array<[string, string | number]> {
    const now = this.now();
    const out: Array<[string, string | number]> = [
      ['sentinel_masters', this.masters.size],
      ['sentinel_tilt', this.tilt ? 1 : 0],
      ['sentinel_tilt_since_seconds', this.tilt ? Math.floor((now - this.tiltStartTime) / 1000) : -1],
      ['sentinel_running_scripts', this.scripts.running],
      ['sentinel_scripts_queue_length', this.scripts.queueLength],
      ['sentinel_simulate_failure_flags', this.simfailureFlags],
    ];
    let i = 0;
    for (const m of this.masters.values()) {
      const status = m.flags & SRI_O_DOWN ? 'odown' : m.flags & SRI_S_DOWN ? 'sdown' : 'ok';
      const [ip, port] = this.currentMasterAddress(m);
      out.push([`master${i++}`, `name=${m.name},status=${status},address=${addrName(ip, port)},slaves=${m.slaves.size},sentinels=${m.sentinels.size + 1}`]);
    }
    return out;
  }
}

/** C's ctime() without its newline: "Thu Nov 26 17:08:54 2026". */
function ctime(d: Date): string {
  const [wd, mon, day, year, time] = d.toString().split(' ');
  return `${wd} ${mon} ${day.replace(/^0/, ' ')} ${time} ${year}`;
}

function yesno(s: string): boolean | null {
  const v = s.toLowerCase();
  return v === 'yes' ? true : v === 'no' ? false : null;
}

/** Whether a script path (relative to `dir`, Redis's working directory) can be run. */
export function isExecutable(dir: string, path: string): boolean {
  try {
    accessSync(resolvePath(dir, path), fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A master's INFO `slaveN:` value: "ip=...,port=...,..." (or the pre-2.8 "ip,port,state"). */
function parseReplicaLine(value: string): { ip: string; port: number } | null {
  if (value.includes('ip=')) {
    let ip: string | null = null;
    let port = 0;
    for (const part of value.split(',')) {
      const eq = part.indexOf('=');
      const k = part.slice(0, eq);
      const v = part.slice(eq + 1);
      if (k === 'ip') ip = v;
      else if (k === 'port') port = Number(v) | 0;
    }
    return ip !== null && port > 0 ? { ip, port } : null;
  }
  const parts = value.split(',');
  if (parts.length < 2) return null;
  const port = Number(parts[1]) | 0;
  return port > 0 ? { ip: parts[0], port } : null;
}
