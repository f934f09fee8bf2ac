#!/usr/bin/env node
/**
 * mnemo-server [config-file] [--directive value ...]
 * Same command line as redis-server: a redis.conf-format file, then overrides.
 */
import { Server, listenHost } from '../server/server.js';
import { Config, ConfigFileError } from '../config/config.js';
import { strerror } from '../config/special.js';
import { VERSION, REDIS_VERSION } from '../version.js';
import { loadDataAtStartup } from '../persistence/index.js';
import { signalShutdown } from '../server/shutdown.js';
import { startMemoryReclaim } from '../server/memory-reclaim.js';
import { installProcTitle } from '../server/proc-title.js';
import { log, logRaw } from '../persistence/log.js';
import { installCrashHandlers } from '../server/crash.js';
import { writeFileSync, unlinkSync, accessSync, constants as fsConstants } from 'node:fs';
import { isatty } from 'node:tty';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '-v' || args[0] === '--version') {
    console.log(`Mnemo server v=${VERSION} (Redis ${REDIS_VERSION} compatible) node=${process.version}`);
    return;
  }
  if (args[0] === '-h' || args[0] === '--help') {
    console.log('Usage: mnemo-server [/path/to/redis.conf] [--directive value ...]\n       mnemo-server --port 7777 --requirepass secret');
    return;
  }
  let config: Config;
  try {
    config = Config.fromArgs(args);
  } catch (e) {
    if (e instanceof ConfigFileError) {
      process.stderr.write(e.message + '\n');
      process.exit(1);
    }
    throw e;
  }
  const role = config.sentinelMode ? 'X' : 'C';
  if (config.sentinelMode) {
    // A Sentinel writes its state to its config file: it needs one it can write.
    if (!config.configFile) {
      process.stderr.write('Sentinel needs config file on disk to save state. Exiting...\n');
      process.exit(1);
    }
    try {
      accessSync(config.configFile, fsConstants.W_OK);
    } catch (e) {
      process.stderr.write(`Sentinel config file ${config.configFile} is not writable: ${strerror(e)}. Exiting...\n`);
      process.exit(1);
    }
  }
  let server: Server;
  try {
    server = new Server({ config });
  } catch (e) {
    // rename-command naming an unknown command (checked against the command table).
    if (e instanceof ConfigFileError) {
      process.stderr.write(e.message + '\n');
      process.exit(1);
    }
    throw e;
  }
  // Redis's startup lines, in its log format: tools and test suites read the pid from them.
  log(server, 'warning', 'oO0OoO0OoO0Oo Mnemo is starting oO0OoO0OoO0Oo', role);
  log(server, 'warning', `Redis version=${REDIS_VERSION}, bits=64, commit=00000000, modified=0, pid=${process.pid}, just started`, role);
  log(server, 'warning', config.configFile || args.length > 0 ? 'Configuration loaded' : `Warning: no config file specified, using the default config. In order to specify a config file use ${process.argv[1]} /path/to/redis.conf`, role);
  const pidfile = config.get('pidfile') ?? '';
  const removePidfile = () => {
    if (pidfile === '') return;
    try {
      unlinkSync(pidfile);
    } catch {
      // already gone
    }
  };
  server.onShutdown = () => {
    removePidfile();
    process.exit(0);
  };
  // Every interface unless `bind` says otherwise (see listenHost); CONFIG SET bind/port re-listen.
  const host = listenHost(config);
  const cluster = server.cluster;
  const port = config.getNumber('port');
  if (cluster !== null && port !== 0 && host !== null) {
    // Redis's clusterInit: the bus is bound before anything is served, or the node exits.
    const cport = cluster.busPort(port);
    if (cport > 65535) {
      log(server, 'warning', 'Redis port number too high. Cluster communication port is 10,000 port numbers higher than your Redis port. Your Redis port number must be 55535 or less.');
      process.exit(1);
    }
    try {
      await cluster.listenBus(port, host);
    } catch (e) {
      const addr = (config.bindAddresses()[0] ?? '*').replace(/^-/, '');
      log(server, 'warning', `Warning: Could not create server TCP listening socket ${addr}:${cport}: bind: ${strerror(e)}`);
      log(server, 'warning', `Failed listening on port ${cport} (cluster), aborting.`);
      process.exit(1);
    }
  }
  try {
    // `--port 0` at start-up picks a free port (Mnemo's convenience, see the README);
    // CONFIG SET port 0 later closes the TCP listener, as Redis.
    await server.listen(config.getNumber('port'), host);
  } catch (e) {
    // Redis's two lines (the test suite's server launcher reads the second to retry on another port).
    const addr = (config.bindAddresses()[0] ?? '*').replace(/^-/, '');
    log(server, 'warning', `Warning: Could not create server TCP listening socket ${addr}:${port}: bind: ${strerror(e)}`);
    log(server, 'warning', `Failed listening on port ${port} (TCP), aborting.`);
    process.exit(1);
  }
  if (config.getNumber('tls-port') !== 0 && host !== null) {
    const errors = await server.startTls(host);
    if (errors !== null) {
      for (const line of errors.lines) log(server, 'warning', line);
      log(server, 'warning', `Failed listening on port ${config.getNumber('tls-port')} (tls), aborting.`);
      process.exit(1);
    }
  }
  const unixsocket = config.get('unixsocket') ?? '';
  if (unixsocket !== '') {
    try {
      await server.listenUnix(unixsocket, config.getNumber('unixsocketperm'));
    } catch (e) {
      log(server, 'warning', `Failed opening Unix socket: ${(e as Error).message}`);
      process.exit(1);
    }
  }
  if (pidfile !== '') {
    try {
      writeFileSync(pidfile, `${process.pid}\n`);
    } catch (e) {
      log(server, 'warning', `Failed to write PID file: ${(e as Error).message}`);
    }
  }
  showBanner(server, config);
  installProcTitle(server);
  installCrashHandlers(server);
  // A Sentinel logs neither this nor "Ready to accept connections", as Redis's.
  if (server.sentinel === null) log(server, 'warning', 'Server initialized');
  // Give V8's young generation back once the server goes quiet (see server/memory-reclaim.ts).
  // Only the standalone server: embedded test servers must not run collections.
  startMemoryReclaim(server);
  if (server.sentinel !== null) {
    // A Sentinel keeps no dataset: it starts watching its masters instead.
    server.sentinel.start();
  } else {
    // Persistence: load dbfilename (or the AOF) while clients get -LOADING; a corrupt file stops us.
    try {
      await loadDataAtStartup(server);
    } catch (e) {
      process.stderr.write(`${(e as Error).message}\n`);
      process.exit(1);
    }
  }
  // Before the Ready line, which a supervisor may answer with a signal at once.
  // SIGTERM / SIGINT shut down as SHUTDOWN does, with the options of shutdown-on-sigterm / -sigint
  // (default: save when save points exist; wait for lagging replicas unless `now`), as Redis.
  process.on('SIGINT', () => signalShutdown(server, 'SIGINT'));
  process.on('SIGTERM', () => signalShutdown(server, 'SIGTERM'));
  if (server.sentinel === null) log(server, 'notice', 'Ready to accept connections');
}

/**
 * Redis prints its logo when logging to a terminal or when always-show-logo is set,
 * else one "Running mode" line. Ours is Mnemo's own banner with the same facts
 * (version, mode, port, PID) on the same labels.
 */
function showBanner(server: Server, config: Config): void {
  const mode = server.mode;
  const tty = config.get('logfile') === '' && config.get('syslog-enabled') !== 'yes' && isatty(1);
  if (!tty && config.get('always-show-logo') !== 'yes') {
    log(server, 'notice', `Running mode=${mode}, port=${server.port}.`);
    return;
  }
  logRaw(
    server,
    'notice',
    [
      '',
      '   .--------------------------------------------.',
      `   |  Mnemo ${VERSION}, speaking Redis ${REDIS_VERSION} (00000000/0) 64 bit`,
      `   |  Running in ${mode} mode`,
      `   |  Port: ${server.port}`,
      `   |  PID: ${process.pid}`,
      `   |  Node.js ${process.version}`,
      "   '--------------------------------------------'",
      '',
    ].join('\n'),
  );
}

void main();
