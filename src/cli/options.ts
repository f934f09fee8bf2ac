/**
 * mnemo-cli command line options: the same options, defaults, parsing order and error
 * messages as redis-cli 7.0 (parseOptions / parseRedisUri / parseEnv). Options stop at the
 * first argument that does not start with '-'; the rest is the command.
 * All strings are latin1 (one char per byte).
 */
import { splitArgs } from '../util/splitargs.js';
import { writeErr, writeOut } from './output.js';
import type { OutputMode } from './format.js';
import { REDIS_VERSION, VERSION } from '../version.js';

export interface CliConfig {
  host: string;
  port: number;
  socket: string | null;
  user: string | null;
  auth: string | null;
  askpass: boolean;
  noAuthWarning: boolean;
  /** -n / URI path: the db the user asked for. */
  inputDbnum: number;
  repeat: number;
  /** Microseconds, as redis-cli keeps it. */
  interval: number;
  output: OutputMode;
  /** Print RESP3 push messages (on by default when stdout is a terminal). */
  pushOutput: boolean;
  mbDelim: string;
  cmdDelim: string;
  /** -2 / -3 / --json: 1 = RESP3 required, 2 = RESP3 wanted (JSON output), 0 = RESP2. */
  resp3: 0 | 1 | 2;
  resp2: boolean;
  quotedInput: boolean;
  stdinLastArg: boolean;
  stdinTagName: string | null;
  setErrcode: boolean;
  clusterMode: boolean;
  verbose: boolean;
  // Modes
  latencyMode: boolean;
  latencyHistory: boolean;
  latencyDistMode: boolean;
  statMode: boolean;
  scanMode: boolean;
  pattern: string | null;
  /** --count (SCAN COUNT hint), as redis-cli 7.2+ has it. 0 = not sent. */
  count: number;
  bigkeys: boolean;
  memkeys: boolean;
  memkeysSamples: number;
  hotkeys: boolean;
  pipeMode: boolean;
  pipeTimeout: number;
  rdbFilename: string | null;
  functionsRdb: boolean;
  replicaMode: boolean;
  evalFile: string | null;
  evalLdb: boolean;
  intrinsicLatency: number;
  lruTest: boolean;
  clusterCommand: boolean;
  tls: boolean;
  sni: string | null;
  cacert: string | null;
  cacertdir: string | null;
  cert: string | null;
  key: string | null;
  insecure: boolean;
  tlsCiphers: string | null;
  tlsCiphersuites: string | null;
}

export function defaultConfig(stdoutIsTTY: boolean): CliConfig {
  return {
    host: '127.0.0.1',
    port: 6379,
    socket: null,
    user: null,
    auth: null,
    askpass: false,
    noAuthWarning: false,
    inputDbnum: 0,
    repeat: 1,
    interval: 0,
    output: stdoutIsTTY ? 'standard' : 'raw',
    pushOutput: stdoutIsTTY,
    mbDelim: '\n',
    cmdDelim: '\n',
    resp3: 0,
    resp2: false,
    quotedInput: false,
    stdinLastArg: false,
    stdinTagName: null,
    setErrcode: false,
    clusterMode: false,
    verbose: false,
    latencyMode: false,
    latencyHistory: false,
    latencyDistMode: false,
    statMode: false,
    scanMode: false,
    pattern: null,
    count: 0,
    bigkeys: false,
    memkeys: false,
    memkeysSamples: 0,
    hotkeys: false,
    pipeMode: false,
    pipeTimeout: 30,
    rdbFilename: null,
    functionsRdb: false,
    replicaMode: false,
    evalFile: null,
    evalLdb: false,
    intrinsicLatency: 0,
    lruTest: false,
    clusterCommand: false,
    tls: false,
    sni: null,
    cacert: null,
    cacertdir: null,
    cert: null,
    key: null,
    insecure: false,
    tlsCiphers: null,
    tlsCiphersuites: null,
  };
}

/** Thrown to end the program with a code (usage, version, bad option). */
export class CliExit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** C atoi(): leading spaces, optional sign, digits; 0 when there are none. */
export function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([-+]?\d+)/.exec(s);
  if (!m) return 0;
  const n = Number(m[1]);
  return Math.trunc(Math.max(-2147483648, Math.min(2147483647, n)));
}

/** C strtod()-like: the longest numeric prefix, 0 when there is none. */
function atof(s: string): number {
  const m = /^[ \t\n\v\f\r]*([-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)/.exec(s);
  return m ? Number(m[1]) : 0;
}

/** Decodes %XX sequences of a URI part. */
function percentDecode(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '%' && i + 2 < s.length + 0 && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      out += String.fromCharCode(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

/** redis://[[user]:password@]host[:port][/db] (rediss:// for TLS). */
export function parseRedisUri(uri: string, cfg: CliConfig): void {
  let curr: string;
  if (uri.slice(0, 9).toLowerCase() === 'rediss://') {
    cfg.tls = true;
    curr = uri.slice(9);
  } else if (uri.slice(0, 8).toLowerCase() === 'redis://') {
    curr = uri.slice(8);
  } else {
    writeErr('Invalid URI scheme\n');
    throw new CliExit(1);
  }
  if (curr === '') return;
  const at = curr.indexOf('@');
  if (at >= 0) {
    const colon = curr.indexOf(':');
    if (colon >= 0 && colon < at) {
      cfg.user = percentDecode(curr.slice(0, colon));
      curr = curr.slice(colon + 1);
      cfg.auth = percentDecode(curr.slice(0, curr.indexOf('@')));
    } else {
      cfg.auth = percentDecode(curr.slice(0, at));
    }
    curr = curr.slice(curr.indexOf('@') + 1);
  }
  if (curr === '') return;
  const slash = curr.indexOf('/');
  if (curr[0] !== '/') {
    const hostPart = slash >= 0 ? curr.slice(0, slash) : curr;
    const colon = hostPart.indexOf(':');
    if (colon >= 0) {
      cfg.port = atoi(hostPart.slice(colon + 1));
      cfg.host = hostPart.slice(0, colon);
    } else {
      cfg.host = hostPart;
    }
  }
  curr = slash >= 0 ? curr.slice(slash + 1) : '';
  if (curr === '') return;
  cfg.inputDbnum = atoi(curr);
}

/** A --quoted-input / --quoted-pattern argument: exactly one sdssplitargs token. */
export function unquoteArg(s: string): string | null {
  const parts = splitArgs(s);
  if (!parts || parts.length !== 1) return null;
  return parts[0];
}

export const PROGRAM = 'mnemo-cli';

export function versionString(): string {
  return `${PROGRAM} ${VERSION} (redis-cli ${REDIS_VERSION} compatible)`;
}

/**
 * Parses options into cfg; returns the index of the first command argument.
 * Prints usage/version or an error and throws CliExit like redis-cli exits.
 */
export function parseOptions(argv: readonly string[], cfg: CliConfig): number {
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    const lastarg = i === argv.length - 1;
    const next = (): string => argv[++i];
    if (a === '-h' && !lastarg) cfg.host = next();
    else if (a === '-h' && lastarg) usage(0);
    else if (a === '--help') usage(0);
    else if (a === '-x') cfg.stdinLastArg = true;
    else if (a === '-X' && !lastarg) cfg.stdinTagName = next();
    else if (a === '-p' && !lastarg) cfg.port = atoi(next());
    else if (a === '-s' && !lastarg) cfg.socket = next();
    else if (a === '-r' && !lastarg) cfg.repeat = atoi(next());
    else if (a === '-i' && !lastarg) cfg.interval = Math.trunc(atof(next()) * 1000000);
    else if (a === '-n' && !lastarg) cfg.inputDbnum = atoi(next());
    else if (a === '--no-auth-warning') cfg.noAuthWarning = true;
    else if (a === '--askpass') cfg.askpass = true;
    else if ((a === '-a' || a === '--pass') && !lastarg) cfg.auth = next();
    else if (a === '--user' && !lastarg) cfg.user = next();
    else if (a === '-u' && !lastarg) parseRedisUri(next(), cfg);
    else if (a === '--raw') cfg.output = 'raw';
    else if (a === '--no-raw') cfg.output = 'standard';
    else if (a === '--quoted-input') cfg.quotedInput = true;
    else if (a === '--csv') cfg.output = 'csv';
    else if (a === '--json' || a === '--quoted-json') {
      if (cfg.resp3 === 0) cfg.resp3 = 2; // do not override an explicit -3
      cfg.output = a === '--json' ? 'json' : 'quoted-json';
    } else if (a === '--latency') cfg.latencyMode = true;
    else if (a === '--latency-dist') cfg.latencyDistMode = true;
    else if (a === '--mono') {
      /* spectrum palette for --latency-dist: accepted */
    } else if (a === '--latency-history') {
      cfg.latencyMode = true;
      cfg.latencyHistory = true;
    } else if (a === '--lru-test' && !lastarg) {
      cfg.lruTest = true;
      i++;
    } else if (a === '--slave' || a === '--replica') cfg.replicaMode = true;
    else if (a === '--stat') cfg.statMode = true;
    else if (a === '--scan') cfg.scanMode = true;
    else if (a === '--pattern' && !lastarg) cfg.pattern = next();
    else if (a === '--quoted-pattern' && !lastarg) {
      const p = unquoteArg(next());
      if (p === null) {
        writeErr('Invalid quoted string specified for --quoted-pattern.\n');
        throw new CliExit(1);
      }
      cfg.pattern = p;
    } else if (a === '--count' && !lastarg) cfg.count = atoi(next());
    else if (a === '--intrinsic-latency' && !lastarg) cfg.intrinsicLatency = atoi(next());
    else if (a === '--rdb' && !lastarg) cfg.rdbFilename = next();
    else if (a === '--functions-rdb' && !lastarg) {
      cfg.functionsRdb = true;
      cfg.rdbFilename = next();
    } else if (a === '--pipe') cfg.pipeMode = true;
    else if (a === '--pipe-timeout' && !lastarg) cfg.pipeTimeout = atoi(next());
    else if (a === '--bigkeys') cfg.bigkeys = true;
    else if (a === '--memkeys') {
      cfg.memkeys = true;
      cfg.memkeysSamples = 0; // the server's default
    } else if (a === '--memkeys-samples' && !lastarg) {
      cfg.memkeys = true;
      cfg.memkeysSamples = atoi(next());
    } else if (a === '--hotkeys') cfg.hotkeys = true;
    else if (a === '--eval' && !lastarg) cfg.evalFile = next();
    else if (a === '--ldb' || a === '--ldb-sync-mode') cfg.evalLdb = true;
    else if (a === '-c') cfg.clusterMode = true;
    else if (a === '-d' && !lastarg) cfg.mbDelim = next();
    else if (a === '-D' && !lastarg) cfg.cmdDelim = next();
    else if (a === '-e') cfg.setErrcode = true;
    else if (a === '--verbose') cfg.verbose = true;
    else if (a === '--cluster' && !lastarg) {
      cfg.clusterCommand = true;
      i = argv.length; // the cluster manager takes the rest of the line
      break;
    } else if (a === '--tls') cfg.tls = true;
    else if (a === '--sni' && !lastarg) cfg.sni = next();
    else if (a === '--cacertdir' && !lastarg) cfg.cacertdir = next();
    else if (a === '--cacert' && !lastarg) cfg.cacert = next();
    else if (a === '--cert' && !lastarg) cfg.cert = next();
    else if (a === '--key' && !lastarg) cfg.key = next();
    else if (a === '--tls-ciphers' && !lastarg) cfg.tlsCiphers = next();
    else if (a === '--tls-ciphersuites' && !lastarg) cfg.tlsCiphersuites = next();
    else if (a === '--insecure') cfg.insecure = true;
    else if (a === '-v' || a === '--version') {
      writeOut(versionString() + '\n');
      throw new CliExit(0);
    } else if (a === '-2' || a === '--resp2') cfg.resp2 = true;
    else if (a === '-3' || a === '--resp3') cfg.resp3 = 1;
    else if (a === '--show-pushes' && !lastarg) {
      const v = next();
      if (/^n/i.test(v)) cfg.pushOutput = false;
      else if (/^y/i.test(v)) cfg.pushOutput = true;
      else writeErr(`Unknown --show-pushes value '${v}' (valid: '[y]es', '[n]o')\n`);
    } else if (a[0] === '-') {
      writeErr(`Unrecognized option or bad number of args for: '${a}'\n`);
      throw new CliExit(1);
    } else {
      break; // the command name
    }
  }
  if (cfg.evalLdb && cfg.evalFile === null) {
    writeErr('Options --ldb and --ldb-sync-mode require --eval.\n');
    writeErr(`Try ${PROGRAM} --help for more information.\n`);
    throw new CliExit(1);
  }
  if (!cfg.noAuthWarning && cfg.auth !== null) {
    writeErr("Warning: Using a password with '-a' or '-u' option on the command line interface may not be safe.\n");
  }
  if (cfg.stdinLastArg && cfg.stdinTagName !== null) {
    writeErr('Options -x and -X are mutually exclusive.\n');
    throw new CliExit(1);
  }
  return i;
}

/** REDISCLI_AUTH: the password when none was given on the command line. */
export function parseEnv(cfg: CliConfig, env: NodeJS.ProcessEnv): void {
  const auth = env.REDISCLI_AUTH;
  if (auth !== undefined && cfg.auth === null) cfg.auth = auth;
}

function usage(code: number): never {
  const text = `${versionString()}

Usage: ${PROGRAM} [OPTIONS] [cmd [arg [arg ...]]]
  -h <hostname>      Server hostname (default: 127.0.0.1).
  -p <port>          Server port (default: 6379).
  -s <socket>        Server socket (overrides hostname and port).
  -a <password>      Password to use when connecting to the server.
                     You can also use the REDISCLI_AUTH environment
                     variable to pass this password more safely
                     (if both are used, this argument takes precedence).
  --user <username>  Used to send ACL style 'AUTH username pass'. Needs -a.
  --pass <password>  Alias of -a for consistency with the new --user option.
  --askpass          Force user to input password with mask from STDIN.
                     If this argument is used, '-a' and REDISCLI_AUTH
                     environment variable will be ignored.
  -u <uri>           Server URI (redis://[[user]:password@]host[:port][/db]).
  -r <repeat>        Execute specified command N times.
  -i <interval>      When -r is used, waits <interval> seconds per command.
                     It is possible to specify sub-second times like -i 0.1.
                     This interval is also used in --scan and --stat per cycle.
                     and in --bigkeys, --memkeys, and --hotkeys per 100 cycles.
  -n <db>            Database number.
  -2, --resp2        Start session in RESP2 protocol mode.
  -3, --resp3        Start session in RESP3 protocol mode.
  -x                 Read last argument from STDIN (see example below).
  -X                 Read <tag> argument from STDIN (see example below).
  -d <delimiter>     Delimiter between response bulks for raw formatting (default: \\n).
  -D <delimiter>     Delimiter between responses for raw formatting (default: \\n).
  -c                 Enable cluster mode (follow -ASK and -MOVED redirections).
  -e                 Return exit error code when command execution fails.
  --tls              Establish a secure TLS connection.
  --sni <host>       Server name indication for TLS.
  --cacert <file>    CA Certificate file to verify with.
  --cacertdir <dir>  Directory where trusted CA certificates are stored.
  --insecure         Allow insecure TLS connection by skipping cert validation.
  --cert <file>      Client certificate to authenticate with.
  --key <file>       Private key file to authenticate with.
  --tls-ciphers <list> Sets the list of preferred ciphers (TLSv1.2 and below).
  --tls-ciphersuites <list> Sets the list of preferred ciphersuites (TLSv1.3).
  --raw              Use raw formatting for replies (default when STDOUT is
                     not a tty).
  --no-raw           Force formatted output even when STDOUT is not a tty.
  --quoted-input     Force input to be handled as quoted strings.
  --csv              Output in CSV format.
  --json             Output in JSON format (default RESP3, use -2 if you want to use with RESP2).
  --quoted-json      Same as --json, but produce ASCII-safe quoted strings, not Unicode.
  --show-pushes <yn> Whether to print RESP3 PUSH messages.  Enabled by default when
                     STDOUT is a tty but can be overridden with --show-pushes no.
  --stat             Print rolling stats about server: mem, clients, ...
  --latency          Enter a special mode continuously sampling latency.
                     If you use this mode in an interactive session it runs
                     forever displaying real-time stats. Otherwise if --raw or
                     --csv is specified, or if you redirect the output to a non
                     TTY, it samples the latency for 1 second (you can use
                     -i to change the interval), then produces a single output
                     and exits.
  --latency-history  Like --latency but tracking latency changes over time.
                     Default time interval is 15 sec. Change it using -i.
  --replica          Simulate a replica showing commands received from the master.
  --rdb <filename>   Transfer an RDB dump from remote server to local file.
                     Use filename of "-" to write to stdout.
  --functions-rdb <filename> Like --rdb but only get the functions (not the keys)
                     when getting the RDB dump file.
  --pipe             Transfer raw Redis protocol from stdin to server.
  --pipe-timeout <n> In --pipe mode, abort with error if after sending all data.
                     no reply is received within <n> seconds.
                     Default timeout: 30. Use 0 to wait forever.
  --bigkeys          Sample Redis keys looking for keys with many elements (complexity).
  --memkeys          Sample Redis keys looking for keys consuming a lot of memory.
  --memkeys-samples <n> Sample Redis keys looking for keys consuming a lot of memory.
                     And define number of key elements to sample
  --hotkeys          Sample Redis keys looking for hot keys.
                     only works when maxmemory-policy is *lfu.
  --scan             List all keys using the SCAN command.
  --pattern <pat>    Keys pattern when using the --scan, --bigkeys or --hotkeys
                     options (default: *).
  --quoted-pattern <pat> Same as --pattern, but the specified string can be
                         quoted, in order to pass an otherwise non binary-safe string.
  --count <count>    Count option when using --scan, --bigkeys, --memkeys or
                     --hotkeys (default: 10).
  --intrinsic-latency <sec> Run a test to measure intrinsic system latency.
                     The test will run for the specified amount of seconds.
  --eval <file>      Send an EVAL command using the Lua script at <file>.
  --verbose          Verbose mode.
  --no-auth-warning  Don't show warning message when using password on command
                     line interface.
  --help             Output this help and exit.
  --version          Output version and exit.

Examples:
  cat /etc/passwd | ${PROGRAM} -x set mypasswd
  ${PROGRAM} -D "" --raw dump key > key.dump && ${PROGRAM} -X dump_tag restore key2 0 dump_tag replace < key.dump
  ${PROGRAM} -r 100 lpush mylist x
  ${PROGRAM} -r 100 -i 1 info | grep used_memory_human:
  ${PROGRAM} --quoted-input set '"null-\\x00-separated"' value
  ${PROGRAM} --eval myscript.lua key1 key2 , arg1 arg2 arg3
  ${PROGRAM} --scan --pattern '*:12345*'

  (Note: when using --eval the comma separates KEYS[] from ARGV[] items)

When no command is given, ${PROGRAM} starts in interactive mode.
Type "help" in interactive mode for information on available commands
and settings.

`;
  (code ? writeErr : writeOut)(text);
  throw new CliExit(code);
}
