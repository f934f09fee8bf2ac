/**
 * The commands only a Sentinel answers (SENTINEL and its subcommands), and
 * the Sentinel's own versions of PUBLISH and ROLE. The other commands of a
 * Sentinel's table (PING, INFO, CLIENT, ACL, AUTH, HELLO, SUBSCRIBE, ...) are
 * the server's; see buildCommandTable in src/commands/index.ts.
 */
import type { Client } from '../server/client.js';
import type { CommandImpl } from '../server/command-table.js';
import { replyHelp } from '../commands/client.js';
import { globMatch } from '../util/glob.js';
import { log } from '../persistence/log.js';
import { parseLongLong } from '../util/numbers.js';
import {
  Instance,
  FAILOVER_STATE_NAMES,
  SRI_MASTER,
  SRI_SLAVE,
  SRI_SENTINEL,
  SRI_S_DOWN,
  SRI_O_DOWN,
  SRI_FAILOVER_IN_PROGRESS,
  SRI_FORCE_FAILOVER,
} from './instance.js';
import { DEFAULT_TIMING, HELLO_CHANNEL, SIMFAILURE_CRASH_AFTER_ELECTION, SIMFAILURE_CRASH_AFTER_PROMOTION, isExecutable, type Sentinel, type TimingName } from './sentinel.js';

function sentinelOf(c: Client): Sentinel {
  return c.server.sentinel!;
}

/** A bulk string holding a number, as Redis's addReplyBulkLongLong. */
function addBulkNum(c: Client, n: number): void {
  c.addBulk(String(n));
}

function masterOrError(c: Client, name: string): Instance | null {
  const ri = sentinelOf(c).masters.get(name);
  if (!ri) c.addError('ERR No such master with that name');
  return ri ?? null;
}

/** addReplySentinelRedisInstance: one instance as a map of its state. */
function replyInstance(c: Client, ri: Instance): void {
  const now = sentinelOf(c).now();
  const fields: Array<[string, string | number]> = [
    ['name', ri.name],
    ['ip', sentinelOf(c).announce(ri)],
    ['port', ri.port],
    ['runid', ri.runid ?? ''],
    ['flags', ri.flagsText()],
    ['link-pending-commands', ri.cc?.pending ?? 0],
    ['link-refcount', 1],
  ];
  if (ri.flags & SRI_FAILOVER_IN_PROGRESS) fields.push(['failover-state', FAILOVER_STATE_NAMES[ri.failoverState]]);
  fields.push(['last-ping-sent', ri.actPingTime ? now - ri.actPingTime : 0]);
  fields.push(['last-ok-ping-reply', now - ri.lastAvailTime]);
  fields.push(['last-ping-reply', now - ri.lastPongTime]);
  if (ri.flags & SRI_S_DOWN) fields.push(['s-down-time', now - ri.sDownSinceTime]);
  if (ri.flags & SRI_O_DOWN) fields.push(['o-down-time', now - ri.oDownSinceTime]);
  fields.push(['down-after-milliseconds', ri.downAfterPeriod]);
  if (ri.flags & (SRI_MASTER | SRI_SLAVE)) {
    fields.push(['info-refresh', ri.infoRefresh ? now - ri.infoRefresh : 0]);
    fields.push(['role-reported', ri.roleReported === SRI_MASTER ? 'master' : 'slave']);
    fields.push(['role-reported-time', now - ri.roleReportedTime]);
  }
  if (ri.flags & SRI_MASTER) {
    fields.push(['config-epoch', ri.configEpoch]);
    fields.push(['num-slaves', ri.slaves.size]);
    fields.push(['num-other-sentinels', ri.sentinels.size]);
    fields.push(['quorum', ri.quorum]);
    fields.push(['failover-timeout', ri.failoverTimeout]);
    fields.push(['parallel-syncs', ri.parallelSyncs]);
    if (ri.notificationScript) fields.push(['notification-script', ri.notificationScript]);
    if (ri.clientReconfigScript) fields.push(['client-reconfig-script', ri.clientReconfigScript]);
  }
  if (ri.flags & SRI_SLAVE) {
    fields.push(['master-link-down-time', ri.masterLinkDownTime]);
    fields.push(['master-link-status', ri.slaveMasterLinkUp ? 'ok' : 'err']);
    fields.push(['master-host', ri.slaveMasterHost ?? '?']);
    fields.push(['master-port', ri.slaveMasterPort]);
    fields.push(['slave-priority', ri.slavePriority]);
    fields.push(['slave-repl-offset', ri.slaveReplOffset]);
    fields.push(['replica-announced', ri.replicaAnnounced]);
  }
  if (ri.flags & SRI_SENTINEL) {
    fields.push(['last-hello-message', now - ri.lastHelloTime]);
    fields.push(['voted-leader', ri.leader ?? '?']);
    fields.push(['voted-leader-epoch', ri.leaderEpoch]);
  }
  c.addMapLen(fields.length);
  for (const [k, v] of fields) {
    c.addBulk(k);
    if (typeof v === 'number') addBulkNum(c, v);
    else c.addBulk(v);
  }
}

function replyInstances(c: Client, list: Iterable<Instance>): void {
  // Replicas with replica-announced no are not listed.
  const all = [...list].filter((ri) => !(ri.flags & SRI_SLAVE) || ri.replicaAnnounced !== 0);
  c.addArrayLen(all.length);
  for (const ri of all) replyInstance(c, ri);
}

function help(c: Client): void {
  replyHelp(c, 'SENTINEL', [
    'CKQUORUM <master-name>',
    '    Check if the current Sentinel configuration is able to reach the quorum',
    '    needed to failover a master and the majority needed to authorize the',
    '    failover.',
    'CONFIG SET <param> <value>',
    '    Set a global Sentinel configuration parameter.',
    'CONFIG GET <param>',
    '    Get global Sentinel configuration parameter.',
    'DEBUG [<param> <value> ...]',
    '    Show a list of configurable time parameters and their values (milliseconds).',
    '    Or update current configurable parameters values (one or more).',
    'GET-MASTER-ADDR-BY-NAME <master-name>',
    '    Return the ip and port number of the master with that name.',
    'FAILOVER <master-name>',
    '    Manually failover a master node without asking for agreement from other',
    '    Sentinels',
    'FLUSHCONFIG',
    '    Force Sentinel to rewrite its configuration on disk, including the current',
    '    Sentinel state.',
    'INFO-CACHE <master-name>',
    '    Return last cached INFO output from masters and all its replicas.',
    'IS-MASTER-DOWN-BY-ADDR <ip> <port> <current-epoch> <runid>',
    "    Check if the master specified by ip:port is down from current Sentinel's",
    '    point of view.',
    'MASTER <master-name>',
    '    Show the state and info of the specified master.',
    'MASTERS',
    '    Show a list of monitored masters and their state.',
    'MONITOR <name> <ip> <port> <quorum>',
    '    Start monitoring a new master with the specified name, ip, port and quorum.',
    'MYID',
    '    Return the ID of the Sentinel instance.',
    'PENDING-SCRIPTS',
    '    Get pending scripts information.',
    'REMOVE <master-name>',
    "    Remove master from Sentinel's monitor list.",
    'REPLICAS <master-name>',
    '    Show a list of replicas for this master and their state.',
    'RESET <pattern>',
    '    Reset masters for specific master name matching this pattern.',
    'SENTINELS <master-name>',
    '    Show a list of Sentinel instances for this master and their state.',
    'SET <master-name> <option> <value> [<option> <value> ...]',
    '    Set configuration parameters for certain masters.',
    'SIMULATE-FAILURE [CRASH-AFTER-ELECTION] [CRASH-AFTER-PROMOTION] [HELP]',
    '    Simulate a Sentinel crash.',
  ]);
}

/** sentinelFlushConfigAndReply. */
function flushAndReply(c: Client): void {
  if (sentinelOf(c).flushConfig() !== null) c.addError('ERR Failed to save config file. Check server logs.');
  else c.addOK();
}

function masters(c: Client): void {
  replyInstances(c, sentinelOf(c).masters.values());
}

function master(c: Client, argv: string[]): void {
  const ri = masterOrError(c, argv[2]);
  if (ri) replyInstance(c, ri);
}

function replicas(c: Client, argv: string[]): void {
  const ri = masterOrError(c, argv[2]);
  if (ri) replyInstances(c, ri.slaves.values());
}

function sentinels(c: Client, argv: string[]): void {
  const ri = masterOrError(c, argv[2]);
  if (ri) replyInstances(c, ri.sentinels.values());
}

function myid(c: Client): void {
  c.addBulk(sentinelOf(c).myid);
}

function isMasterDownByAddr(c: Client, argv: string[]): void {
  const s = sentinelOf(c);
  const port = parseLongLong(argv[3]);
  const reqEpoch = parseLongLong(argv[4]);
  if (port === null || reqEpoch === null) {
    c.addError('ERR value is not an integer or out of range');
    return;
  }
  const ri = s.masterByAddr(argv[2], Number(port));
  const isDown = !s.tilt && ri !== null && (ri.flags & SRI_S_DOWN) !== 0;
  let leader: string | null = null;
  let leaderEpoch = 0;
  if (ri !== null && argv[5] !== '*') [leader, leaderEpoch] = s.voteLeader(ri, Number(reqEpoch), argv[5]);
  c.addArrayLen(3);
  c.addInt(isDown ? 1 : 0);
  c.addBulk(leader ?? '*');
  c.addInt(leaderEpoch);
}

function reset(c: Client, argv: string[]): void {
  const s = sentinelOf(c);
  let n = 0;
  for (const m of s.masters.values()) {
    if (!globMatch(argv[2], m.name)) continue;
    s.resetMaster(m, true, true);
    n++;
  }
  if (n > 0) s.flushConfig();
  c.addInt(n);
}

function getMasterAddrByName(c: Client, argv: string[]): void {
  const s = sentinelOf(c);
  const ri = s.masters.get(argv[2]);
  if (!ri) {
    c.addNullArray();
    return;
  }
  const [ip, port] = s.currentMasterAddress(ri);
  c.addArrayLen(2);
  c.addBulk(ip);
  addBulkNum(c, port);
}

function failover(c: Client, argv: string[]): void {
  const s = sentinelOf(c);
  const ri = masterOrError(c, argv[2]);
  if (!ri) return;
  if (ri.flags & SRI_FAILOVER_IN_PROGRESS) {
    c.addError('INPROG Failover already in progress');
    return;
  }
  if (s.selectSlave(ri) === null) {
    c.addError('NOGOODSLAVE No suitable replica to promote');
    return;
  }
  log(c.server, 'warning', `Executing user requested FAILOVER of '${ri.name}'`);
  s.startFailover(ri);
  ri.flags |= SRI_FORCE_FAILOVER;
  c.addOK();
}

function pendingScripts(c: Client): void {
  const jobs = sentinelOf(c).scripts.pending();
  c.addArrayLen(jobs.length);
  for (const j of jobs) {
    c.addMapLen(5);
    c.addBulk('argv');
    c.addArrayLen(j.argv.length);
    for (const a of j.argv) c.addBulk(a);
    c.addBulk('flags');
    c.addBulk(j.running ? 'running' : 'scheduled');
    c.addBulk('pid');
    addBulkNum(c, j.pid);
    c.addBulk(j.running ? 'run-time' : 'run-delay');
    addBulkNum(c, j.time);
    c.addBulk('retry-num');
    addBulkNum(c, j.retry);
  }
}

function monitor(c: Client, argv: string[]): void {
  const s = sentinelOf(c);
  const quorum = parseLongLong(argv[5]);
  if (quorum === null) {
    c.addError('ERR Invalid quorum');
    return;
  }
  const port = parseLongLong(argv[4]);
  if (port === null) {
    c.addError('ERR Invalid port');
    return;
  }
  if (quorum <= 0n) {
    c.addError('ERR Quorum must be 1 or greater.');
    return;
  }
  if (s.resolve(argv[3]) === null) {
    c.addError('ERR Invalid IP address or hostname specified');
    return;
  }
  const ri = s.createMaster(argv[2], argv[3], Number(port), Number(quorum));
  if (typeof ri === 'string') {
    c.addError(`ERR ${ri}`);
    return;
  }
  flushAndReply(c);
  s.event('warning', '+monitor', ri, `quorum ${ri.quorum}`);
}

function flushconfig(c: Client): void {
  flushAndReply(c);
}

function remove(c: Client, argv: string[]): void {
  const s = sentinelOf(c);
  const ri = masterOrError(c, argv[2]);
  if (!ri) return;
  s.event('warning', '-monitor', ri);
  s.releaseMaster(ri);
  s.masters.delete(argv[2]);
  flushAndReply(c);
}

function ckquorum(c: Client, argv: string[]): void {
  const s = sentinelOf(c);
  const ri = masterOrError(c, argv[2]);
  if (!ri) return;
  const [usable, noQuorum, noAuth] = s.quorumReachable(ri);
  if (!noQuorum && !noAuth) {
    c.addSimple(`OK ${usable} usable Sentinels. Quorum and failover authorization can be reached`);
    return;
  }
  let e = `NOQUORUM ${usable} usable Sentinels. `;
  if (noQuorum) e += 'Not enough available Sentinels to reach the specified quorum for this master';
  if (noAuth) {
    if (noQuorum) e += '. ';
    e += 'Not enough available Sentinels to reach the majority and authorize a failover';
  }
  c.addError(e);
}

const SCRIPT_DENIED = 'ERR Reconfiguration of scripts path is denied for security reasons. Check the deny-scripts-reconfig configuration directive in your Sentinel configuration';

/** SENTINEL SET <master> <option> <value> [...]: applied in order until an error. */
function set(c: Client, argv: string[]): void {
  const s = sentinelOf(c);
  const ri = masterOrError(c, argv[2]);
  if (!ri) return;
  let changes = 0;
  const fail = (msg: string): void => {
    if (changes) s.flushConfig();
    c.addError(msg);
  };
  for (let j = 3; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const option = argv[j];
    const opt = option.toLowerCase();
    const start = j;
    const positive = (allowZero: boolean): number | null => {
      const v = parseLongLong(argv[++j]);
      if (v === null || v < 0n || (!allowZero && v === 0n)) {
        fail(`ERR Invalid argument '${argv[j]}' for SENTINEL SET '${option}'`);
        return null;
      }
      return Number(v);
    };
    let redacted = false;
    if (opt === 'down-after-milliseconds' && more > 0) {
      const v = positive(false);
      if (v === null) return;
      s.setDownAfterPeriod(ri, v);
    } else if (opt === 'failover-timeout' && more > 0) {
      const v = positive(false);
      if (v === null) return;
      ri.failoverTimeout = v;
    } else if (opt === 'parallel-syncs' && more > 0) {
      const v = positive(false);
      if (v === null) return;
      ri.parallelSyncs = v;
    } else if ((opt === 'notification-script' || opt === 'client-reconfig-script') && more > 0) {
      const value = argv[++j];
      if (s.denyScriptsReconfig) return fail(SCRIPT_DENIED);
      if (value !== '' && !isExecutable(s.dir, value)) {
        return fail(opt === 'notification-script' ? 'ERR Notification script seems non existing or non executable' : 'ERR Client reconfiguration script seems non existing or non executable');
      }
      if (opt === 'notification-script') ri.notificationScript = value === '' ? null : value;
      else ri.clientReconfigScript = value === '' ? null : value;
    } else if (opt === 'auth-pass' && more > 0) {
      const value = argv[++j];
      ri.authPass = value === '' ? null : value;
      s.releaseMaster(ri);
      redacted = true;
    } else if (opt === 'auth-user' && more > 0) {
      const value = argv[++j];
      ri.authUser = value === '' ? null : value;
      s.releaseMaster(ri);
    } else if (opt === 'quorum' && more > 0) {
      const v = positive(false);
      if (v === null) return;
      ri.quorum = v;
    } else if (opt === 'rename-command' && more > 1) {
      const from = argv[++j];
      const to = argv[++j];
      if (from === '' || to === '') {
        return fail(`ERR Invalid argument '${to !== '' ? from : to}' for SENTINEL SET '${option}'`);
      }
      ri.renamedCommands.delete(from.toLowerCase());
      if (from.toLowerCase() !== to.toLowerCase()) ri.renamedCommands.set(from.toLowerCase(), to);
    } else if (opt === 'master-reboot-down-after-period' && more > 0) {
      const v = positive(true);
      if (v === null) return;
      ri.masterRebootDownAfterPeriod = v;
    } else {
      return fail(`ERR Unknown option or number of arguments for SENTINEL SET '${option}'`);
    }
    changes++;
    const values = argv.slice(start + 1, j + 1).map((v) => (redacted ? '******' : v));
    s.event('warning', '+set', ri, [argv[start], ...values].join(' '));
  }
  if (changes) flushAndReply(c);
  else c.addOK();
}

function config(c: Client, argv: string[]): void {
  const s = sentinelOf(c);
  const sub = argv[2].toLowerCase();
  if (sub === 'set' && argv.length === 5) {
    const [name, value] = [argv[3], argv[4]];
    const opt = name.toLowerCase();
    const badValue = (): void => c.addError(`ERR Invalid value '${value}' to SENTINEL CONFIG SET '${name}'`);
    let dropLinks = false;
    if (opt === 'resolve-hostnames' || opt === 'announce-hostnames') {
      const v = value.toLowerCase();
      if (v !== 'yes' && v !== 'no') return badValue();
      if (opt === 'resolve-hostnames') s.resolveHostnames = v === 'yes';
      else s.announceHostnames = v === 'yes';
    } else if (opt === 'announce-ip') {
      s.announceIp = value;
    } else if (opt === 'announce-port') {
      const v = parseLongLong(value);
      if (v === null || v < 0n || v > 65535n) return badValue();
      s.announcePort = Number(v);
    } else if (opt === 'sentinel-user' || opt === 'sentinel-pass') {
      if (opt === 'sentinel-user') s.sentinelAuthUser = value === '' ? null : value;
      else s.sentinelAuthPass = value === '' ? null : value;
      dropLinks = true;
    } else {
      c.addError(`ERR Invalid argument '${name}' to SENTINEL CONFIG SET`);
      return;
    }
    flushAndReply(c);
    if (dropLinks) for (const m of s.masters.values()) for (const si of m.sentinels.values()) si.dropLinks();
  } else if (sub === 'get' && argv.length === 4) {
    const pattern = argv[3];
    const all: Array<[string, string]> = [
      ['resolve-hostnames', s.resolveHostnames ? 'yes' : 'no'],
      ['announce-hostnames', s.announceHostnames ? 'yes' : 'no'],
      ['announce-ip', s.announceIp],
      ['announce-port', String(s.announcePort)],
      ['sentinel-user', s.sentinelAuthUser ?? ''],
      ['sentinel-pass', s.sentinelAuthPass ?? ''],
    ];
    const hits = all.filter(([k]) => globMatch(pattern, k, true));
    c.addMapLen(hits.length);
    for (const [k, v] of hits) {
      c.addBulk(k);
      c.addBulk(v);
    }
  } else {
    c.addError('ERR Only SENTINEL CONFIG GET <option> / SET <option> <value> are supported.');
  }
}

function infoCache(c: Client, argv: string[]): void {
  const s = sentinelOf(c);
  const now = s.now();
  let list = [...s.masters.values()];
  if (argv.length > 2) {
    const names = new Set(argv.slice(2));
    list = list.filter((m) => names.has(m.name));
  }
  const entry = (ri: Instance, refresh: number): void => {
    c.addArrayLen(2);
    c.addInt(refresh ? now - refresh : 0);
    if (ri.info !== null) c.addBulk(ri.info);
    else c.addNull();
  };
  c.addArrayLen(list.length * 2);
  for (const m of list) {
    c.addBulk(m.name);
    c.addArrayLen(m.slaves.size + 1);
    entry(m, m.infoRefresh);
    // Redis measures a replica's age only when the master has been refreshed.
    for (const r of m.slaves.values()) entry(r, m.infoRefresh ? r.infoRefresh : 0);
  }
}

function simulateFailure(c: Client, argv: string[]): void {
  const s = sentinelOf(c);
  s.simfailureFlags = 0;
  for (let j = 2; j < argv.length; j++) {
    const a = argv[j].toLowerCase();
    if (a === 'crash-after-election') {
      s.simfailureFlags |= SIMFAILURE_CRASH_AFTER_ELECTION;
      log(c.server, 'warning', 'Failure simulation: this Sentinel will crash after being successfully elected as failover leader');
    } else if (a === 'crash-after-promotion') {
      s.simfailureFlags |= SIMFAILURE_CRASH_AFTER_PROMOTION;
      log(c.server, 'warning', 'Failure simulation: this Sentinel will crash after promoting the selected replica to master');
    } else if (a === 'help') {
      c.addArrayLen(2);
      c.addBulk('crash-after-election');
      c.addBulk('crash-after-promotion');
      return;
    } else {
      c.addError('ERR Unknown failure simulation specified');
      return;
    }
  }
  c.addOK();
}

function debug(c: Client, argv: string[]): void {
  const s = sentinelOf(c);
  if (argv.length === 2) {
    // DEFAULT_TIMING lists them in Redis's order.
    const names = Object.keys(DEFAULT_TIMING) as TimingName[];
    c.addMapLen(names.length);
    for (const n of names) {
      c.addBulk(n.toUpperCase());
      addBulkNum(c, s.timing[n]);
    }
    return;
  }
  // Pairs of <param> <value>, all checked before any is applied.
  const updates: Array<[TimingName, number]> = [];
  for (let j = 2; j < argv.length; j++) {
    const name = argv[j].toLowerCase() as TimingName;
    if (!(name in DEFAULT_TIMING) || j + 1 >= argv.length) {
      c.addError(`ERR Unknown option or number of arguments for SENTINEL DEBUG '${argv[j]}'`);
      return;
    }
    const v = parseLongLong(argv[++j]);
    if (v === null || v <= 0n) {
      c.addError(`ERR Invalid argument '${argv[j]}' for SENTINEL DEBUG '${argv[j - 1]}'`);
      return;
    }
    updates.push([name, Number(v)]);
  }
  for (const [n, v] of updates) s.timing[n] = v;
  c.addOK();
}

/** A Sentinel's PUBLISH: only hello messages, which it processes as if heard from an instance. */
function publish(c: Client, argv: string[]): void {
  if (argv[1] !== HELLO_CHANNEL) {
    c.addError('ERR Only HELLO messages are accepted by Sentinel instances.');
    return;
  }
  sentinelOf(c).processHello(argv[2]);
  c.addInt(1);
}

/** ROLE: "sentinel" and the names of the masters watched. */
function role(c: Client): void {
  const names = [...sentinelOf(c).masters.keys()];
  c.addArrayLen(2);
  c.addBulk('sentinel');
  c.addArrayLen(names.length);
  for (const n of names) c.addBulk(n);
}

export const commands: CommandImpl[] = [
  { name: 'sentinel', summary: 'Sentinel: monitoring, failover and configuration of the masters it watches.' },
  { name: 'sentinel|ckquorum', summary: 'Checks that enough Sentinels are reachable to fail a master over.', handler: ckquorum },
  { name: 'sentinel|config', summary: 'Gets or sets a global Sentinel parameter.', handler: config },
  { name: 'sentinel|debug', summary: "Lists or changes the Sentinel's timing parameters.", handler: debug },
  { name: 'sentinel|failover', summary: 'Fails a master over now, without asking the other Sentinels.', handler: failover },
  { name: 'sentinel|flushconfig', summary: "Writes the Sentinel's state to its config file.", handler: flushconfig },
  { name: 'sentinel|get-master-addr-by-name', summary: 'Returns the current address of a master by name.', handler: getMasterAddrByName },
  { name: 'sentinel|help', summary: 'Shows the SENTINEL subcommands.', handler: help },
  { name: 'sentinel|info-cache', summary: 'Returns the last INFO seen from masters and their replicas.', handler: infoCache },
  { name: 'sentinel|is-master-down-by-addr', summary: 'Tells another Sentinel whether a master looks down, and votes for a leader.', handler: isMasterDownByAddr },
  { name: 'sentinel|master', summary: 'Reports the state of one master.', handler: master },
  { name: 'sentinel|masters', summary: 'Reports the state of every master watched.', handler: masters },
  { name: 'sentinel|monitor', summary: 'Starts watching a master.', handler: monitor },
  { name: 'sentinel|myid', summary: "Returns this Sentinel's id.", handler: myid },
  { name: 'sentinel|pending-scripts', summary: 'Lists the notification and reconfiguration scripts waiting or running.', handler: pendingScripts },
  { name: 'sentinel|remove', summary: 'Stops watching a master.', handler: remove },
  { name: 'sentinel|replicas', summary: 'Reports the replicas of a master.', handler: replicas },
  { name: 'sentinel|reset', summary: 'Forgets the replicas and Sentinels of the masters matching a pattern.', handler: reset },
  { name: 'sentinel|sentinels', summary: 'Reports the other Sentinels watching a master.', handler: sentinels },
  { name: 'sentinel|set', summary: "Changes a master's monitoring parameters.", handler: set },
  { name: 'sentinel|simulate-failure', summary: 'Makes this Sentinel crash at a chosen point of a failover (for tests).', handler: simulateFailure },
  { name: 'sentinel|slaves', summary: 'Reports the replicas of a master (old name of REPLICAS).', handler: replicas },
  { name: 'publish', summary: 'Accepts Sentinel hello messages from other Sentinels.', handler: publish },
  { name: 'role', summary: 'Reports the role (sentinel) and the masters watched.', handler: role },
];
