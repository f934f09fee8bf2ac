/**
 * MODULE: Mnemo cannot load Redis modules (they are native shared objects
 * written against Redis's C API), so it behaves as a Redis 7.0 with no module
 * loaded and every load failing:
 *
 * - MODULE LIST is an empty array; MODULE HELP is Redis's help text.
 * - MODULE LOAD, LOADEX and UNLOAD obey `enable-module-command` (no, the
 *   default / yes / local = from a loopback peer, as Redis's islocalClient)
 *   with Redis's refusal text; when allowed, LOAD and LOADEX fail as a
 *   missing library does in Redis ("Error loading the extension", the reason
 *   in the log) and UNLOAD finds no module of that name.
 *
 * Deviation: Redis refuses a protected command before running it (so it also
 * precedes NOAUTH, and inside MULTI it fails the transaction at queue time);
 * the dispatcher has no such hook, so the refusal comes from the handler, like
 * DEBUG's.
 */
import type { CommandImpl } from '../server/command-table.js';
import type { Client } from '../server/client.js';
import { log } from '../persistence/log.js';
import { replyHelp } from './client.js';
import { isLocalClient } from './server.js';

const ERR_NOT_ALLOWED =
  'ERR MODULE command not allowed. If the enable-module-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.';

const HELP_LINES = [
  'LIST',
  '    Return a list of loaded modules.',
  'LOAD <path> [<arg> ...]',
  '    Load a module library from <path>, passing to it any optional arguments.',
  'LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]',
  '    Load a module library from <path>, while passing it module configurations and optional arguments.',
  'UNLOAD <name>',
  '    Unload a module.',
];

/** Redis's allowProtectedAction for enable-module-command. */
function moduleCommandAllowed(c: Client): boolean {
  const mode = c.server.config.get('enable-module-command') ?? 'no';
  return mode === 'yes' || (mode === 'local' && isLocalClient(c));
}

function moduleList(c: Client): void {
  c.addEmptyArray();
}

function moduleLoad(c: Client, argv: string[]): void {
  if (!moduleCommandAllowed(c)) {
    c.addError(ERR_NOT_ALLOWED);
    return;
  }
  log(c.server, 'warning', `Module ${argv[2]} failed to load: Mnemo cannot load native Redis modules`);
  c.addError('ERR Error loading the extension. Please check the server logs.');
}

function moduleUnload(c: Client): void {
  if (!moduleCommandAllowed(c)) {
    c.addError(ERR_NOT_ALLOWED);
    return;
  }
  c.addError('ERR Error unloading module: no such module with that name');
}

export const commands: CommandImpl[] = [
  { name: 'module', summary: 'Redis module management; Mnemo loads no modules.' },
  { name: 'module|help', summary: 'Lists the MODULE subcommands.', handler: (c) => replyHelp(c, 'MODULE', HELP_LINES) },
  { name: 'module|list', summary: 'Lists loaded modules: always none.', handler: moduleList },
  { name: 'module|load', summary: 'Refused unless enable-module-command allows it, then fails: native modules cannot load.', handler: moduleLoad },
  { name: 'module|loadex', summary: 'As MODULE LOAD, with module configs and arguments: refused or fails.', handler: moduleLoad },
  { name: 'module|unload', summary: 'Refused unless enable-module-command allows it, then finds no such module.', handler: moduleUnload },
];
