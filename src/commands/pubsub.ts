/**
 * Pub/Sub commands: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH and
 * PUBSUB CHANNELS / NUMSUB / NUMPAT / SHARDCHANNELS / SHARDNUMSUB / HELP.
 * The registry and delivery live in server/pubsub.ts.
 *
 * Confirmations are push frames (`>3` in RESP3, `*3` in RESP2) with the
 * subscription count after the change. SUBSCRIBE/PSUBSCRIBE count channels +
 * patterns; SSUBSCRIBE counts shard channels only, as Redis 7.0.
 */
import { PROPAGATE_REPL } from '../server/propagate.js';
import type { CommandImpl } from '../server/command-table.js';
import type { Client } from '../server/client.js';
import { existingPubSub, pubsubOf, type Kind, type PubSub } from '../server/pubsub.js';
import { globMatch } from '../util/glob.js';
import { clientIntrospection, replyHelp, subcommandSyntaxError } from './client.js';

// CLIENT LIST sub=/psub=/ssub=, the P flag and CLIENT KILL TYPE pubsub read these counts.
clientIntrospection.subscriptions = (c) => {
  const s = existingPubSub(c.server)?.of(c);
  return s === undefined ? [0, 0, 0] : [s.channels.size, s.patterns.size, s.shardChannels.size];
};

/** Reply words and counters of each kind of subscription. */
const KINDS: Record<Kind, { subscribe: string; unsubscribe: string; count: (ps: PubSub, c: Client) => number }> = {
  channel: { subscribe: 'subscribe', unsubscribe: 'unsubscribe', count: (ps, c) => ps.count(c) },
  pattern: { subscribe: 'psubscribe', unsubscribe: 'punsubscribe', count: (ps, c) => ps.count(c) },
  shard: { subscribe: 'ssubscribe', unsubscribe: 'sunsubscribe', count: (ps, c) => ps.shardCount(c) },
};

/** One confirmation frame: [word, name or null, count]. */
function confirm(c: Client, word: string, name: string | null, count: number): void {
  c.addPushLen(3);
  c.addBulk(word);
  if (name === null) c.addNull();
  else c.addBulk(name);
  c.addInt(count);
}

function subscribeGeneric(kind: Kind) {
  const k = KINDS[kind];
  return (c: Client, argv: string[]): void => {
    const ps = pubsubOf(c.server);
    ps.writePush(c, () => {
      for (let j = 1; j < argv.length; j++) {
        ps.subscribe(c, kind, argv[j]);
        confirm(c, k.subscribe, argv[j], k.count(ps, c));
      }
    });
  };
}

function unsubscribeGeneric(kind: Kind) {
  const k = KINDS[kind];
  return (c: Client, argv: string[]): void => {
    const ps = pubsubOf(c.server);
    ps.writePush(c, () => unsubscribeNow(ps, c, argv));
  };

  function unsubscribeNow(ps: PubSub, c: Client, argv: string[]): void {
    if (argv.length > 1) {
      // Each name gets a confirmation, subscribed or not.
      for (let j = 1; j < argv.length; j++) {
        ps.unsubscribe(c, kind, argv[j]);
        confirm(c, k.unsubscribe, argv[j], k.count(ps, c));
      }
      return;
    }
    const all = ps.list(c, kind);
    if (all.length === 0) {
      // Subscribed to nothing of this kind: still one frame, with a null name.
      confirm(c, k.unsubscribe, null, k.count(ps, c));
      return;
    }
    for (const name of all) {
      ps.unsubscribe(c, kind, name);
      confirm(c, k.unsubscribe, name, k.count(ps, c));
    }
  }
}

/**
 * PUBLISH goes to the replicas (not the AOF), so their own subscribers get the
 * message too, as Redis's forceCommandPropagation(PROPAGATE_REPL); SPUBLISH
 * likewise. In cluster mode both go over the cluster bus instead: PUBLISH to
 * every node, SPUBLISH to the nodes of this shard (the reply counts local
 * receivers only, as Redis).
 */
function publish(c: Client, argv: string[]): void {
  c.addInt(pubsubOf(c.server).publish(argv[1], argv[2]));
  const cl = c.server.cluster;
  if (cl !== null) cl.bus.propagatePublish(false, argv[1], argv[2]);
  else c.server.propagate(c.db.id, argv, PROPAGATE_REPL);
}

function spublish(c: Client, argv: string[]): void {
  c.addInt(pubsubOf(c.server).spublish(argv[1], argv[2]));
  const cl = c.server.cluster;
  if (cl !== null) cl.bus.propagatePublish(true, argv[1], argv[2]);
  else c.server.propagate(c.db.id, argv, PROPAGATE_REPL);
}

/** PUBSUB CHANNELS / SHARDCHANNELS [pattern]: names with at least one subscriber. */
function channelList(kind: Kind) {
  return (c: Client, argv: string[]): void => {
    if (argv.length > 3) {
      subcommandSyntaxError(c, argv);
      return;
    }
    const pattern = argv.length === 3 ? argv[2] : null;
    const names: string[] = [];
    for (const name of pubsubOf(c.server).registry(kind).keys()) {
      if (pattern === null || globMatch(pattern, name)) names.push(name);
    }
    c.addArrayLen(names.length);
    for (const n of names) c.addBulk(n);
  };
}

/** PUBSUB NUMSUB / SHARDNUMSUB [name ...]: a flat array of name, subscriber count. */
function numsub(kind: Kind) {
  return (c: Client, argv: string[]): void => {
    const registry = pubsubOf(c.server).registry(kind);
    c.addArrayLen((argv.length - 2) * 2);
    for (let j = 2; j < argv.length; j++) {
      c.addBulk(argv[j]);
      c.addInt(registry.get(argv[j])?.size ?? 0);
    }
  };
}

function numpat(c: Client): void {
  c.addInt(pubsubOf(c.server).patterns.size);
}

function pubsubHelp(c: Client): void {
  replyHelp(c, 'PUBSUB', [
    'CHANNELS [<pattern>]',
    "    Return the currently active channels matching a <pattern> (default: '*').",
    'NUMPAT',
    '    Return number of subscriptions to patterns.',
    'NUMSUB [<channel> ...]',
    '    Return the number of subscribers for the specified channels, excluding',
    '    pattern subscriptions(default: no channels).',
    'SHARDCHANNELS [<pattern>]',
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    'SHARDNUMSUB [<shardchannel> ...]',
    '    Return the number of subscribers for the specified shard level channel(s)',
  ]);
}

export const commands: CommandImpl[] = [
  { name: 'subscribe', summary: 'Listens for messages published to the given channels.', handler: subscribeGeneric('channel') },
  { name: 'unsubscribe', summary: 'Stops listening on the given channels, or on all of them.', handler: unsubscribeGeneric('channel') },
  { name: 'psubscribe', summary: 'Listens for messages on every channel matching the given glob patterns.', handler: subscribeGeneric('pattern') },
  { name: 'punsubscribe', summary: 'Stops listening on the given patterns, or on all of them.', handler: unsubscribeGeneric('pattern') },
  { name: 'ssubscribe', summary: 'Listens for messages published to the given shard channels.', handler: subscribeGeneric('shard') },
  { name: 'sunsubscribe', summary: 'Stops listening on the given shard channels, or on all of them.', handler: unsubscribeGeneric('shard') },
  { name: 'publish', summary: 'Sends a message to a channel; replies how many subscriptions received it.', handler: publish },
  { name: 'spublish', summary: 'Sends a message to a shard channel; replies how many subscribers received it.', handler: spublish },
  { name: 'pubsub', summary: 'Inspects the pub/sub state: active channels and subscriber counts.' },
  { name: 'pubsub|channels', summary: 'Lists channels that have subscribers, optionally filtered by a pattern.', handler: channelList('channel') },
  { name: 'pubsub|numsub', summary: 'Counts the direct subscribers of each given channel.', handler: numsub('channel') },
  { name: 'pubsub|numpat', summary: 'Counts the distinct patterns with subscribers.', handler: numpat },
  { name: 'pubsub|shardchannels', summary: 'Lists shard channels that have subscribers, optionally filtered by a pattern.', handler: channelList('shard') },
  { name: 'pubsub|shardnumsub', summary: 'Counts the subscribers of each given shard channel.', handler: numsub('shard') },
  { name: 'pubsub|help', summary: 'Describes the PUBSUB subcommands.', handler: pubsubHelp },
];
