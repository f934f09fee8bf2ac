/**
 * Builds the session's help table on first use (cliInitHelp): from the server's
 * COMMAND DOCS when a connection can be made, else from the built-in command table.
 */
import { HelpTable, genericHelp } from './help.js';
import { writeOut } from './output.js';
import type { Session } from './session.js';

export async function ensureHelp(session: Session): Promise<HelpTable> {
  if (session.help) return session.help;
  let table: HelpTable | null = null;
  if (await session.connect(false, true)) {
    try {
      const r = await session.conn!.command('COMMAND', 'DOCS');
      if (r.type === 'map' || r.type === 'array') table = HelpTable.fromCommandDocs(r);
    } catch {
      // fall back below
    }
  }
  session.help = table ?? HelpTable.fromBuiltinFacts();
  return session.help;
}

/** HELP [topic...]: the general text needs no table; topics do. */
export async function outputHelp(session: Session, args: string[]): Promise<void> {
  if (args.length === 0) {
    writeOut(genericHelp());
    return;
  }
  const table = await ensureHelp(session);
  writeOut(table.output(args));
}
