/**
 * Interactive mode of mnemo-cli, as redis-cli 7.0's repl(): the prompt
 * (`127.0.0.1:6379>`, `[db]`, `(TX)`, `not connected>`), the `N command` repeat prefix,
 * history kept in ~/.mnemocli_history (or $REDISCLI_HISTFILE; AUTH and ACL SETUSER lines
 * are not saved), :set hints / :set nohints (also from ~/.mnemoclirc), `connect host port`,
 * `clear`, `quit`/`exit`, the elapsed time of slow commands, and Ctrl-C ending MONITOR or
 * SUBSCRIBE. With stdin not a terminal, lines are read and run without prompt or editing.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { splitArgs } from '../util/splitargs.js';
import { ByteReader } from './byte-reader.js';
import { LineEditor, isUnsupportedTerm } from './line-editor.js';
import { atoi, PROGRAM } from './options.js';
import { writeErr, writeOut } from './output.js';
import { eqi, SessionExit, type Session } from './session.js';
import { fixed } from './cformat.js';
import { ensureHelp } from './help-loader.js';

export interface ReplIO {
  input: ByteReader;
  /** stdin is a terminal: line editing, history and preferences. */
  isTTY: boolean;
  setRaw: (on: boolean) => void;
  columns: () => number;
  env: NodeJS.ProcessEnv;
}

const HISTFILE_ENV = 'REDISCLI_HISTFILE';
const HISTFILE_DEFAULT = `.${PROGRAM.replace('-', '')}_history`;
const RCFILE_ENV = 'REDISCLI_RCFILE';
const RCFILE_DEFAULT = `.${PROGRAM.replace('-', '')}rc`;

/** $ENV if set ("/dev/null" disables), else ~/<name>; null when neither is usable. */
export function dotfilePath(env: NodeJS.ProcessEnv, override: string, name: string): string | null {
  const p = env[override];
  if (p !== undefined && p !== '') return p === '/dev/null' ? null : p;
  const home = env.HOME;
  if (home !== undefined && home !== '') return path.join(home, name);
  return null;
}

interface Preferences {
  hints: boolean;
}

function setPreferences(pref: Preferences, argv: string[], interactive: boolean): void {
  const from = interactive ? '' : `.${PROGRAM.replace('-', '')}rc: `;
  if (eqi(argv[0], ':set') && argv.length >= 2) {
    if (eqi(argv[1], 'hints')) pref.hints = true;
    else if (eqi(argv[1], 'nohints')) pref.hints = false;
    else writeOut(`${from}unknown ${PROGRAM} preference '${argv[1]}'\n`);
  } else {
    writeOut(`${from}unknown ${PROGRAM} internal command '${argv[0]}'\n`);
  }
}

function loadPreferences(pref: Preferences, env: NodeJS.ProcessEnv): void {
  const file = dotfilePath(env, RCFILE_ENV, RCFILE_DEFAULT);
  if (file === null) return;
  let text: string;
  try {
    text = readFileSync(file, 'latin1');
  } catch {
    return;
  }
  for (const line of text.split('\n')) {
    const argv = splitArgs(line);
    if (argv && argv.length > 0 && argv[0][0] === ':') setPreferences(pref, argv, false);
  }
}

/** strtol() view of the first word: a repeat count when the whole word is a number. */
function parseRepeat(word: string): { isNumber: boolean; value: number } {
  if (word === '') return { isNumber: true, value: 0 };
  const m = /^[ \t\n\v\f\r]*([-+]?\d+)$/.exec(word);
  if (!m) return { isNumber: false, value: 1 };
  const n = Number(m[1]);
  // Out of the range of a long: ERANGE, rejected like a non-positive count.
  return { isNumber: true, value: Math.abs(n) > 9223372036854775807 ? -1 : n };
}

export async function repl(session: Session, io: ReplIO): Promise<number> {
  session.interactive = true;
  const help = await ensureHelp(session);
  const pref: Preferences = { hints: true };
  const editor = new LineEditor(
    io.input,
    (s) => writeOut(s),
    io.setRaw,
    io.columns,
    () => writeErr('\x07'),
  );
  editor.hooks = {
    completion: (buf) => help.completions(buf),
    hints: (buf) => (pref.hints ? help.hint(buf) : null),
  };
  let history = false;
  let historyFile: string | null = null;
  if (io.isTTY) {
    io.input.dropInputWhileIdle();
    historyFile = dotfilePath(io.env, HISTFILE_ENV, HISTFILE_DEFAULT);
    history = true;
    if (historyFile !== null) editor.historyLoad(historyFile);
    loadPreferences(pref, io.env);
  }
  const remember = (line: string) => {
    if (history) editor.historyAdd(line);
    if (historyFile !== null) editor.historySave(historyFile);
  };
  const readLine = async (prompt: string): Promise<string | null> => {
    if (!io.isTTY) return io.input.readLine();
    if (isUnsupportedTerm(io.env)) {
      writeOut(prompt);
      const line = await io.input.readLine();
      return line === null ? null : line.replace(/[\r\n]+$/, '');
    }
    return editor.readLine(prompt);
  };

  session.refreshPrompt();
  for (;;) {
    const line = await readLine(session.conn ? session.prompt : 'not connected> ');
    if (line === null) {
      // Ctrl-C / Ctrl-D / end of input.
      if (session.pubsubMode) {
        session.pubsubMode = false;
        if (await session.connect(true)) continue;
      }
      break;
    }
    if (line === '') continue;
    const argv = splitArgs(line);
    if (argv === null) {
      writeOut('Invalid argument(s)\n');
      remember(line);
      continue;
    }
    if (argv.length === 0) continue;

    let repeat = 1;
    let skip = 0;
    const rep = parseRepeat(argv[0]);
    if (argv.length > 1 && rep.isNumber) {
      if (rep.value <= 0) {
        writeOut('Invalid redis-cli repeat command option value.\n');
        continue;
      }
      repeat = rep.value;
      skip = 1;
    }

    // Lines with passwords are not kept in the history.
    const dangerous = eqi(argv[skip], 'auth') || (skip + 1 < argv.length && eqi(argv[skip], 'acl') && eqi(argv[skip + 1], 'setuser'));
    if (!dangerous) remember(line);

    if (eqi(argv[0], 'quit') || eqi(argv[0], 'exit')) {
      return 0;
    } else if (argv[0][0] === ':') {
      setPreferences(pref, argv, true);
      continue;
    } else if (eqi(argv[0], 'restart')) {
      writeOut("Use 'restart' only in Lua debugging mode.\n");
    } else if (argv.length === 3 && eqi(argv[0], 'connect')) {
      session.cfg.host = argv[1];
      session.cfg.port = atoi(argv[2]);
      session.refreshPrompt();
      await session.connect(true);
    } else if (argv.length === 1 && eqi(argv[0], 'clear')) {
      editor.clearScreen();
    } else {
      const start = Date.now();
      try {
        await session.issueCommandRepeat(argv.slice(skip), repeat);
      } catch (e) {
        if (e instanceof SessionExit) return e.code;
        throw e;
      }
      const elapsed = Date.now() - start;
      if (elapsed >= 500 && session.cfg.output === 'standard') writeOut(`(${fixed(elapsed / 1000, 2)}s)\n`);
    }
  }
  return 0;
}
