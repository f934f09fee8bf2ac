/**
 * The CLUSTER NODES line format, and the cluster-config-file (nodes.conf),
 * which holds the same lines plus a `vars` line, as Redis writes it:
 *   <id> <ip>:<port>@<cport> <flags> <master|-> <ping-sent> <pong-recv> <config-epoch> <link-state> <slot ranges...>
 *   vars currentEpoch <n> lastVoteEpoch <n>
 */
import { readFileSync, writeFileSync, renameSync, existsSync } from 'node:fs';
import { ClusterNode, ClusterState } from './state.js';

/** One node's line, without the trailing newline. */
export function nodeLine(state: ClusterState, n: ClusterNode): string {
  // A replica shows its master's config epoch, as Redis.
  const epoch = n.master ? n.configEpoch : state.masterOf(n)?.configEpoch ?? n.configEpoch;
  const host = n.hostname !== '' ? `,${n.hostname}` : '';
  let line = `${n.id} ${n.ip}:${n.port}@${n.cport}${host} ${n.flagsText} ${n.masterId ?? '-'} ${n.pingSent} ${n.pongRecv} ${epoch} ${
    n.myself || n.connected ? 'connected' : 'disconnected'
  }`;
  if (n.master) for (const [a, b] of state.rangesOf(n)) line += a === b ? ` ${a}` : ` ${a}-${b}`;
  if (n.myself) {
    for (const [s, to] of state.migrating) line += ` [${s}->-${to.id}]`;
    for (const [s, from] of state.importing) line += ` [${s}-<-${from.id}]`;
  }
  return line;
}

/** CLUSTER NODES: every node's line, each ending in a newline. */
export function nodesText(state: ClusterState): string {
  let out = '';
  for (const n of state.nodes.values()) out += nodeLine(state, n) + '\n';
  return out;
}

export function saveNodesConf(state: ClusterState, path: string): void {
  const text = nodesText(state) + `vars currentEpoch ${state.currentEpoch} lastVoteEpoch ${state.lastVoteEpoch}\n`;
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/**
 * Loads nodes.conf into a new state (null when the file does not exist or is
 * empty). Throws on a malformed file, as Redis refuses to start with one.
 */
export function loadNodesConf(path: string): ClusterState | null {
  if (!existsSync(path)) return null;
  const text = readFileSync(path, 'latin1');
  if (text.trim() === '') return null;
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  let state: ClusterState | null = null;
  const pending: Array<{ n: ClusterNode; slots: string[] }> = [];
  let currentEpoch = 0;
  let lastVote = 0;
  for (const line of lines) {
    const f = line.trim().split(/\s+/);
    if (f[0] === 'vars') {
      for (let i = 1; i + 1 < f.length; i += 2) {
        if (f[i] === 'currentEpoch') currentEpoch = Number(f[i + 1]);
        else if (f[i] === 'lastVoteEpoch') lastVote = Number(f[i + 1]);
      }
      continue;
    }
    if (f.length < 8 || !/^[0-9a-f]{40}$/.test(f[0])) throw new Error(`Unrecoverable error: corrupted cluster config file "${line}".`);
    // ip:port@cport[,hostname]
    const m = /^([^,]*):(\d+)@(\d+)(?:,(.*))?$/.exec(f[1]);
    if (m === null) throw new Error(`Unrecoverable error: corrupted cluster config file "${line}".`);
    const flags = f[2].split(',');
    const n = new ClusterNode(f[0], m[1], Number(m[2]), Number(m[3]));
    n.master = !flags.includes('slave');
    n.masterId = f[3] === '-' ? null : f[3];
    n.configEpoch = Number(f[6]);
    n.nofailover = flags.includes('nofailover');
    n.hostname = m[4] ?? '';
    if (flags.includes('myself')) {
      state = new ClusterState(n.id);
      const me = state.myself;
      me.ip = n.ip;
      me.port = n.port;
      me.cport = n.cport;
      me.master = n.master;
      me.masterId = n.masterId;
      me.configEpoch = n.configEpoch;
      pending.push({ n: me, slots: f.slice(8) });
    } else {
      pending.push({ n, slots: f.slice(8) });
    }
  }
  if (state === null) throw new Error('Unrecoverable error: no myself line in the cluster config file.');
  for (const { n, slots } of pending) {
    if (!n.myself) state.addNode(n);
  }
  for (const { n, slots } of pending) {
    for (const s of slots) {
      if (s.startsWith('[')) continue; // migrating/importing marks are not restored
      const [a, b] = s.split('-').map(Number);
      for (let k = a; k <= (b ?? a); k++) state.setOwner(k, n);
    }
  }
  state.currentEpoch = currentEpoch;
  state.lastVoteEpoch = lastVote;
  return state;
}
