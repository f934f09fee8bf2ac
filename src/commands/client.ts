/** CLIENT subcommands. */
import type { CommandImpl } from '../server/command-table.js';
import type { Client } from '../server/client.js';

/** Client names may not contain spaces, newlines or other chars outside '!'..'~'. */
export function isValidClientName(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const ch = name.charCodeAt(i);
    if (ch < 33 || ch > 126) return false;
  }
  return true;
}

function clientId(c: Client): void {
  c.addInt(c.id);
}

function clientSetname(c: Client, argv: string[]): void {
  if (!isValidClientName(argv[2])) {
    c.addError('ERR Client names cannot contain spaces, newlines or special characters.');
    return;
  }
  c.name = argv[2];
  c.addOK();
}

function clientGetname(c: Client): void {
  if (c.name === '') c.addNull();
  else c.addBulk(c.name);
}

export const commands: CommandImpl[] = [
  { name: 'client', summary: 'Inspects and controls client connections.' },
  { name: 'client|id', summary: 'Returns the unique id of this connection.', handler: clientId },
  { name: 'client|setname', summary: 'Names this connection.', handler: clientSetname },
  { name: 'client|getname', summary: 'Returns the name of this connection.', handler: clientGetname },
];
