/**
 * The dispatcher's cluster check (Server.execute calls it when cluster-enabled
 * is yes): which node serves a command, from the hash slot of its keys.
 * Answers null (run it here) or the error to reply: CROSSSLOT, MOVED, ASK,
 * TRYAGAIN, CLUSTERDOWN, and the cluster-mode refusals of SELECT and REPLICAOF.
 */
import type { Client } from '../server/client.js';
import { CMD_ASKING, CMD_MOVABLE_KEYS, CMD_WRITE, type Command } from '../server/command-table.js';
import { getKeys, factsHaveKeys } from '../commands/command.js';
import { effectiveCommandFlags } from '../server/pause.js';
import { keyHashSlot } from './slot.js';
import { preferredEndpoint, type ClusterState, type ClusterNode } from './state.js';

export const ERR_CROSSSLOT = "CROSSSLOT Keys in request don't hash to the same slot";
export const ERR_UNBOUND = 'CLUSTERDOWN Hash slot not served';
export const ERR_DOWN = 'CLUSTERDOWN The cluster is down';
export const ERR_DOWN_RO = 'CLUSTERDOWN The cluster is down and only accepts read commands';
export const ERR_TRYAGAIN = 'TRYAGAIN Multiple keys request during rehashing of slot';

/** Per-connection cluster flags (READONLY, ASKING). */
export interface ClientFlags {
  readonly: WeakSet<Client>;
  asking: WeakSet<Client>;
}

export interface RoutingHost {
  readonly state: ClusterState;
  readonly flags: ClientFlags;
  allowReadsWhenDown(): boolean;
  allowPubsubshardWhenDown(): boolean;
  /** cluster-preferred-endpoint-type (ENDPOINT_*). */
  endpointType(): number;
}

const hasKeysCache = new WeakMap<Command, boolean>();
const ROUTE_KEYS = { includeNotKeys: true };
/** Commands whose "keys" are shard channels: no key existence checks during a migration. */
const SHARD_PUBSUB = new Set(['spublish', 'ssubscribe', 'sunsubscribe']);

function commandHasKeys(cmd: Command): boolean {
  let v = hasKeysCache.get(cmd);
  if (v === undefined) {
    // Key specs flagged not_key (shard channels) are routed like keys, as Redis's getNodeByQuery.
    v = (cmd.flags & CMD_MOVABLE_KEYS) !== 0 || factsHaveKeys(cmd.facts) || cmd.facts.keySpecs.length > 0;
    hasKeysCache.set(cmd, v);
  }
  return v;
}

function addr(host: RoutingHost, n: ClusterNode): string {
  return `${preferredEndpoint(n, host.endpointType())}:${n.port}`;
}

/** Hash slot of a command's first key, or -1 when it has no keys. */
export function commandSlot(cmd: Command, argv: string[]): number {
  if (!commandHasKeys(cmd)) return -1;
  for (const k of getKeys(cmd, argv, ROUTE_KEYS)) {
    const key = argv[k.pos];
    if (key !== undefined) return keyHashSlot(key);
  }
  return -1;
}

export function routingRefusal(host: RoutingHost, c: Client, cmd: Command, argv: string[]): string | null {
  const name = cmd.fullName;
  if (name === 'select') {
    const id = argv[1];
    if (/^-?\d+$/.test(id) && Number(id) !== 0) return 'ERR SELECT is not allowed in cluster mode';
    return null;
  }
  if (name === 'replicaof' || name === 'slaveof') return 'ERR REPLICAOF not allowed in cluster mode.';
  // Our master's stream and the AOF loader (socketless clients) are never redirected.
  if (c.isMaster || c.socket === null) return null;
  let calls: Array<{ cmd: Command; argv: string[] }>;
  if (name === 'exec') {
    if (c.multi === null) return null;
    calls = c.multi.queue;
  } else {
    if (!commandHasKeys(cmd)) return null;
    calls = [{ cmd, argv }];
  }
  const st = host.state;
  const me = st.myself;
  let slot = -1;
  let owner: ClusterNode | null = null;
  let firstKey = '';
  let multipleKeys = false;
  let migrating = false;
  let importing = false;
  let missing = 0;
  let existing = 0;
  let write = false;
  let asking = false;
  let pubsubShard = false;
  for (const call of calls) {
    if (!commandHasKeys(call.cmd)) continue;
    // A script's declared flags count (a shebang script without no-writes is a write, as Redis's getCommandFlags).
    if ((effectiveCommandFlags(c, call.cmd, call.argv) & CMD_WRITE) !== 0) write = true;
    if ((call.cmd.flags & CMD_ASKING) !== 0) asking = true;
    const shardChannels = SHARD_PUBSUB.has(call.cmd.fullName);
    if (shardChannels) pubsubShard = true;
    for (const k of getKeys(call.cmd, call.argv, ROUTE_KEYS)) {
      const key = call.argv[k.pos];
      if (key === undefined) continue;
      const s = keyHashSlot(key);
      if (slot === -1) {
        slot = s;
        firstKey = key;
        owner = st.slots[s];
        if (owner === null) return ERR_UNBOUND;
        migrating = owner === me && st.migrating.has(s);
        importing = st.importing.has(s);
      } else if (s !== slot) {
        return ERR_CROSSSLOT;
      } else if (key !== firstKey) {
        multipleKeys = true;
      }
      if ((migrating || importing) && !shardChannels) {
        // A key past its TTL counts as missing (not deleted here, as Redis's LOOKUP_NOEXPIRE).
        if (!c.db.existsUnexpired(key)) missing++;
        else existing++;
      }
    }
  }
  if (slot === -1 || owner === null) return null;
  if (!st.ok) {
    if (pubsubShard) {
      if (!host.allowPubsubshardWhenDown()) return ERR_DOWN;
    } else {
      if (!host.allowReadsWhenDown()) return ERR_DOWN;
      if (write) return ERR_DOWN_RO;
    }
  }
  if (migrating && missing > 0) {
    if (existing > 0) return ERR_TRYAGAIN;
    const to = st.migrating.get(slot)!;
    return `ASK ${slot} ${addr(host, to)}`;
  }
  if (importing && (host.flags.asking.has(c) || asking)) {
    if (multipleKeys && missing > 0) return ERR_TRYAGAIN;
    return null;
  }
  if (owner === me) return null;
  if (!write && !me.master && me.masterId === owner.id && (pubsubShard || host.flags.readonly.has(c))) return null;
  return `MOVED ${slot} ${addr(host, owner)}`;
}

/**
 * A blocked client whose keys stopped being served here (the slot moved, the
 * cluster went down) is answered the redirect and unblocked, as Redis checks
 * in its clients cron: its keys will never be pushed on this node. Null while
 * it may keep waiting (the slot is still ours, or being imported here).
 */
export function blockedRedirect(host: RoutingHost, c: Client, keys: readonly string[], cmd: Command): string | null {
  const st = host.state;
  if (keys.length === 0) return null;
  if (!st.ok) return ERR_DOWN;
  const me = st.myself;
  for (const key of keys) {
    const slot = keyHashSlot(key);
    let owner = st.slots[slot];
    if (owner !== null && host.flags.readonly.has(c) && (cmd.flags & CMD_WRITE) === 0 && !me.master && me.masterId === owner.id) owner = me;
    if (owner !== me && !st.importing.has(slot)) return owner === null ? ERR_UNBOUND : `MOVED ${slot} ${addr(host, owner)}`;
  }
  return null;
}
