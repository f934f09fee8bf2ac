/**
 * mnemo-cli against Debian's redis-cli 7.0: both run with the same arguments and input
 * against the SAME redis-server, and their stdout (and stderr, exit code) must be equal
 * byte for byte. Covers every reply type in RESP2 and RESP3, raw / --no-raw / --csv /
 * --json output, one-shot and piped-interactive modes, help, --scan, --bigkeys,
 * --memkeys, --hotkeys, --pipe, -r/-i, -x/-X, --eval, --rdb, MONITOR and SUBSCRIBE
 * streaming, authentication, errors, refused and lost connections, and an interactive
 * session in a pseudo-terminal (prompt, hints, completion, history, Ctrl-C).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../helpers/process.js';

// ---------------------------------------------------------------------------------------------
// Harness: a private redis-server (the oracle), running both CLIs, a pseudo-terminal session

const here = path.dirname(fileURLToPath(import.meta.url));
/** dist/test/cli -> dist/src/bin/mnemo-cli.js */
const MNEMO_CLI = path.resolve(here, '../../src/bin/mnemo-cli.js');
const REDIS_CLI = process.env.REDIS_CLI ?? '/usr/bin/redis-cli';
const REDIS_SERVER = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';

type Which = 'redis' | 'mnemo';

interface RunResult {
  stdout: Buffer;
  stderr: Buffer;
  code: number | null;
}

interface RunOptions {
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** A clean environment: no REDISCLI_* settings from the caller, a private HOME. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('REDISCLI_') && k !== 'FAKETTY') env[k] = v;
  return { ...env, ...extra };
}

function command(which: Which, args: readonly string[]): [string, string[]] {
  return which === 'redis' ? [REDIS_CLI, [...args]] : [process.execPath, [MNEMO_CLI, ...args]];
}

/** Runs one CLI to completion (stdin from `input`, or empty). */
function runCli(which: Which, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const [file, argv] = command(which, args);
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { env: opts.env ?? cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 10000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout: Buffer.concat(out), stderr: Buffer.concat(err), code });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

/** Runs both CLIs one after the other (never at the same time: they share the server). */
async function runBoth(args: readonly string[], opts: RunOptions = {}): Promise<{ redis: RunResult; mnemo: RunResult }> {
  const redis = await runCli('redis', args, opts);
  const mnemo = await runCli('mnemo', args, opts);
  return { redis, mnemo };
}

/** Runs async jobs with at most `limit` at a time. */
async function pool<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}

/** A TCP port nobody listens on right now. */

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A redis-server child process on a free port, stopped by stop(). */
class RedisServer {
  private constructor(
    readonly port: number,
    private readonly proc: ChildProcess,
    private readonly dir: string,
  ) {}

  static async start(extraArgs: string[] = []): Promise<RedisServer> {
    const port = await freePort();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mnemo-cli-test-'));
    const proc = spawn(
      REDIS_SERVER,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--enable-debug-command', 'yes', '--repl-diskless-sync-delay', '0', ...extraArgs],
      { stdio: 'ignore' },
    );
    const server = new RedisServer(port, proc, dir);
    const auth = extraArgs.includes('--requirepass') ? ['-a', extraArgs[extraArgs.indexOf('--requirepass') + 1], '--no-auth-warning'] : [];
    for (let i = 0; i < 200; i++) {
      const r = await runCli('redis', ['-p', String(port), ...auth, 'ping']).catch(() => null);
      if (r && r.stdout.toString() === 'PONG\n') return server;
      await sleep(25);
    }
    server.stop();
    throw new Error(`redis-server did not start on port ${port}`);
  }

  stop(): void {
    this.proc.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * An interactive session in a pseudo-terminal of 80x40 (`script` allocates it, `stty`
 * sizes it), with a private HOME. Keys are written as typed; output is collected as the
 * terminal receives it.
 */
class PtySession {
  private out = Buffer.alloc(0);
  private readonly child: ChildProcess;
  readonly home: string;

  constructor(which: Which, args: readonly string[], env: NodeJS.ProcessEnv = {}) {
    this.home = mkdtempSync(path.join(os.tmpdir(), `mnemo-cli-home-${which}-`));
    const [file, argv] = command(which, args);
    const quoted = [file, ...argv].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    this.child = spawn('script', ['-qfec', `stty cols 80 rows 40; exec ${quoted}`, '/dev/null'], {
      env: cleanEnv({ HOME: this.home, TERM: 'xterm', ...env }),
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    this.child.stdout!.on('data', (d: Buffer) => {
      this.out = Buffer.concat([this.out, d]);
    });
  }

  get output(): string {
    return this.out.toString('latin1');
  }

  /** Waits until the output written since `from` matches. */
  async waitFor(re: RegExp, from = 0, timeoutMs = 8000): Promise<void> {
    const start = Date.now();
    while (!re.test(this.out.subarray(from).toString('latin1'))) {
      if (Date.now() - start > timeoutMs) {
        throw new Error(`timed out waiting for ${re}; got ${JSON.stringify(this.out.subarray(from).toString('latin1'))}`);
      }
      await sleep(10);
    }
  }

  /** Types `keys` and waits for `until` (by default the next prompt) in the new output. */
  async type(keys: string, until: RegExp = /> $/): Promise<void> {
    const from = this.out.length;
    this.child.stdin!.write(Buffer.from(keys, 'latin1'));
    await this.waitFor(until, from);
    await sleep(20);
  }

  /** Waits for the process to end (after quit); kills it after 3 s. Returns its exit code. */
  async exit(): Promise<number | null> {
    if (this.child.exitCode === null) {
      await Promise.race([new Promise((r) => this.child.once('exit', r)), sleep(3000)]);
    }
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
    return this.child.exitCode;
  }

  cleanup(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
    rmSync(this.home, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Tests

let server: RedisServer;
let authServer: RedisServer;
let P: string;
let tmp: string;

before(async () => {
  [server, authServer] = await Promise.all([
    RedisServer.start(),
    // Password protected, and refusing SYNC like a server without replication.
    RedisServer.start(['--requirepass', 'sec', '--rename-command', 'SYNC', '']),
  ]);
  P = String(server.port);
  tmp = mkdtempSync(path.join(os.tmpdir(), 'mnemo-cli-files-'));
});

after(() => {
  server?.stop();
  authServer?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});


/** Equal strings, or a failure showing where they start to differ. */
function assertSameText(actual: string, expected: string, label: string): void {
  if (actual === expected) return;
  let i = 0;
  while (i < actual.length && i < expected.length && actual[i] === expected[i]) i++;
  const at = (s: string) => JSON.stringify(s.slice(Math.max(0, i - 150), i + 150));
  assert.fail(`${label}: differs at byte ${i} (lengths ${actual.length} vs ${expected.length})\nmnemo-cli: ${at(actual)}\nredis-cli: ${at(expected)}`);
}

/** Asserts equal stdout, stderr and exit code, with a readable message. */
function assertSame(label: string, r: { redis: RunResult; mnemo: RunResult }, opts: { stderr?: boolean } = {}): void {
  assertSameText(r.mnemo.stdout.toString('latin1'), r.redis.stdout.toString('latin1'), `${label}: stdout`);
  if (opts.stderr !== false) assertSameText(r.mnemo.stderr.toString('latin1'), r.redis.stderr.toString('latin1'), `${label}: stderr`);
  assert.equal(r.mnemo.code, r.redis.code, `${label}: exit code differs`);
}

/** Fixture: every type, binary and UTF-8 values, floats, a 12-element list (2-digit indexes). */
const FIXTURE = [
  'flushall',
  'set str hello',
  'set bin "a\\x00b\\xff\\n\\"q\\" \\\\ \\t\\r\\x07\\x08 end"',
  'set utf8 "caf\\xc3\\xa9"',
  'set num 42',
  'rpush list a b c d e f g h i j k l',
  'hset hash f1 v1 f2 v2 f3 ""',
  'sadd set m1 m2 m3',
  'sadd intset 3 1 2',
  'zadd zset 1 a 2.5 b -3 c',
  'xadd stream 1-1 f v',
  'xadd stream 1-2 g w h x',
  'geoadd geo 13.361389 38.115556 Palermo 15.087269 37.502669 Catania',
  'pfadd hll a b c',
];

/** At least 50 commands covering every reply type (the server decides RESP2/RESP3 shapes). */
const COMMANDS = [
  'ping',
  'ping "hello world"',
  'echo ""',
  'get str',
  'get bin',
  'get utf8',
  'get nokey',
  'incr num',
  'incrbyfloat num 1.5',
  'strlen str',
  'exists str nokey',
  'type list',
  'lrange list 0 -1',
  'lrange list 0 2',
  'lrange nolist 0 -1',
  'lpop nolist',
  'lpos list c',
  'hgetall hash',
  'hget hash f1',
  'hmget hash f1 nofield f2',
  'hkeys nohash',
  'smembers set',
  'smembers intset',
  'sismember set m1',
  'smismember set m1 zz',
  'zrange zset 0 -1 withscores',
  'zscore zset b',
  'zscore zset nomember',
  'zrangebyscore zset -inf +inf withscores limit 0 2',
  'zpopmin zset',
  'zadd zset incr 1.25 a',
  'xrange stream - +',
  'xread count 2 streams stream 0',
  'xinfo stream stream',
  'object encoding list',
  'geopos geo Palermo nowhere',
  'geodist geo Palermo Catania km',
  'geosearch geo fromlonlat 15 37 byradius 200 km asc withcoord withdist',
  'pfcount hll',
  'sort list alpha limit 0 3 desc',
  'scan 0 match str count 1000', // one key: the order of a SCAN of several keys depends on rehashing progress
  'dbsize',
  'config get maxmemory-policy',
  'config get nosuchparameter',
  'command info get',
  'command docs get',
  'latency doctor',
  'client getname',
  'debug protocol string',
  'debug protocol integer',
  'debug protocol double',
  'debug protocol null',
  'debug protocol array',
  'debug protocol set',
  'debug protocol map',
  'debug protocol true',
  'debug protocol false',
  'debug protocol verbatim',
  'debug protocol push',
  'eval "return {1,{2,{3,\'x\'}},{},redis.status_reply(\'FINE\'),redis.error_reply(\'ERR bad\')}" 0',
  'eval "return {1,2,3,4,5,6,7,8,9,10,11}" 0',
  'eval "return 3.99" 0',
  'eval "return nil" 0',
  'eval "return true" 0',
  'eval "return false" 0',
  'eval "return {false, true, {}}" 0',
  'multi',
  'incr num',
  'lrange list 0 1',
  'exec',
  'select 1',
  'set x y',
  'get x',
  'select 0',
  'foo bar',
  'get list',
  'set k v ex -1',
  'subscribe',
  '3 ping',
  '0 ping',
  'get "unbalanced',
  '   ',
  '',
  'help get',
  'help config get',
  'help @hyperloglog',
];

/** In RESP2 the server also has these; in RESP3 redis-cli 7.0 cannot parse them (see format.test.ts). */
const RESP2_ONLY = ['debug protocol bignum', 'debug protocol attrib'];

function script(lines: string[]): string {
  return [...FIXTURE, ...lines].join('\n') + '\n';
}

test('piped commands: every reply type in RESP2/RESP3, raw / --no-raw / --csv / --json', async () => {
  const configs: string[][] = [
    [],
    ['--no-raw'],
    ['-3'],
    ['-3', '--no-raw'],
    ['--csv'],
    ['-3', '--csv'],
    ['--json'],
    ['--quoted-json'],
    ['-2', '--json'],
    ['-d', '|', '-D', '@@\n'],
  ];
  for (const cfg of configs) {
    const lines = cfg.includes('-3') || cfg.includes('--json') || cfg.includes('--quoted-json') ? COMMANDS : [...COMMANDS, ...RESP2_ONLY];
    const r = await runBoth(['-p', P, ...cfg], { input: script(lines) });
    assertSame(`config [${cfg.join(' ')}]`, r);
    assert.ok(r.mnemo.stdout.length > 500, 'the batch printed its replies');
  }
});

test('one-shot commands, raw and --no-raw, RESP2 and RESP3', async () => {
  await runCli('redis', ['-p', P], { input: script([]) });
  const oneShots: string[][] = [
    ['get', 'str'],
    ['get', 'nokey'],
    ['lrange', 'list', '0', '-1'],
    ['hgetall', 'hash'],
    ['zrange', 'zset', '0', '-1', 'withscores'],
    ['xrange', 'stream', '-', '+'],
    ['smembers', 'intset'],
    ['exists', 'str'],
    ['foo'],
    ['get', 'list'],
    ['debug', 'protocol', 'verbatim'],
    ['debug', 'protocol', 'map'],
    ['latency', 'doctor'],
    ['eval', "return {1,{2,{3,'x'}},{}}", '0'],
    ['--quoted-input', 'get', '"bin"'],
    ['--quoted-input', 'echo', '"\\x00\\xfe\\r\\n"'],
    ['help', 'set'],
    ['help', '@geo'],
  ];
  const jobs: (() => Promise<void>)[] = [];
  for (const mode of [[], ['--no-raw'], ['-3'], ['-3', '--no-raw']]) {
    // The piped test covers RESP3 broadly; here a few one-shot RESP3 cases suffice.
    for (const c of mode.includes('-3') ? oneShots.filter((_, i) => i % 3 === 0) : oneShots) {
      jobs.push(async () => {
        const args = ['-p', P, ...mode, ...c];
        const [redis, mnemo] = await Promise.all([runCli('redis', args), runCli('mnemo', args)]);
        assertSame(args.join(' '), { redis, mnemo });
      });
    }
  }
  await pool(jobs, 6);
});

test('help for every command and every group matches redis-cli', async () => {
  const docs = await runCli('redis', ['-p', P, 'command', 'list']);
  const names = docs.stdout.toString().trim().split('\n');
  assert.ok(names.length > 200);
  const groups = ['generic', 'string', 'list', 'set', 'sorted-set', 'hash', 'pubsub', 'transactions', 'connection', 'server', 'scripting', 'hyperloglog', 'cluster', 'geo', 'stream', 'bitmap'];
  const input = [...names.map((n) => `help ${n}`), ...groups.map((g) => `help @${g}`), 'help @nosuchgroup', 'help nosuchcommand', 'help config'].join('\n');
  const r = await runBoth(['-p', P], { input });
  assertSame('help', r);
  assert.match(r.mnemo.stdout.toString(), /\x1b\[1mZADD\x1b\[0m \x1b\[90mkey \[NX\|XX\] \[GT\|LT\] \[CH\] \[INCR\] score member \[score member \.\.\.\]/);
});

test('--scan, --pattern, --quoted-pattern, and --count', async () => {
  await runCli('redis', ['-p', P], { input: script(['mset k:1 a k:2 b k:3 c "k:\\x01" d']) });
  for (const args of [['--scan'], ['--no-raw', '--scan'], ['--scan', '--pattern', 'k:*'], ['--no-raw', '--scan', '--quoted-pattern', '"k:\\x01"'], ['--scan', '--pattern', 'nomatch*']]) {
    assertSame(args.join(' '), await runBoth(['-p', P, ...args]));
  }
  // --count is redis-cli 7.2's: same keys, other batching.
  const all = (await runCli('redis', ['-p', P, '--scan'])).stdout.toString().split('\n').sort();
  const counted = await runCli('mnemo', ['-p', P, '--scan', '--count', '2']);
  assert.deepEqual(counted.stdout.toString().split('\n').sort(), all);
});

test('--bigkeys, --memkeys, --memkeys-samples, --hotkeys', async () => {
  await runCli('redis', ['-p', P], { input: script(['rpush list2 x y', 'set longer-string 0123456789']) });
  for (const args of [['--bigkeys'], ['--memkeys'], ['--memkeys-samples', '2'], ['--hotkeys'], ['--bigkeys', '--pattern', 's*'], ['--bigkeys', '-i', '0.01']]) {
    assertSame(args.join(' '), await runBoth(['-p', P, ...args]));
  }
  // An empty db and a one-key db: the summary's type order then differs (redis-cli's dict is still rehashing).
  await runCli('redis', ['-p', P, '-n', '8', 'set', 'only', 'x']);
  for (const db of ['7', '8']) assertSame(`--bigkeys db ${db}`, await runBoth(['-p', P, '-n', db, '--bigkeys']));
  const big = (await runCli('mnemo', ['-p', P, '--bigkeys'])).stdout.toString();
  assert.match(big, /Biggest   list found '"list"' has 12 items/);
  assert.match(big, /Biggest   hash found '"hash"' has 3 fields/);
  assert.match(big, /^1 streams with 2 entries \(\d\d\.\d\d% of keys, avg size 2\.00\)$/m);
  // --hotkeys needs an LFU policy.
  await runCli('redis', ['-p', P, 'config', 'set', 'maxmemory-policy', 'allkeys-lfu']);
  try {
    for (let i = 0; i < 20; i++) await runCli('redis', ['-p', P, 'get', 'str']);
    const r = await runBoth(['-p', P, '--hotkeys']);
    assertSame('--hotkeys (lfu)', r);
    assert.match(r.mnemo.stdout.toString(), /hot key found with counter: \d+\tkeyname: "str"/);
  } finally {
    await runCli('redis', ['-p', P, 'config', 'set', 'maxmemory-policy', 'noeviction']);
  }
});

test('--pipe mass insertion (RESP and inline), with an error', async () => {
  let resp = '';
  for (let i = 0; i < 5000; i++) resp += `*3\r\n$3\r\nSET\r\n$${`pk:${i}`.length}\r\npk:${i}\r\n$1\r\n${i % 10}\r\n`;
  const inline = 'SET inl 1\r\nINCR inl\r\nRPUSH plist a b c\r\n';
  const bad = 'SET onlykey\r\n';
  for (const input of [resp, inline, resp + bad + inline]) {
    const r = await runBoth(['-p', P, '-n', '3', '--pipe'], { input });
    assertSame('--pipe', r);
  }
  const dbsize = await runCli('redis', ['-p', P, '-n', '3', 'dbsize']);
  assert.equal(dbsize.stdout.toString(), '5002\n');
  const last = await runCli('mnemo', ['-p', P, '-n', '3', '--pipe'], { input: resp + bad });
  assert.equal(last.code, 1);
  assert.equal(last.stdout.toString(), 'All data transferred. Waiting for the last reply...\nLast reply received from server.\nerrors: 1, replies: 5001\n');
  assert.equal(last.stderr.toString(), "ERR wrong number of arguments for 'set' command\n");
  await runCli('redis', ['-p', P, '-n', '3', 'flushdb']);
});

test('-r / -i repeat, -x / -X stdin arguments, -n, -e exit codes', async () => {
  assertSame('-r -i', await runBoth(['-p', P, '-r', '3', '-i', '0.05', 'ping']));
  assertSame('-r --no-raw', await runBoth(['-p', P, '-r', '2', '--no-raw', 'lrange', 'list', '0', '1']));
  assertSame('-r 0', await runBoth(['-p', P, '-r', '0', 'ping']));
  const a = await runCli('redis', ['-p', P, '-r', '3', 'rpush', 'rlist', 'x']);
  const b = await runCli('mnemo', ['-p', P, '-r', '3', 'rpush', 'rlist', 'x']);
  assert.equal(a.stdout.toString(), '1\n2\n3\n');
  assert.equal(b.stdout.toString(), '4\n5\n6\n');
  const binary = Buffer.from([0, 1, 2, 0xff, 0x0a, 0x22, 0x5c]);
  assertSame('-x', await runBoth(['-p', P, '-x', 'set', 'xkey'], { input: binary }));
  assertSame('-x get', await runBoth(['-p', P, '--no-raw', 'get', 'xkey']));
  assertSame('-x echo', await runBoth(['-p', P, '-x', 'echo'], { input: 'line1\nline2\n' }));
  assertSame('-X', await runBoth(['-p', P, '--no-raw', '-X', 'TAG', 'echo', 'TAG'], { input: binary }));
  assertSame('-X no tag', await runBoth(['-p', P, '-X', 'TAG', 'echo', 'x'], { input: 'y' }));
  assertSame('-x -X', await runBoth(['-p', P, '-x', '-X', 'T', 'echo']));
  assertSame('-n', await runBoth(['-p', P, '-n', '5', '--no-raw', 'client', 'getname']));
  assertSame('-n out of range', await runBoth(['-p', P, '-n', '99', 'ping']));
  const e = await runBoth(['-p', P, '-e', 'incr', 'str']);
  assertSame('-e', e);
  assert.equal(e.mnemo.code, 1);
  assert.equal(e.mnemo.stderr.toString(), 'ERR value is not an integer or out of range\n');
  const noE = await runBoth(['-p', P, '--no-raw', 'incr', 'str']);
  assertSame('error without -e', noE);
  assert.equal(noE.mnemo.code, 0);
  assert.equal(noE.mnemo.stdout.toString(), '(error) ERR value is not an integer or out of range\n');
  // Interactive mode (piped) ignores -e.
  assertSame('-e piped', await runBoth(['-p', P, '-e'], { input: 'incr str\nping\n' }));
});

test('--eval with keys and args, and a missing script file', async () => {
  const file = path.join(tmp, 'script.lua');
  writeFileSync(file, "return {KEYS[1], KEYS[2], ARGV[1], #ARGV, redis.call('ping')}");
  for (const args of [['k1', 'k2', ',', 'a1', 'a2'], ['k1'], [',', 'a1'], []]) {
    assertSame(`--eval ${args.join(' ')}`, await runBoth(['-p', P, '--no-raw', '--eval', file, ...args]));
    assertSame(`--eval raw ${args.join(' ')}`, await runBoth(['-p', P, '--eval', file, ...args]));
  }
  const missing = await runBoth(['-p', P, '--eval', path.join(tmp, 'missing.lua')]);
  assertSame('--eval missing', missing);
  assert.equal(missing.mnemo.code, 1);
});

test('option errors, usage, connection refused', async () => {
  const closedPort = String(await freePort());
  const cases: string[][] = [
    ['-p'],
    ['--foo'],
    ['-n'],
    ['-r'],
    ['-p', closedPort, 'ping'],
    ['-p', closedPort, '--scan'],
    ['-p', closedPort, '--bigkeys'],
    ['-p', closedPort, '--eval', '/nonexistent'],
    ['-p', '0', 'ping'],
    ['-u', 'http://localhost', 'ping'],
    ['-u', `redis://127.0.0.1:${P}/2`, 'client', 'getname'],
    ['--ldb-sync-mode', 'x'],
    ['--show-pushes', 'maybe', '-p', P, 'ping'],
    ['--quoted-pattern', '"bad', '--scan'],
    ['-p', P, '--quoted-input', 'get', '"unterminated'],
  ];
  // None of these changes the server: run them side by side.
  await pool(
    cases.map((c) => async () => {
      const r = await runBoth(c);
      // The --ldb text names the program; compare it apart from the name.
      if (c[0] === '--ldb-sync-mode') {
        const name = (b: Buffer) => b.toString().replace(/\S*(redis|mnemo)-cli/, 'CLI');
        assert.equal(name(r.mnemo.stderr), name(r.redis.stderr));
        assert.equal(r.mnemo.code, r.redis.code);
        return;
      }
      assertSame(c.join(' '), r);
    }),
    4,
  );
  const refused = await runCli('mnemo', ['-p', closedPort, 'ping']);
  assert.equal(refused.stderr.toString(), `Could not connect to Redis at 127.0.0.1:${closedPort}: Connection refused\n`);
  assert.equal(refused.code, 1);
  const usage = await runCli('mnemo', ['--help']);
  assert.equal(usage.code, 0);
  assert.match(usage.stdout.toString(), /^Usage: mnemo-cli \[OPTIONS\] \[cmd \[arg \[arg \.\.\.\]\]\]$/m);
  // Interactive with no server: the error, then "not connected>" (no prompt when piped).
  assertSame('repl refused', await runBoth(['-p', closedPort], { input: 'ping\nping\n' }));
});

test('authentication: -a, --user/--pass, -u URIs, REDISCLI_AUTH, wrong password', async () => {
  const A = String(authServer.port);
  const cases: string[][] = [
    ['-p', A, 'ping'],
    ['-p', A, '-a', 'sec', 'ping'],
    ['-p', A, '-a', 'bad', 'ping'],
    ['-p', A, '--user', 'default', '--pass', 'sec', '--no-raw', 'ping'],
    ['-p', A, '--user', 'nobody', '-a', 'sec', 'ping'],
    ['-p', A, '-a', 'sec', '--no-auth-warning', '-n', '2', 'client', 'info'],
    ['-u', `redis://default:sec@127.0.0.1:${A}/3`, 'client', 'getname'],
    ['-u', `redis://sec@127.0.0.1:${A}`, 'ping'],
    ['-u', `redis://:sec@127.0.0.1:${A}`, 'ping'],
    ['-p', A, '-a', 'bad', '--scan'],
    ['-p', A, '-a', 'sec', '-3', '--no-raw', 'config', 'get', 'maxmemory-policy'],
  ];
  await pool(
    cases.map((c) => async () => {
      const r = await runBoth(c);
      if (c.includes('client') && c.includes('info')) {
        // CLIENT INFO shows connection ids and ports; compare its shape.
        const norm = (b: Buffer) => b.toString().replace(/\b(id|addr|laddr|fd|age|idle|tot-mem|qbuf|qbuf-free|argv-mem|rbs|rbp)=\S*/g, '$1=?');
        assert.equal(norm(r.mnemo.stdout), norm(r.redis.stdout));
        assert.equal(r.mnemo.stderr.toString(), r.redis.stderr.toString());
        assert.match(r.mnemo.stdout.toString(), / db=2 /);
        return;
      }
      assertSame(c.join(' '), r);
    }),
    4,
  );
  const env = cleanEnv({ REDISCLI_AUTH: 'sec' });
  assertSame('REDISCLI_AUTH', await runBoth(['-p', A, 'ping'], { env }));
});

test('--rdb fetches a snapshot; a server refusing SYNC gets redis-cli\'s error', async () => {
  const r1 = path.join(tmp, 'r.rdb');
  const m1 = path.join(tmp, 'm.rdb');
  const a = await runCli('redis', ['-p', P, '--rdb', r1]);
  const b = await runCli('mnemo', ['-p', P, '--rdb', m1]);
  assert.equal(b.code, 0, b.stderr.toString());
  assert.equal(b.stderr.toString().replace(m1, 'FILE'), a.stderr.toString().replace(r1, 'FILE'));
  const rb = readFileSync(r1);
  const mb = readFileSync(m1);
  assert.equal(mb.length, rb.length);
  assert.equal(mb.subarray(0, 9).toString(), 'REDIS0010');
  // A disk-based transfer (sized payload instead of an EOF mark), to stdout.
  await runCli('redis', ['-p', P, 'config', 'set', 'repl-diskless-sync', 'no']);
  try {
    const c = await runBoth(['-p', P, '--rdb', '-']);
    assert.equal(c.mnemo.code, 0);
    assert.equal(c.mnemo.stderr.toString(), c.redis.stderr.toString());
    assert.equal(c.mnemo.stdout.length, c.redis.stdout.length);
    assert.match(c.mnemo.stderr.toString(), /writing \d+ bytes to '-'\nTransfer finished with success\.\n$/);
  } finally {
    await runCli('redis', ['-p', P, 'config', 'set', 'repl-diskless-sync', 'yes']);
  }
  // SYNC refused (renamed away): same messages, exit code 1.
  const refused = await runBoth(['-p', String(authServer.port), '-a', 'sec', '--no-auth-warning', '--rdb', path.join(tmp, 'x.rdb')]);
  assertSame('--rdb refused', refused);
  assert.equal(refused.mnemo.code, 1);
  assert.match(refused.mnemo.stderr.toString(), /^SYNC with master failed: -ERR unknown command 'SYNC'/m);
});

test('lost connections: server closing or resetting, one-shot and interactive', async () => {
  const closer = net.createServer((s) => s.on('data', () => s.destroy()));
  const resetter = net.createServer((s) => s.on('data', () => s.resetAndDestroy()));
  await Promise.all([new Promise<void>((r) => closer.listen(0, '127.0.0.1', r)), new Promise<void>((r) => resetter.listen(0, '127.0.0.1', r))]);
  try {
    for (const srv of [closer, resetter]) {
      const port = String((srv.address() as net.AddressInfo).port);
      for (const args of [['ping'], ['--no-raw', '-r', '2', 'ping'], ['--scan'], []]) {
        const r = await runBoth(['-p', port, ...args], { input: 'ping\nping\n' });
        assertSame(`lost ${args.join(' ')}`, r);
      }
    }
    const port = String((closer.address() as net.AddressInfo).port);
    const oneShot = await runCli('mnemo', ['-p', port, 'ping']);
    assert.equal(oneShot.stderr.toString(), 'Error: Server closed the connection\n');
    assert.equal(oneShot.code, 1);
    // Interactive: reported, then a new connection for the next command.
    const repl = await runCli('mnemo', ['-p', port], { input: 'ping\nping\n' });
    assert.equal(repl.stderr.toString(), 'Error: Server closed the connection\nError: Server closed the connection\n');
    assert.equal(repl.code, 0);
  } finally {
    closer.close();
    resetter.close();
  }
});

/** Starts a CLI in the background (for streaming commands). */
function background(which: 'redis' | 'mnemo', args: string[]) {
  const [file, argv] = command(which, args);
  const child = spawn(file, argv, { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
  return {
    get out() {
      return out;
    },
    async until(re: RegExp) {
      for (let i = 0; i < 400 && !re.test(out); i++) await sleep(10);
    },
    stop() {
      child.kill('SIGKILL');
    },
  };
}

test('SUBSCRIBE / PSUBSCRIBE and MONITOR stream like redis-cli', async () => {
  for (const mode of [[], ['--no-raw'], ['-3'], ['-3', '--no-raw']]) {
    const subs = (['redis', 'mnemo'] as const).flatMap((w) => [
      background(w, ['-p', P, ...mode, 'subscribe', 'ch1', 'ch2']),
      background(w, ['-p', P, ...mode, 'psubscribe', 'c*']),
    ]);
    await Promise.all(subs.map((s) => s.until(/subscribe[\s\S]*1/)));
    await sleep(50);
    await runCli('redis', ['-p', P, 'publish', 'ch1', 'hello world']);
    await runCli('redis', ['-p', P, 'publish', 'ch2', 'a\x01b']);
    await Promise.all(subs.map((s) => s.until(/a\x01b|a\\x01b/)));
    await sleep(50);
    subs.forEach((s) => s.stop());
    assert.equal(subs[2].out, subs[0].out, `subscribe ${mode.join(' ')}`);
    assert.equal(subs[3].out, subs[1].out, `psubscribe ${mode.join(' ')}`);
    assert.match(subs[2].out, /hello world/);
  }
  const mons = [
    background('redis', ['-p', P, 'monitor']),
    background('mnemo', ['-p', P, 'monitor']),
    background('redis', ['-p', P, '--no-raw', 'monitor']),
    background('mnemo', ['-p', P, '--no-raw', 'monitor']),
  ];
  await Promise.all(mons.map((m) => m.until(/^OK\n/)));
  await runCli('redis', ['-p', P, 'set', 'mon key', 'v"1']);
  await Promise.all(mons.map((m) => m.until(/"set"/)));
  mons.forEach((m) => m.stop());
  const norm = (s: string) => s.replace(/^\d+\.\d+ \[(\d+) [^\]]+\]/gm, 'T [$1 ADDR]');
  assert.equal(norm(mons[1].out), norm(mons[0].out));
  assert.equal(norm(mons[3].out), norm(mons[2].out));
  assert.match(norm(mons[3].out), /^OK\nT \[0 ADDR\] "set" "mon key" "v\\"1"\n$/);
});

test('--latency, --latency-history and --stat print redis-cli\'s lines', async () => {
  const r = await runBoth(['-p', P, '--latency', '-i', '0.2']);
  assert.match(r.redis.stdout.toString(), /^\d+ \d+ \d+\.\d\d \d+\n$/);
  assert.match(r.mnemo.stdout.toString(), /^\d+ \d+ \d+\.\d\d \d+\n$/);
  const csv = await runCli('mnemo', ['-p', P, '--latency', '-i', '0.1', '--csv']);
  assert.match(csv.stdout.toString(), /^\d+,\d+,\d+\.\d\d,\d+\n$/);
  // Running modes are stopped after a few lines.
  const hist = background('mnemo', ['-p', P, '--latency-history', '-i', '0.1']);
  await hist.until(/ -- \d+\.\d\d seconds range\n/);
  hist.stop();
  assert.match(hist.out, /^(\d+ \d+ \d+\.\d\d \d+\n)+ -- \d\.\d\d seconds range\n/);
  const stat = background('mnemo', ['-p', P, '--stat', '-i', '0.05']);
  await stat.until(/(\n.*){4}/);
  stat.stop();
  const lines = stat.out.split('\n');
  assert.equal(lines[0], '------- data ------ --------------------- load -------------------- - child -');
  assert.equal(lines[1], 'keys       mem      clients blocked requests            connections          ');
  assert.match(lines[2], /^\d+ +\d+(\.\d\d[KMG])?B? +\d+ +\d+ +\d+ \(\+0\) +\d+ +$/);
  assert.match(lines[3], /^\d+ +[\d.]+[BKMG] +\d+ +\d+ +\d+ \(\+\d+\) +\d+ +$/);
});

/** The interactive session typed into both CLIs. */
async function interactiveSession(s: PtySession, port: string): Promise<void> {
  await s.waitFor(/> $/);
  await s.type('set foo bar\r');
  await s.type('get fo\t\r'); // nothing to complete: a beep
  await s.type('zr\t\t\x15set a\x15ping\r'); // completion cycling, hints, Ctrl-U
  await s.type(`lrange x 0 -1 ${'a'.repeat(90)}\r`); // a line wrapping over two rows
  await s.type('\x1b[A\x1b[A\r'); // history: up twice
  await s.type('select 2\r');
  await s.type('multi\r');
  await s.type('incr n\r');
  await s.type('exec\r');
  await s.type('getx\x1b[D\x1b[D\x04\x01\x0becho "a b" c\x17\r'); // left, Ctrl-D/A/K/W
  await s.type('3 ping\r');
  await s.type('auth nosuchpass\r');
  await s.type('get "unbalanced\r');
  await s.type('help incr\r');
  await s.type(':set nohints\r');
  await s.type('hset h f v\r');
  await s.type(':set hints\r');
  await s.type('subscribe ch\r', /3\) \(integer\) 1\r\n$/);
  await sleep(600); // so that both print the elapsed time "(0.xxs)" (shown from 0.5 s on)
  await s.type('\x03'); // Ctrl-C ends SUBSCRIBE and reconnects (db 2 again)
  // The server drops the connection (killed from outside: only the session is a normal client).
  await runCli('redis', ['-p', port, 'client', 'kill', 'type', 'normal']);
  await s.type('ping\r'); // "Error: Server closed the connection", then "not connected>"
  await s.type('dbsize\r'); // reconnected
  await s.type('quit\r', /quit[^\n]*\r\n$/);
}

test('interactive session in a pseudo-terminal: same screen output as redis-cli', async () => {
  await runCli('redis', ['-p', P, 'flushall']);
  const redis = new PtySession('redis', ['-p', P]);
  let mnemo: PtySession | null = null;
  try {
    await interactiveSession(redis, P);
    await redis.exit();
    await runCli('redis', ['-p', P, 'flushall']);
    // Started only now: CLIENT KILL in the session counts the connected clients.
    mnemo = new PtySession('mnemo', ['-p', P]);
    await interactiveSession(mnemo, P);
    assert.equal(await mnemo.exit(), 0);
    // linenoise writes "\n" with output post-processing off; Node's raw mode keeps it on,
    // so the terminal receives "\r\n\r" where redis-cli sends "\n\r" (same screen).
    const norm = (s: string) => s.replace(/\r\n\r/g, '\n\r').replace(/\(\d+\.\d\ds\)/g, '(T)');
    assertSameText(norm(mnemo.output), norm(redis.output), 'terminal output');
    assert.match(mnemo.output, /127\.0\.0\.1:\d+\[2\]\(TX\)> /);
    assert.match(mnemo.output, /\x1b\[0;90;49m key value \[NX\|XX\] \[GET\]/);
    // History: the same lines (AUTH left out), in ~/.mnemocli_history.
    const rh = readFileSync(path.join(redis.home, '.rediscli_history'), 'latin1');
    const mh = readFileSync(path.join(mnemo.home, '.mnemocli_history'), 'latin1');
    assert.equal(mh, rh);
    assert.doesNotMatch(mh, /auth/);
  } finally {
    redis.cleanup();
    mnemo?.cleanup();
  }
});

test('interactive: history file from REDISCLI_HISTFILE is loaded and extended', async () => {
  const histDir = mkdtempSync(path.join(os.tmpdir(), 'mnemo-cli-hist-'));
  const hist = path.join(histDir, 'h.txt');
  writeFileSync(hist, 'get previous\necho from-history\n');
  const s = new PtySession('mnemo', ['-p', P], { REDISCLI_HISTFILE: hist });
  try {
    await s.waitFor(/> $/);
    await s.type('\x1b[A\r'); // the last line of the file
    await s.type('quit\r', /quit[^\n]*\r\n$/);
    await s.exit();
    assert.match(s.output, /"from-history"/);
    assert.equal(readFileSync(hist, 'latin1'), 'get previous\necho from-history\nquit\n');
    assert.ok(existsSync(hist));
  } finally {
    s.cleanup();
    rmSync(histDir, { recursive: true, force: true });
  }
});
