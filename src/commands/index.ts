/**
 * Builds the command table: Redis's interface facts (generated JSON) joined
 * with each group file's handlers and summaries. A command without facts is a
 * programming error and fails at start-up, so the table cannot drift.
 */
import { Command, CommandTable, type CommandImpl } from '../server/command-table.js';
import { loadCommandFacts, type CommandFacts } from './facts/encode.js';
import { commands as connection } from './connection.js';
import { commands as client } from './client.js';
import { commands as command } from './command.js';
import { commands as server } from './server.js';
import { commands as keys } from './keys.js';
import { commands as sort } from './sort.js';
import { commands as strings } from './strings.js';
import { commands as bitmaps } from './bitmaps.js';
import { commands as hashes } from './hashes.js';
import { commands as lists } from './lists.js';
import { commands as sets } from './sets.js';
import { commands as zsets } from './zsets.js';
import { commands as hyperloglog } from './hyperloglog.js';
import { commands as geo } from './geo.js';
import { commands as pubsub } from './pubsub.js';
import { commands as transactions } from './transactions.js';
import { commands as streams } from './streams.js';
import { commands as aof } from './aof.js';
import { commands as scripting } from './scripting.js';
import { commands as functions } from './functions.js';
import { commands as persistence } from './persistence.js';
import { commands as observability } from './observability.js';
import { commands as replication } from './replication.js';
import { commands as failover } from './failover.js';
import { commands as lolwut } from './lolwut.js';
import { commands as modules } from './modules.js';
import { commands as cluster } from './cluster.js';
import { commands as acl } from './acl.js';
import { commands as migrate } from './migrate.js';

/** Every implemented command group, in docs order. */
export const GROUPS: ReadonlyArray<readonly CommandImpl[]> = [
  connection,
  client,
  command,
  server,
  lolwut,
  modules,
  replication,
  failover,
  keys,
  migrate,
  sort,
  strings,
  bitmaps,
  hashes,
  lists,
  sets,
  zsets,
  pubsub,
  transactions,
  hyperloglog,
  geo,
  streams,
  aof,
  scripting,
  functions,
  persistence,
  observability,
  cluster,
  acl,
];

/**
 * The server's command table; with `sentinel`, Sentinel mode's: only the commands
 * a Sentinel answers (its own facts file), SENTINEL's handlers from src/sentinel/,
 * the shared ones (PING, INFO, CLIENT, ACL, ...) from the group files, with the
 * sentinel group's handlers taking precedence where a Sentinel answers differently.
 */
export function buildCommandTable(sentinel: readonly CommandImpl[] | null = null): CommandTable {
  const facts = loadCommandFacts(sentinel ? 'sentinel' : 'redis');
  const table = new CommandTable();
  const pending: CommandImpl[] = [];
  const groups = sentinel ? [sentinel, ...GROUPS] : GROUPS;
  const seen = new Set<string>();
  for (const group of groups) {
    for (const impl of group) {
      if (sentinel) {
        // Not in a Sentinel's table, or overridden by the sentinel group.
        if (!facts.has(impl.name.split('|')[0]) || seen.has(impl.name)) continue;
        seen.add(impl.name);
      }
      if (impl.name.includes('|')) {
        pending.push(impl);
        continue;
      }
      const f = facts.get(impl.name);
      if (!f) throw new Error(`command '${impl.name}' has no Redis facts`);
      table.add(new Command(impl.name, f, impl.summary, impl.handler ?? null, null));
    }
  }
  for (const impl of pending) {
    const [parentName] = impl.name.split('|');
    const parent = table.commands.get(parentName);
    if (!parent) throw new Error(`subcommand '${impl.name}' declared before its container`);
    const f = subcommandFacts(facts.get(parentName)!, impl.name);
    if (!f && sentinel) continue;
    if (!f) throw new Error(`subcommand '${impl.name}' has no Redis facts`);
    parent.subcommands ??= new Map();
    parent.subcommands.set(impl.name.slice(parentName.length + 1), new Command(impl.name, f, impl.summary, impl.handler ?? null, parent));
  }
  return table;
}

function subcommandFacts(parent: CommandFacts, fullName: string): CommandFacts | undefined {
  return parent.subcommands.find((s) => s.name === fullName);
}
