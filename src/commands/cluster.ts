/**
 * The cluster command group as a standalone Redis 7.0 (cluster-enabled no)
 * answers it: CLUSTER and every one of its subcommands, READONLY, READWRITE
 * and ASKING reply "ERR This instance has cluster support disabled" once the
 * command table's arity checks passed. An unknown CLUSTER subcommand gets the
 * dispatcher's generic "unknown subcommand ... Try CLUSTER HELP." error, as
 * in Redis.
 *
 * RESTORE-ASKING is RESTORE under another name: the ASKING flag it carries
 * only matters to a cluster node importing a slot, so standalone it behaves
 * exactly like RESTORE (same handler, same checks and replies).
 */
import type { CommandImpl, Handler } from '../server/command-table.js';
import type { Client } from '../server/client.js';
import { commands as persistence } from './persistence.js';

const ERR_CLUSTER_DISABLED = 'ERR This instance has cluster support disabled';

function clusterDisabled(c: Client): void {
  c.addError(ERR_CLUSTER_DISABLED);
}

/** CLUSTER's subcommands (all of Redis 7.0's) and what each does on a cluster node. */
const SUBCOMMANDS: ReadonlyArray<readonly [name: string, does: string]> = [
  ['addslots', 'Assigns hash slots to this node.'],
  ['addslotsrange', 'Assigns ranges of hash slots to this node.'],
  ['bumpepoch', 'Advances the cluster config epoch.'],
  ['count-failure-reports', 'Counts the failure reports about a node.'],
  ['countkeysinslot', 'Counts the keys in a hash slot.'],
  ['delslots', 'Unassigns hash slots from this node.'],
  ['delslotsrange', 'Unassigns ranges of hash slots from this node.'],
  ['failover', 'Makes a replica take over from its master.'],
  ['flushslots', 'Unassigns all hash slots from this node.'],
  ['forget', 'Removes a node from the node table.'],
  ['getkeysinslot', 'Lists keys in a hash slot.'],
  ['help', 'Lists the CLUSTER subcommands.'],
  ['info', 'Reports the cluster state.'],
  ['keyslot', 'Returns the hash slot of a key.'],
  ['links', 'Lists the cluster bus links.'],
  ['meet', 'Connects this node to another cluster node.'],
  ['myid', "Returns this node's ID."],
  ['nodes', "Returns this node's view of the cluster."],
  ['replicas', 'Lists the replicas of a master node.'],
  ['replicate', 'Makes this node a replica of a master node.'],
  ['reset', 'Resets the cluster state of this node.'],
  ['saveconfig', 'Saves the cluster configuration file.'],
  ['set-config-epoch', 'Sets the config epoch of a new node.'],
  ['setslot', 'Binds a hash slot to a node or marks it migrating/importing.'],
  ['shards', 'Describes the shards of the cluster.'],
  ['slaves', 'Lists the replicas of a master node (old name of REPLICAS).'],
  ['slots', 'Maps hash slot ranges to nodes.'],
];

const STANDALONE = ' Standalone: replies that cluster support is disabled.';

const restore: Handler = (() => {
  const impl = persistence.find((cmd) => cmd.name === 'restore');
  if (impl?.handler === undefined) throw new Error('RESTORE has no handler');
  return impl.handler;
})();

export const commands: CommandImpl[] = [
  { name: 'cluster', summary: 'Cluster node management (a container).' + STANDALONE },
  ...SUBCOMMANDS.map(([name, does]) => ({ name: `cluster|${name}`, summary: does + STANDALONE, handler: clusterDisabled })),
  { name: 'readonly', summary: 'Lets a cluster connection read from replicas.' + STANDALONE, handler: clusterDisabled },
  { name: 'readwrite', summary: 'Ends READONLY mode on a cluster connection.' + STANDALONE, handler: clusterDisabled },
  { name: 'asking', summary: 'Allows the next command on a slot being imported.' + STANDALONE, handler: clusterDisabled },
  {
    name: 'restore-asking',
    summary: 'RESTORE for slot migration between cluster nodes; standalone it is exactly RESTORE.',
    handler: restore,
  },
];
