#!/usr/bin/env node
// npm run bench:pubsub: PUBLISH to N subscribers (1, 10, 100) on Mnemo and real
// Redis in the same run; reports messages delivered per second and the ratio
// Mnemo/Redis. One publisher pipelines PUBLISH in windows; each subscriber is
// a raw socket counting whole message frames; the clock stops when every
// subscriber has every message.
// Env: BENCH_PUBSUB_DELIVERIES (default 2000000, messages x subscribers per run),
//      BENCH_PUBSUB_SIZE (payload bytes, default 64), BENCH_ROUNDS (default 2),
//      BENCH_PUBSUB_SUBSCRIBERS (default "1,10,100").
import { connect } from 'node:net';
import { startRedis, startMnemo, encode, ratio } from './lib.mjs';

const deliveries = Number(process.env.BENCH_PUBSUB_DELIVERIES ?? 2_000_000);
const size = Number(process.env.BENCH_PUBSUB_SIZE ?? 64);
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const fanouts = (process.env.BENCH_PUBSUB_SUBSCRIBERS ?? '1,10,100').split(',').map(Number);
const CHANNEL = 'bench:channel';
/** PUBLISH commands per pipelined batch, and batches kept in flight. */
const BATCH = 256;
const WINDOW = 4;

function open(port) {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    s.setNoDelay(true);
    s.once('error', reject);
    s.once('connect', () => resolve(s));
  });
}

/** A subscriber that counts bytes; every message frame has the same length. */
async function subscriber(port) {
  const s = await open(port);
  const confirm = `*3\r\n$9\r\nsubscribe\r\n$${CHANNEL.length}\r\n${CHANNEL}\r\n:1\r\n`;
  const sub = { socket: s, bytes: 0, onData: null };
  await new Promise((resolve) => {
    let got = '';
    const first = (d) => {
      got += d.toString('latin1');
      if (got.length >= confirm.length) {
        s.off('data', first);
        sub.bytes = got.length - confirm.length;
        s.on('data', (chunk) => {
          sub.bytes += chunk.length;
          sub.onData?.();
        });
        resolve();
      }
    };
    s.on('data', first);
    s.write(encode(['SUBSCRIBE', CHANNEL]));
  });
  return sub;
}

/** Publishes `count` messages with a window of pipelined batches; resolves when all replies arrived. */
async function publishAll(port, count, payload) {
  const s = await open(port);
  const batch = Buffer.from(encode(['PUBLISH', CHANNEL, payload]).repeat(BATCH), 'latin1');
  const batches = Math.ceil(count / BATCH);
  await new Promise((resolve) => {
    let sent = 0;
    let replies = 0;
    const send = () => {
      while (sent < batches && sent - Math.floor(replies / BATCH) < WINDOW) {
        s.write(batch);
        sent++;
      }
    };
    s.on('data', (d) => {
      // Every reply is one integer line.
      for (let i = 0; i < d.length; i++) if (d[i] === 10) replies++;
      if (replies >= batches * BATCH) resolve();
      else send();
    });
    send();
  });
  s.destroy();
  return batches * BATCH;
}

async function run(server, n) {
  const payload = 'p'.repeat(size);
  const frame = `*3\r\n$7\r\nmessage\r\n$${CHANNEL.length}\r\n${CHANNEL}\r\n$${size}\r\n${payload}\r\n`.length;
  const subs = [];
  for (let i = 0; i < n; i++) subs.push(await subscriber(server.port));
  const messages = Math.max(BATCH, Math.floor(deliveries / n / BATCH) * BATCH);
  const start = performance.now();
  const allDelivered = Promise.all(
    subs.map(
      (sub) =>
        new Promise((resolve) => {
          const check = () => {
            if (sub.bytes >= messages * frame) resolve();
          };
          sub.onData = check;
          check();
        }),
    ),
  );
  await publishAll(server.port, messages, payload);
  await allDelivered;
  const seconds = (performance.now() - start) / 1000;
  for (const sub of subs) sub.socket.destroy();
  return { delivered: (messages * n) / seconds, published: messages / seconds };
}

const redis = await startRedis();
const mnemo = await startMnemo();
const rows = [];
try {
  for (const n of fanouts) {
    const best = { redis: { delivered: 0, published: 0 }, mnemo: { delivered: 0, published: 0 } };
    // Alternate servers each round and keep the best of each: the machine is shared and noisy.
    for (let r = 0; r < rounds; r++) {
      for (const srv of r % 2 === 0 ? [redis, mnemo] : [mnemo, redis]) {
        const res = await run(srv, n);
        if (res.delivered > best[srv.name].delivered) best[srv.name] = res;
      }
    }
    rows.push({ n, redis: best.redis, mnemo: best.mnemo });
  }
} finally {
  await redis.stop();
  await mnemo.stop();
}

console.log(`\nPub/Sub fan-out (${size}-byte payloads, ~${deliveries} deliveries per run, best of ${rounds} alternating rounds)`);
console.log('| subscribers | redis msgs/s delivered | mnemo msgs/s delivered | mnemo/redis | redis PUBLISH/s | mnemo PUBLISH/s |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.n} | ${Math.round(r.redis.delivered)} | ${Math.round(r.mnemo.delivered)} | ${ratio(r.mnemo.delivered, r.redis.delivered)} | ${Math.round(r.redis.published)} | ${Math.round(r.mnemo.published)} |`,
  );
}
