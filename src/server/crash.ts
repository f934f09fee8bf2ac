/**
 * Redis's crash report (debug.c sigsegvHandler), for the crashes Mnemo can see: a
 * SIGABRT (sent by someone, or V8 aborting) and DEBUG SEGFAULT. The report goes to
 * the log between Redis's START/END markers; the process then dies by the same
 * signal, as Redis re-raises it (so exit status and core dumps are the signal's).
 * Only with crash-log-enabled yes (the default), as Redis installs its handler.
 * Faults in native code (a real SIGSEGV) are not caught: a JavaScript listener
 * cannot run safely then, so the default action applies.
 */
import type { Server } from './server.js';
import { REDIS_VERSION } from '../version.js';
import { log, logRaw } from '../persistence/log.js';

const SIGNUM = { SIGSEGV: 11, SIGABRT: 6 } as const;

/** Logs the report and dies by `signal`. `siCode` is the siginfo code Redis prints (0: SI_USER). */
export function crashBySignal(server: Server, signal: keyof typeof SIGNUM, siCode: number, extra: string[] = []): never {
  if (server.config.getBool('crash-log-enabled')) {
    logRaw(server, 'warning', '\n\n=== REDIS BUG REPORT START: Cut & paste starting from here ===');
    log(server, 'warning', `Redis ${REDIS_VERSION} crashed by signal: ${SIGNUM[signal]}, si_code: ${siCode}`);
    for (const line of extra) log(server, 'warning', line);
    log(server, 'warning', `JavaScript stack:\n${new Error('crash report').stack ?? ''}`);
    logRaw(
      server,
      'warning',
      '\n=== REDIS BUG REPORT END. Make sure to include from START to END. ===\n\n' +
        '       Please report the crash by opening an issue on github:\n\n' +
        '           http://github.com/redis/redis/issues\n',
    );
  }
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
  // The signal is delivered asynchronously: nothing else may run meanwhile.
  for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
}

/** Installs the SIGABRT report (standalone server only: embedders keep their own handlers). */
export function installCrashHandlers(server: Server): void {
  if (!server.config.getBool('crash-log-enabled')) return;
  process.on('SIGABRT', () => crashBySignal(server, 'SIGABRT', 0));
}
