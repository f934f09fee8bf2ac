#!/usr/bin/env node
/**
 * mnemo-server [config-file] [--directive value ...]
 * Same command line as redis-server: a redis.conf-format file, then overrides.
 */
import { Server } from '../server/server.js';
import { Config, ConfigFileError } from '../config/config.js';
import { VERSION, REDIS_VERSION } from '../version.js';
import { loadDataAtStartup, shutdownSaveForSignal } from '../persistence/index.js';
import { startMemoryReclaim } from '../server/memory-reclaim.js';

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
  const server = new Server({ config });
  server.onShutdown = () => process.exit(0);
  // Redis's compiled-in default binds every interface ("* -::*"); Mnemo's embedded
  // default is loopback only, so a bare `npm start` is never exposed. An explicit
  // `bind` (file or --bind) is honoured; its first address is used.
  const bind = config.bindAddresses().map((a: string) => a.replace(/^-/, ''));
  const explicit = config.get('bind') !== '* -::*';
  const host = !explicit ? '127.0.0.1' : bind[0] === '*' ? '0.0.0.0' : bind[0] ?? '127.0.0.1';
  try {
    await server.listen(config.getNumber('port'), host);
  } catch (e) {
    process.stderr.write(`Could not create server TCP listening socket ${host}:${config.getNumber('port')}: ${(e as Error).message}\n`);
    process.exit(1);
  }
  // Give V8's young generation back once the server goes quiet (see server/memory-reclaim.ts).
  // Only the standalone server: embedded test servers must not run collections.
  startMemoryReclaim(server);
  const file = config.configFile ? ` config=${config.configFile}` : '';
  process.stdout.write(`Mnemo ${VERSION} (Redis ${REDIS_VERSION} compatible) port=${server.port} pid=${process.pid}${file}\n`);
  // Persistence: load dbfilename (or the AOF) while clients get -LOADING; a corrupt file stops us.
  try {
    await loadDataAtStartup(server);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(1);
  }
  process.stdout.write(`Ready to accept connections tcp on ${host}:${server.port}\n`);
  // SIGTERM / SIGINT save first when shutdown-on-sig* (default: save points) says so, as Redis.
  const stop = (signal: 'SIGTERM' | 'SIGINT') => {
    if (!shutdownSaveForSignal(server, signal)) return;
    void server.close().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

void main();
