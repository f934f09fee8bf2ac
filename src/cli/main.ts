/**
 * mnemo-cli entry point: parses options like redis-cli, then runs one mode: a special mode
 * (--latency, --rdb, --pipe, --bigkeys, --stat, --scan, ...), interactive mode (no command
 * given), --eval, or a one-shot command. Returns the process exit code.
 */
import { readFileSync } from 'node:fs';
import { ByteReader } from './byte-reader.js';
import { LineEditor } from './line-editor.js';
import { CliExit, defaultConfig, parseEnv, parseOptions, unquoteArg, PROGRAM, type CliConfig } from './options.js';
import { fromBinary, toBinary, writeErr, writeOut } from './output.js';
import { Session, SessionExit } from './session.js';
import { outputHelp } from './help-loader.js';

// The modes and the interactive loop are loaded when used: a one-shot command starts faster.
const keyspace = () => import('./modes/keyspace.js');
const monitoring = () => import('./modes/monitoring.js');
const transfer = () => import('./modes/transfer.js');

let stdinReader: ByteReader | null = null;
/** One reader for stdin, created only when stdin is used. */
function stdin(): ByteReader {
  stdinReader ??= new ByteReader(process.stdin);
  return stdinReader;
}

function setRaw(on: boolean): void {
  if (process.stdin.isTTY) process.stdin.setRawMode(on);
}

const columns = (): number => (process.stdout.isTTY && process.stdout.columns ? process.stdout.columns : 80);

/** --askpass: the password typed with '*' echoed (a plain line when stdin is not a terminal). */
async function askPassword(prompt: string): Promise<string> {
  if (!process.stdin.isTTY) return (await stdin().readLine()) ?? '';
  const editor = new LineEditor(stdin(), (s) => writeOut(s), setRaw, columns, () => writeErr('\x07'));
  editor.historyMaxLen = 0;
  editor.maskMode = true;
  return (await editor.readLine(prompt)) ?? '';
}

async function readStdinArg(): Promise<string> {
  return (await stdin().readAll()).toString('latin1');
}

async function noninteractive(session: Session, cfg: CliConfig, argv: string[]): Promise<number> {
  let args = argv;
  if (cfg.quotedInput) {
    const unquoted = args.map(unquoteArg);
    if (unquoted.some((a) => a === null)) {
      writeOut('Invalid quoted string\n');
      return 1;
    }
    args = unquoted as string[];
  }
  if (cfg.stdinLastArg) {
    args = [...args, await readStdinArg()];
  } else if (cfg.stdinTagName !== null) {
    const i = args.indexOf(cfg.stdinTagName);
    if (i < 0) {
      writeErr('Using -X option but stdin tag not match.\n');
      return 1;
    }
    args = [...args];
    args[i] = await readStdinArg();
  }
  return (await session.issueCommandRepeat(args, cfg.repeat)) ? 0 : 1;
}

/** --eval file keys... , args...: EVAL with the file as the script. */
async function evalMode(session: Session, cfg: CliConfig, argv: string[]): Promise<number> {
  let script: string;
  try {
    script = readFileSync(fromBinary(cfg.evalFile!), 'latin1');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const text = code === 'ENOENT' ? 'No such file or directory' : code === 'EACCES' ? 'Permission denied' : code === 'EISDIR' ? 'Is a directory' : (e as Error).message;
    writeErr(`Can't open file '${cfg.evalFile}': ${text}\n`);
    return 1;
  }
  const keys: string[] = [];
  const rest: string[] = [];
  let gotComma = false;
  for (const a of argv) {
    if (!gotComma && a === ',') {
      gotComma = true;
      continue;
    }
    (gotComma ? rest : keys).push(a);
  }
  const ok = await session.issueCommandRepeat(['EVAL', script, String(keys.length), ...keys, ...rest], cfg.repeat);
  return ok ? 0 : 1;
}

async function run(rawArgs: string[]): Promise<number> {
  const cfg = defaultConfig(process.stdout.isTTY === true || process.env.FAKETTY !== undefined);
  const argv = rawArgs.map(toBinary);
  const first = parseOptions(argv, cfg);
  const command = argv.slice(first);
  parseEnv(cfg, process.env);
  if (cfg.askpass) cfg.auth = toBinary(await askPassword('Please input password: '));

  const unsupported = (what: string): number => {
    writeErr(`${PROGRAM}: ${what} is not supported\n`);
    return 1;
  };
  if (cfg.clusterCommand) return unsupported('--cluster (the cluster manager)');

  const session = new Session(cfg);
  session.outputHelp = (args) => outputHelp(session, args);
  session.runReplica = async () => (await transfer()).replicaMode(session, false);
  const connectOrExit = async (): Promise<void> => {
    if (!(await session.connect())) throw new SessionExit(1);
  };

  if (cfg.latencyMode) {
    await connectOrExit();
    return (await monitoring()).latencyMode(session);
  }
  if (cfg.latencyDistMode) return unsupported('--latency-dist');
  if (cfg.replicaMode) {
    await connectOrExit();
    await (await transfer()).replicaMode(session, true);
    session.printContextError();
    return 1;
  }
  if (cfg.rdbFilename !== null) {
    await connectOrExit();
    return (await transfer()).getRdb(session);
  }
  if (cfg.pipeMode) {
    await connectOrExit();
    return (await transfer()).pipeMode(session, process.stdin);
  }
  if (cfg.bigkeys) {
    await connectOrExit();
    return (await keyspace()).findBigKeys(session, false, 0);
  }
  if (cfg.memkeys) {
    await connectOrExit();
    return (await keyspace()).findBigKeys(session, true, cfg.memkeysSamples);
  }
  if (cfg.hotkeys) {
    await connectOrExit();
    return (await keyspace()).findHotKeys(session);
  }
  if (cfg.statMode) {
    await connectOrExit();
    if (cfg.interval === 0) cfg.interval = 1000000;
    return (await monitoring()).statMode(session);
  }
  if (cfg.scanMode) {
    await connectOrExit();
    return (await keyspace()).scanMode(session);
  }
  if (cfg.lruTest) return unsupported('--lru-test');
  if (cfg.intrinsicLatency) return (await monitoring()).intrinsicLatencyMode(cfg.intrinsicLatency);

  if (command.length === 0 && cfg.evalFile === null) {
    // Ctrl-C while a command runs: ends MONITOR/SUBSCRIBE (reconnecting), else quits.
    process.on('SIGINT', () => {
      if (session.monitorMode || session.pubsubMode) {
        session.blockingStateAborted = true;
        session.conn?.close();
      } else {
        process.exit(1);
      }
    });
    await session.connect();
    const { repl } = await import('./repl.js');
    return repl(session, { input: stdin(), isTTY: process.stdin.isTTY === true, setRaw, columns, env: process.env });
  }
  if (cfg.evalFile !== null) {
    await connectOrExit();
    return evalMode(session, cfg, command);
  }
  await session.connect(false, true);
  return noninteractive(session, cfg, command);
}

export async function main(rawArgs: string[]): Promise<number> {
  try {
    return await run(rawArgs);
  } catch (e) {
    if (e instanceof CliExit || e instanceof SessionExit) return e.code;
    throw e;
  }
}
