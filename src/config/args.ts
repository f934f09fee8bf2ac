/**
 * The redis-server command line: `[config-file] [-] [--name value ...]`.
 * Options become config-file lines ("--port 6380" -> `port "6380"`) that are
 * parsed after the file (and stdin), so the last setting wins.
 */
import { splitArgs, quoteArg } from '../util/splitargs.js';

export interface ParsedArgs {
  /** The config file named by the first argument, as given. */
  configFile?: string;
  /** "-" as the first or last argument: read config from stdin too. */
  readStdin: boolean;
  /** Config lines built from the --options, one per line. */
  optionsText: string;
}

export function parseServerArgs(argv: readonly string[]): ParsedArgs {
  const out: ParsedArgs = { readStdin: false, optionsText: '' };
  let j = 0;
  if (argv.length > 0 && !argv[0].startsWith('-')) {
    out.configFile = argv[0];
    j = 1;
  }
  let options = '';
  // False right after an option name that had no value yet: the next
  // argument is its value even when it starts with "--".
  let lastOptionComplete = true;
  for (; j < argv.length; j++) {
    const arg = argv[j];
    const isLast = j === argv.length - 1;
    const nextIsOption = !isLast && argv[j + 1].startsWith('--');
    if (arg === '-' && (j === 0 || isLast)) {
      out.readStdin = true;
    } else if (lastOptionComplete && arg.startsWith('--')) {
      if (options) options += '\n';
      options += arg.slice(2) + ' ';
      const words = splitArgs(arg);
      if (words && words.length === 1) {
        // Only the name ("--port"): its value comes next. A bare --save
        // means `save ""` (the pre-7.0 way to disable snapshots).
        lastOptionComplete = false;
        const name = arg.toLowerCase();
        if (name === '--save' && (nextIsOption || isLast)) {
          options += '""';
          lastOptionComplete = true;
        } else if (name === '--sentinel' && (nextIsOption || isLast)) {
          lastOptionComplete = true;
        }
      } else {
        // Name and value in one argument: "--port 6380".
        lastOptionComplete = true;
      }
    } else {
      options += quoteArg(arg) + ' ';
      lastOptionComplete = true;
    }
  }
  out.optionsText = options;
  return out;
}
