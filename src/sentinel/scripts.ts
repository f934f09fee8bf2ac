/**
 * notification-script and client-reconfig-script: each event or
 * reconfiguration queues a run of the script with its arguments; at most
 * 16 run at once and 256 wait, a run is killed after script-max-runtime,
 * and an exit code of 1 retries it later (script-retry-delay, up to 10
 * times), as Redis's Sentinel does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve as resolvePath } from 'node:path';
import { log } from '../persistence/log.js';
import type { Sentinel } from './sentinel.js';

const MAX_RUNNING = 16;
const MAX_QUEUE = 256;
const MAX_RETRY = 10;

interface Job {
  argv: string[];
  retry: number;
  startTime: number;
  child: ChildProcess | null;
}

export class Scripts {
  private readonly queue: Job[] = [];

  constructor(private readonly sentinel: Sentinel) {}

  get running(): number {
    return this.queue.filter((j) => j.child !== null).length;
  }

  get queueLength(): number {
    return this.queue.length;
  }

  schedule(path: string, args: string[]): void {
    this.queue.push({ argv: [path, ...args], retry: 0, startTime: 0, child: null });
    if (this.queue.length > MAX_QUEUE) {
      // Too many waiting: the oldest one not running goes.
      const i = this.queue.findIndex((j) => j.child === null);
      if (i >= 0) this.queue.splice(i, 1);
      log(this.sentinel.server, 'warning', 'Sentinel scripts queue is full: dropping the oldest pending script');
    }
  }

  /** Starts what may start and kills what ran too long (called by the Sentinel timer). */
  run(): void {
    const now = this.sentinel.now();
    for (const job of this.queue) {
      if (job.child !== null && now - job.startTime > this.sentinel.timing['script-max-runtime']) {
        log(this.sentinel.server, 'warning', `-script-timeout ${job.argv[0]} ${job.child.pid}`);
        job.child.kill('SIGKILL');
      }
    }
    let running = this.running;
    for (const job of this.queue) {
      if (running >= MAX_RUNNING) break;
      if (job.child !== null || job.startTime > now) continue;
      this.start(job);
      running++;
    }
  }

  private start(job: Job): void {
    job.startTime = this.sentinel.now();
    job.retry++;
    let child: ChildProcess;
    try {
      const dir = this.sentinel.dir;
      child = spawn(resolvePath(dir, job.argv[0]), job.argv.slice(1), { stdio: 'ignore', cwd: dir });
    } catch {
      this.finish(job, 2);
      return;
    }
    job.child = child;
    child.on('error', () => this.finish(job, 2));
    child.on('exit', (code, signal) => this.finish(job, signal ? -1 : (code ?? 0)));
    log(this.sentinel.server, 'debug', `+script-child ${child.pid}`);
  }

  private finish(job: Job, code: number): void {
    if (!this.queue.includes(job)) return;
    job.child = null;
    if (code === 1 && job.retry < MAX_RETRY) {
      // Exit code 1: try again later.
      job.startTime = this.sentinel.now() + this.sentinel.timing['script-retry-delay'];
      return;
    }
    if (code !== 0) log(this.sentinel.server, 'warning', `-script-error ${job.argv[0]} ${code}`);
    this.queue.splice(this.queue.indexOf(job), 1);
  }

  /** SENTINEL PENDING-SCRIPTS: argv, flags, pid, run-time or run-delay, retry-num. */
  pending(): Array<{ argv: string[]; running: boolean; pid: number; time: number; retry: number }> {
    const now = this.sentinel.now();
    return this.queue.map((j) => ({
      argv: j.argv,
      running: j.child !== null,
      pid: j.child?.pid ?? 0,
      time: j.child !== null ? now - j.startTime : j.startTime > now ? j.startTime - now : 0,
      retry: j.retry,
    }));
  }

  killAll(): void {
    for (const j of this.queue) j.child?.kill('SIGKILL');
    this.queue.length = 0;
  }
}
