/**
 * The idle-time young-generation reclaimer (src/server/memory-reclaim.ts):
 * its schedule against fake hooks (quiet time, V8's rate window, activity
 * resetting it, attempts, counter resets), then once against the real V8:
 * after a burst that grows the young generation, it must shrink back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryReclaimer, exposeGc, youngGenerationBytes, startMemoryReclaim, type ReclaimHooks } from '../../src/server/memory-reclaim.js';
import type { Server } from '../../src/server/server.js';

const MB = 1 << 20;

/** Hooks over plain fields; collectYoung shrinks the young generation when `shrinkOnCollect(n)` says so. */
function fake(shrinkOnCollect: (n: number) => boolean = (n) => n >= 2) {
  const s = { time: 0, commands: 0, input: 0, young: 32 * MB, collected: 0 };
  const hooks: ReclaimHooks = {
    now: () => s.time,
    commands: () => s.commands,
    inputBytes: () => s.input,
    youngBytes: () => s.young,
    collectYoung: () => {
      s.collected++;
      if (shrinkOnCollect(s.collected)) s.young = 1 * MB;
    },
  };
  return { s, hooks };
}

/** Advances time in 250 ms ticks for `ms`, adding `commandsPerTick` each tick. */
function run(r: MemoryReclaimer, s: { time: number; commands: number }, ms: number, commandsPerTick = 0): void {
  for (let t = 0; t < ms; t += 250) {
    s.time += 250;
    s.commands += commandsPerTick;
    r.tick();
  }
}

test('after a quiet second it collects once, then again after the rate window, and stops once shrunk', () => {
  const { s, hooks } = fake();
  const r = new MemoryReclaimer(hooks);
  run(r, s, 3000, 10000); // a burst: 40,000 commands/s
  assert.equal(s.collected, 0);
  run(r, s, 1000);
  assert.equal(s.collected, 1, 'first collection after 1 s of quiet');
  run(r, s, 5000);
  assert.equal(s.collected, 1, 'nothing inside the 5.5 s rate window');
  run(r, s, 750);
  assert.equal(s.collected, 2);
  assert.equal(r.shrinks, 1);
  assert.equal(s.young, 1 * MB);
  run(r, s, 60000);
  assert.equal(s.collected, 2, 'settled: no more collections while quiet');
});

test('activity during the wait restarts the schedule', () => {
  const { s, hooks } = fake();
  const r = new MemoryReclaimer(hooks);
  run(r, s, 1000, 10000);
  run(r, s, 1000);
  assert.equal(s.collected, 1, 'first collection at t=2000');
  run(r, s, 3000);
  run(r, s, 500, 10000); // a new burst before the window ends (at 7500)
  run(r, s, 750);
  assert.equal(s.collected, 1, 'no collection inside the new quiet second');
  run(r, s, 250);
  assert.equal(s.collected, 2, 'a new first collection after the new quiet second (t=6750)');
  run(r, s, 5250);
  assert.equal(s.collected, 2, 'the old schedule (t=7500) was cancelled: the window counts from t=6750');
  assert.equal(r.shrinks, 0);
  run(r, s, 250);
  assert.equal(s.collected, 3);
  assert.equal(r.shrinks, 1);
});

test('a trickle of commands and input below the thresholds counts as quiet', () => {
  const { s, hooks } = fake();
  const r = new MemoryReclaimer(hooks);
  run(r, s, 1000, 10000);
  run(r, s, 8000, 20); // 80 commands/s, under 100
  assert.equal(r.shrinks, 1);
  const g = fake();
  const r2 = new MemoryReclaimer(g.hooks);
  for (let t = 0; t < 8000; t += 250) {
    g.s.time += 250;
    g.s.input += 1 << 20; // 4 MB/s of input, a few large commands
    r2.tick();
  }
  assert.equal(g.s.collected, 0);
});

test('a young generation that is not grown is left alone', () => {
  const { s, hooks } = fake();
  s.young = 2 * MB;
  const r = new MemoryReclaimer(hooks);
  run(r, s, 1000, 10000);
  run(r, s, 20000);
  assert.equal(s.collected, 0);
});

test('gives up after maxAttempts when V8 keeps the young generation', () => {
  const { s, hooks } = fake(() => false);
  const r = new MemoryReclaimer(hooks, { maxAttempts: 3 });
  run(r, s, 1000, 10000);
  run(r, s, 60000);
  assert.equal(s.collected, 4, 'the accounting reset plus three attempts');
  assert.equal(r.shrinks, 0);
  run(r, s, 250, 10000); // activity re-arms it
  run(r, s, 1250);
  assert.equal(s.collected, 5);
});

test('counters going backwards (CONFIG RESETSTAT) count as activity', () => {
  const { s, hooks } = fake();
  s.commands = 1_000_000;
  const r = new MemoryReclaimer(hooks);
  run(r, s, 750);
  s.commands = 0;
  s.time += 250;
  r.tick();
  run(r, s, 750);
  assert.equal(s.collected, 0, 'the reset restarted the quiet second');
  run(r, s, 250);
  assert.equal(s.collected, 1);
});

test('with the real V8: a grown young generation shrinks back within the window', async () => {
  assert.equal(typeof exposeGc(), 'function');
  // Objects that survive a few scavenges make V8 grow the young generation.
  let keep: object[] | null = [];
  for (let i = 0; i < 2_000_000; i++) {
    keep.push({ i, s: 'x' + i });
    if (keep.length > 300_000) keep = keep.slice(150_000);
  }
  keep = null;
  assert.ok(youngGenerationBytes() > 8 * MB, `young generation grew (${youngGenerationBytes()} bytes)`);
  const stub = { stats: { totalCommands: 0, netInputBytes: 0 } } as unknown as Server;
  const h = startMemoryReclaim(stub, { intervalMs: 100 });
  assert.ok(h !== null);
  try {
    const deadline = Date.now() + 15000;
    while (h.reclaimer.shrinks === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(h.reclaimer.shrinks, 1);
    assert.ok(youngGenerationBytes() <= 4 * MB, `young generation back to ${youngGenerationBytes()} bytes`);
  } finally {
    h.stop();
  }
});
