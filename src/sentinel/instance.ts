/**
 * What a Sentinel knows of one instance it watches: a master (by name), one
 * of its replicas or one of the other Sentinels watching it (both named
 * "ip:port"), with the state of its links and, for masters, the failover.
 * Field names follow Redis's sentinelRedisInstance so the rules in
 * sentinel.ts read like the documented algorithm.
 */
import type { Link } from './link.js';

export const SRI_MASTER = 1 << 0;
export const SRI_SLAVE = 1 << 1;
export const SRI_SENTINEL = 1 << 2;
export const SRI_S_DOWN = 1 << 3;
export const SRI_O_DOWN = 1 << 4;
/** A Sentinel that told us it sees the master down. */
export const SRI_MASTER_DOWN = 1 << 5;
export const SRI_FAILOVER_IN_PROGRESS = 1 << 6;
/** The replica chosen for promotion. */
export const SRI_PROMOTED = 1 << 7;
export const SRI_RECONF_SENT = 1 << 8;
export const SRI_RECONF_INPROG = 1 << 9;
export const SRI_RECONF_DONE = 1 << 10;
/** SENTINEL FAILOVER: no election needed. */
export const SRI_FORCE_FAILOVER = 1 << 11;
export const SRI_SCRIPT_KILL_SENT = 1 << 12;
export const SRI_MASTER_REBOOT = 1 << 13;

export enum FailoverState {
  None,
  WaitStart,
  SelectSlave,
  SendSlaveofNoone,
  WaitPromotion,
  ReconfSlaves,
  UpdateConfig,
}

export const FAILOVER_STATE_NAMES = ['none', 'wait_start', 'select_slave', 'send_slaveof_noone', 'wait_promotion', 'reconf_slaves', 'update_config'];

/** Stands for the link state in FLAG_NAMES (not a flag bit). */
const DISCONNECTED = 0;

/** The flags as SENTINEL MASTER(S) lists them, in Redis's order (the link state among them). */
const FLAG_NAMES: ReadonlyArray<[number, string]> = [
  [SRI_S_DOWN, 's_down'],
  [SRI_O_DOWN, 'o_down'],
  [SRI_MASTER, 'master'],
  [SRI_SLAVE, 'slave'],
  [SRI_SENTINEL, 'sentinel'],
  [DISCONNECTED, 'disconnected'],
  [SRI_MASTER_DOWN, 'master_down'],
  [SRI_FAILOVER_IN_PROGRESS, 'failover_in_progress'],
  [SRI_PROMOTED, 'promoted'],
  [SRI_RECONF_SENT, 'reconf_sent'],
  [SRI_RECONF_INPROG, 'reconf_inprog'],
  [SRI_RECONF_DONE, 'reconf_done'],
  [SRI_FORCE_FAILOVER, 'force_failover'],
  [SRI_SCRIPT_KILL_SENT, 'script_kill_sent'],
];

/** "ip:port", with brackets around an IPv6 address, as Redis names replicas and Sentinels. */
export function addrName(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export class Instance {
  runid: string | null = null;
  /**
   * `ip` is the address as configured or learnt (a hostname with resolve-hostnames);
   * this is its IP address once resolved (the same when `ip` is one).
   */
  resolvedIp: string;
  /** Command link, and (not for Sentinels) the pub/sub link that hears hello messages. */
  cc: Link | null = null;
  pc: Link | null = null;
  ccConnTime = 0;
  pcConnTime = 0;
  pcLastActivity = 0;
  lastReconnTime = 0;
  /** When the oldest unanswered PING was sent (0: none outstanding). */
  actPingTime: number;
  lastPingTime = 0;
  lastPongTime: number;
  /** Last valid PING reply (PONG, LOADING, MASTERDOWN). */
  lastAvailTime: number;
  lastPubTime = 0;
  lastHelloTime = 0;
  lastMasterDownReplyTime = 0;
  sDownSinceTime = 0;
  oDownSinceTime = 0;
  downAfterPeriod: number;
  masterRebootDownAfterPeriod = 0;
  masterRebootSinceTime = 0;
  infoRefresh = 0;
  info: string | null = null;
  /** Commands renamed on the monitored instances (SENTINEL SET rename-command). */
  readonly renamedCommands = new Map<string, string>();
  roleReported: number;
  roleReportedTime: number;
  slaveConfChangeTime: number;

  // Masters.
  readonly sentinels = new Map<string, Instance>();
  readonly slaves = new Map<string, Instance>();
  quorum = 0;
  parallelSyncs = 1;
  authPass: string | null = null;
  authUser: string | null = null;
  configEpoch = 0;
  notificationScript: string | null = null;
  clientReconfigScript: string | null = null;

  // Replicas.
  masterLinkDownTime = 0;
  slavePriority = 100;
  replicaAnnounced = 1;
  slaveReconfSentTime = 0;
  slaveMasterHost: string | null = null;
  slaveMasterPort = 0;
  slaveMasterLinkUp = false;
  slaveReplOffset = 0;

  // Failover (masters), and each Sentinel's vote as it told us.
  leader: string | null = null;
  leaderEpoch = 0;
  failoverEpoch = 0;
  failoverState = FailoverState.None;
  failoverStateChangeTime = 0;
  failoverStartTime = 0;
  failoverTimeout: number;
  failoverDelayLogged = 0;
  promotedSlave: Instance | null = null;

  constructor(
    public flags: number,
    public name: string,
    public ip: string,
    public port: number,
    readonly master: Instance | null,
    now: number,
    defaults: { downAfter: number; failoverTimeout: number },
  ) {
    this.resolvedIp = ip;
    this.downAfterPeriod = master ? master.downAfterPeriod : defaults.downAfter;
    this.failoverTimeout = defaults.failoverTimeout;
    // Counted from creation, so an instance never reached goes down after down-after-milliseconds.
    this.actPingTime = now;
    this.lastPongTime = now;
    this.lastAvailTime = now;
    this.roleReported = flags & (SRI_MASTER | SRI_SLAVE);
    this.roleReportedTime = now;
    this.slaveConfChangeTime = now;
  }

  /** Links down: a Sentinel needs its command link, others both links. */
  get disconnected(): boolean {
    if (this.cc === null || !this.cc.connected) return true;
    return !(this.flags & SRI_SENTINEL) && (this.pc === null || !this.pc.connected);
  }

  get typeName(): string {
    return this.flags & SRI_MASTER ? 'master' : this.flags & SRI_SLAVE ? 'slave' : this.flags & SRI_SENTINEL ? 'sentinel' : 'unknown';
  }

  /** The master this instance belongs to (itself for a master). */
  get masterOf(): Instance {
    return this.master ?? this;
  }

  flagsText(): string {
    const out: string[] = [];
    for (const [bit, name] of FLAG_NAMES) if (bit === DISCONNECTED ? this.disconnected : this.flags & bit) out.push(name);
    return out.join(',');
  }

  /** Closes both links (they reconnect on the next timer tick). */
  dropLinks(): void {
    this.cc?.close();
    this.pc?.close();
    this.cc = null;
    this.pc = null;
  }
}
