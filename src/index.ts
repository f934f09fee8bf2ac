/**
 * Embedding API: start a Mnemo server in-process, e.g. in a test suite.
 *
 *   const srv = await startServer({ port: 0 });
 *   srv.clock.freeze(); srv.clock.advance(60_000);   // move TTLs without sleeping
 *   await srv.close();
 */
import { Server } from './server/server.js';
import { Clock } from './server/clock.js';
import { Config } from './config/config.js';

export { Server, Clock, Config };

export interface StartOptions {
  /** TCP port; 0 (the default here) picks a free one. */
  port?: number;
  host?: string;
  /**
   * Config directives as redis.conf names, e.g. { requirepass: 'secret', databases: '32' }.
   * Unlike redis-server, `save` defaults to '' (no save points) when embedded.
   */
  config?: Record<string, string>;
  /** Start with the clock frozen at this time (ms since epoch) or now (true). */
  frozenClock?: number | boolean;
  /** Also accept TLS clients on this port (0 picks a free one), with the tls-* directives of `config`. */
  tlsPort?: number;
}

export interface ServerHandle {
  host: string;
  port: number;
  clock: Clock;
  server: Server;
  close(): Promise<void>;
}

export async function startServer(opts: StartOptions = {}): Promise<ServerHandle> {
  const clock = new Clock();
  if (opts.frozenClock !== undefined && opts.frozenClock !== false) {
    clock.freeze(typeof opts.frozenClock === 'number' ? opts.frozenClock : undefined);
  }
  // Embedded servers (tests) write no snapshots unless asked: no stray dump.rdb in the cwd.
  const config = new Config({ save: '', ...opts.config });
  const server = new Server({ config, clock });
  const host = opts.host ?? '127.0.0.1';
  await server.listen(opts.port ?? 0, host);
  if (opts.tlsPort !== undefined) {
    const errors = await server.startTls(host, opts.tlsPort);
    if (errors !== null) {
      await server.close();
      throw new Error(errors.lines.join(' '));
    }
    // CONFIG GET / SET tls-port see the port listened on.
    config.setInternal('tls-port', String(server.tlsPort));
  }
  return {
    host,
    port: server.port,
    clock,
    server,
    close: () => server.close(),
  };
}
