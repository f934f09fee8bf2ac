/**
 * Shutting down as Redis 7.0 does (prepareForShutdown / finishShutdown).
 *
 * Unless NOW is given (SHUTDOWN NOW, or `now` in shutdown-on-sigterm/-sigint),
 * with `shutdown-timeout` above 0 and replicas that have not acknowledged the
 * whole replication stream, the shutdown waits: writes pause (as a CLIENT
 * PAUSE WRITE without time limit), the replicas are asked for an ACK
 * (REPLCONF GETACK), INFO shows `shutdown_in_milliseconds`, and the cron
 * completes the shutdown once every replica caught up or the timeout passed.
 * SHUTDOWN callers wait like blocked clients meanwhile.
 *
 * Completing logs the lagging replicas, refuses to exit while the first AOF
 * rewrite is still being written or when the final save fails (unless FORCE),
 * and then closes the server ("ready to exit, bye bye"). When it cannot exit,
 * or on SHUTDOWN ABORT, the waiting callers get "Errors trying to SHUTDOWN.
 * Check logs." and the server carries on.
 */
import type { Server } from './server.js';
import type { Client } from './client.js';
import type { Command } from './command-table.js';
import type { ShutdownRequest } from '../commands/server.js';
import { log } from '../persistence/log.js';
import { isLoading, killRdbChildForShutdown, persistenceOf } from '../persistence/index.js';
import { replicationOf } from './replication.js';
import { setShutdownPause } from './pause.js';
import { setInfoProvider } from '../observability/info.js';

interface ShutdownState {
  /** When waiting for replicas ends (server-clock ms); 0 while no shutdown is initiated. */
  deadline: number;
  req: ShutdownRequest;
  /** SHUTDOWN callers waiting for the outcome. */
  waiting: Client[];
  /** A signal asked for a shutdown (Redis's shutdown_asap), acted on by the next cron run. */
  signalled: boolean;
  signal: 'SIGTERM' | 'SIGINT';
}

const states = new WeakMap<Server, ShutdownState>();

function stateOf(server: Server): ShutdownState {
  let st = states.get(server);
  if (st === undefined) {
    st = { deadline: 0, req: { save: null, now: false, force: false }, waiting: [], signalled: false, signal: 'SIGTERM' };
    states.set(server, st);
    const state = st;
    server.cronHooks.push(() => {
      // A signal's shutdown starts here, as in serverCron (so DEBUG PAUSE-CRON holds it, and SHUTDOWN ABORT can cancel it).
      if (state.signalled && state.deadline === 0 && !server.shuttingDown) {
        state.signalled = false;
        requestShutdown(server, signalRequest(server, state.signal), null, null, []);
        return;
      }
      if (state.deadline !== 0 && (server.clock.now() >= state.deadline || readyToShutdown(server))) finishShutdown(server);
    });
    server.disconnectHooks.push((c) => {
      const i = state.waiting.indexOf(c);
      if (i >= 0) state.waiting.splice(i, 1);
    });
    // INFO server: the time left to wait, while a shutdown waits for replicas (as Redis, only then).
    setInfoProvider(server, 'server', (_srv, fields) =>
      state.deadline === 0 ? fields : [...fields, ['shutdown_in_milliseconds', Math.max(0, state.deadline - server.clock.now())]],
    );
  }
  return st;
}

/** Whether a shutdown is waiting for replicas (Redis's isShutdownInitiated). */
export function isShutdownInitiated(server: Server): boolean {
  return states.get(server)?.deadline ? true : false;
}

/** Every replica acknowledged the whole stream (Redis's isReadyToShutdown). */
function readyToShutdown(server: Server): boolean {
  const m = replicationOf(server);
  m.drain();
  for (const r of m.replicas) if (r.ackOffset !== m.offset) return false;
  return true;
}

/**
 * SHUTDOWN (with `caller`) or a signal (without): shuts down now, or starts
 * waiting for lagging replicas. A caller that must wait is blocked here; one
 * whose shutdown cannot complete gets the error at once.
 */
export function requestShutdown(server: Server, req: ShutdownRequest, caller: Client | null, cmd: Command | null, argv: string[]): void {
  const st = stateOf(server);
  if (caller !== null && cmd !== null) {
    // The caller waits for the outcome (an exit closes its connection).
    server.blocking.block(caller, cmd, argv, { keys: [], timeoutMs: 0, serve: () => false });
    st.waiting.push(caller);
  }
  // One shutdown at a time: a second SHUTDOWN waits for the first's outcome.
  if (st.deadline !== 0) return;
  // A loading dataset is never saved over the file it comes from.
  if (isLoading(server)) req = { ...req, save: false };
  st.req = req;
  log(server, 'warning', 'User requested shutdown...');
  const timeout = server.config.getNumber('shutdown-timeout');
  if (!req.now && timeout !== 0 && !readyToShutdown(server)) {
    st.deadline = server.clock.now() + timeout * 1000;
    replicationOf(server).requestAcks();
    setShutdownPause(server, true);
    log(server, 'notice', 'Waiting for replicas before shutting down.');
    return;
  }
  finishShutdown(server);
}

/** SHUTDOWN ABORT: false when no shutdown is in progress. */
export function abortShutdown(server: Server): boolean {
  const st = states.get(server);
  if (st === undefined || (st.deadline === 0 && !st.signalled)) return false;
  if (st.deadline !== 0) cancelShutdown(server, st);
  st.signalled = false;
  log(server, 'notice', 'Shutdown manually aborted.');
  return true;
}

/** SIGTERM / SIGINT (Redis's sigShutdownHandler): logs and shuts down with the signal's options. */
export function signalShutdown(server: Server, signal: 'SIGTERM' | 'SIGINT'): void {
  const st = stateOf(server);
  if (st.signalled && signal === 'SIGINT') {
    log(server, 'warning', 'You insist... exiting now.');
    process.exit(1);
  }
  log(server, 'warning', isLoading(server) ? 'Received shutdown signal during loading, scheduling shutdown.' : `Received ${signal} scheduling shutdown...`);
  if (st.deadline !== 0) return;
  st.signalled = true;
  st.signal = signal;
}

/** shutdown-on-sigterm / shutdown-on-sigint: default, save, nosave, now, force. */
function signalRequest(server: Server, signal: 'SIGTERM' | 'SIGINT'): ShutdownRequest {
  const opts = (server.config.get(signal === 'SIGTERM' ? 'shutdown-on-sigterm' : 'shutdown-on-sigint') ?? 'default').split(' ');
  return {
    save: opts.includes('save') ? true : opts.includes('nosave') ? false : null,
    now: opts.includes('now'),
    force: opts.includes('force'),
  };
}

/** Redis's finishShutdown: the last checks and the final save, then the server closes. */
function finishShutdown(server: Server): void {
  const st = stateOf(server);
  const req = st.req;
  const m = replicationOf(server);
  m.drain();
  let lagging = 0;
  const nowMs = server.clock.now();
  for (const r of m.replicas) {
    if (r.ackOffset === m.offset) continue;
    lagging++;
    const lag = r.state === 'online' ? Math.floor(nowMs / 1000) - Math.floor(r.ackTime / 1000) : 0;
    const name = r.port !== 0 ? `${r.ip}:${r.port}` : `${r.ip}:<unknown-replica-port>`;
    log(server, 'warning', `Lagging replica ${name} reported offset ${m.offset - r.ackOffset} behind master, lag=${lag}, state=${r.state}.`);
  }
  if (m.replicas.length > 0) log(server, 'notice', `${m.replicas.length - lagging} of ${m.replicas.length} replicas are in sync when shutting down.`);
  // A BGSAVE child must not overwrite the final save (or outlive the server): killed whatever the save mode.
  killRdbChildForShutdown(server);
  // The first AOF is still being written: exiting now would lose the dataset.
  if (persistenceOf(server).aofWaitingRewrite()) {
    if (!req.force) {
      log(server, 'warning', "Writing initial AOF, can't exit.");
      failShutdown(server, st);
      return;
    }
    log(server, 'warning', 'Writing initial AOF. Exit anyway.');
  }
  const wantsSave = req.save === true || (req.save === null && server.config.saveParams().length > 0);
  if (wantsSave) {
    const saver = server.saveForShutdown;
    // Without persistence an explicit SAVE cannot be honoured; save points alone have nothing to write to.
    const ok = saver ? saver(req) : req.save !== true;
    if (!ok && !req.force) {
      failShutdown(server, st);
      return;
    }
  }
  log(server, 'warning', 'Redis is now ready to exit, bye bye...');
  // The waiting callers' connections close with the server.
  for (const c of st.waiting) c.closeAfterReply = true;
  st.waiting = [];
  void server.close().then(() => server.onShutdown?.(req));
}

function failShutdown(server: Server, st: ShutdownState): void {
  log(server, 'warning', 'Errors trying to shut down the server. Check the logs for more information.');
  cancelShutdown(server, st);
}

/** Redis's cancelShutdown: the waiting callers get the error, writes resume. */
function cancelShutdown(server: Server, st: ShutdownState): void {
  st.deadline = 0;
  st.signalled = false;
  const waiting = st.waiting;
  st.waiting = [];
  for (const c of waiting) {
    if (c.closed) continue;
    if (c.blocked !== null) server.blocking.unblock(c);
    c.addError('ERR Errors trying to SHUTDOWN. Check logs.');
    setImmediate(() => {
      if (!c.closed) server.resume(c);
    });
  }
  setShutdownPause(server, false);
}
