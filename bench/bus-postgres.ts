import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPostgresBus, type PostgresBus } from '@repopulse/bus-postgres';
import { createRedisBus } from '@repopulse/bus-redis';
import { type AnyEnvelope, createEvent, type EventBus } from '@repopulse/events-core';
import { POSTGRES_BIN, type PostgresProcess, startPostgres } from '@repopulse/test-support';
import { Redis } from 'ioredis';
import pg from 'pg';
import { median, num, ratio, spread, table } from './markdown';
import type { BenchContext, BenchSection } from './scenario';

/** Publishers (and pgbench clients) running at once in the throughput part. */
const CONCURRENCY = 8;

/** A fresh event per publish, as an app makes them (~260 B of JSON). */
const makeEvent = (): AnyEnvelope =>
  createEvent('task.progress', { phase: 'llm', percent: 40, message: 'x'.repeat(200) }, { repo_id: 1 });

/**
 * `@repopulse/bus-postgres` on a Postgres of its own (initdb in a temp dir, `fsync=off` for both
 * sides alike), in interleaved rounds:
 *
 * 1. publish → delivery events/s with {@link CONCURRENCY} publishers awaiting their publishes, on one
 *    topic and on one topic each, next to `pgbench -c 8` running the same SQL a bare outbox would
 *    (`BEGIN; INSERT` the event; `pg_notify`; `COMMIT`) with one connection LISTENing;
 * 2. publish → delivery latency (p50/p99) at a steady rate, next to the Redis bus;
 * 3. the cost of a publish inside the caller's transaction next to a bare `INSERT` of the event in
 *    the same transaction (each transaction also updates a row, as the app's change would).
 */
export async function busPostgres({ quick, redisUrl, log }: BenchContext): Promise<BenchSection> {
  const rounds = quick ? 1 : 5;
  const started = { at: new Date().toISOString(), load: loadavg()[0] ?? Number.NaN };
  const server = await startPostgres();
  const pool = new pg.Pool({ connectionString: server.url, max: CONCURRENCY + 2 });
  const bus = createPostgresBus({ pool, historyLimit: 1000 });
  const redisPrefix = `bench-pg:${process.pid}:${Date.now().toString(36)}:`;
  const redis = createRedisBus({ url: redisUrl, keyPrefix: redisPrefix });
  const work = mkdtempSync(join(tmpdir(), 'repopulse-bench-pg-'));
  try {
    await pool.query(`CREATE TABLE bench_events (id bigserial PRIMARY KEY, topic text NOT NULL,
      event_id text NOT NULL, envelope text NOT NULL)`);
    await pool.query('CREATE TABLE bench_tasks (id int PRIMARY KEY, status text, updated int)');
    await pool.query("INSERT INTO bench_tasks SELECT g, 'running', 0 FROM generate_series(1, 100) g");
    await bus.head('warm-up'); // creates the bus's tables

    const throughputOps = quick ? 1000 : 5000;
    const pgbenchSeconds = quick ? 2 : 5;
    const throughput = { oneTopic: [] as number[], ownTopics: [] as number[], pgbench: [] as number[] };
    const latency = { postgres: [] as Latency[], redis: [] as Latency[] };
    const inTransaction = { bare: [] as number[], bus: [] as number[], none: [] as number[] };
    const latencyRate = 500;
    const latencySeconds = quick ? 1 : 3;
    const txOps = quick ? 200 : 500;
    const script = join(work, 'outbox.sql');
    writeFileSync(script, pgbenchScript(JSON.stringify(makeEvent())));

    for (let round = 0; round <= rounds; round++) {
      const warmUp = round === 0;
      log(`bus-postgres round ${round}/${rounds}${warmUp ? ' (warm-up)' : ''}`);
      const one = await busThroughput(bus, throughputOps, () => `one:${round}`);
      const own = await busThroughput(bus, throughputOps, (publisher) => `own:${round}:${publisher}`);
      const bench = await pgbench(server, script, pgbenchSeconds);
      const pgLatency = await steadyLatency(bus, `lat:${round}`, latencyRate, latencySeconds);
      const redisLatency = await steadyLatency(redis, `lat:${round}`, latencyRate, latencySeconds);
      const tx = await transactionCost(pool, bus, txOps, round);
      if (warmUp) continue;
      throughput.oneTopic.push(one);
      throughput.ownTopics.push(own);
      throughput.pgbench.push(bench);
      latency.postgres.push(pgLatency);
      latency.redis.push(redisLatency);
      inTransaction.none.push(tx.none);
      inTransaction.bare.push(tx.bare);
      inTransaction.bus.push(tx.bus);
    }

    const perRound = (a: number[], b: number[]) => a.map((x, i) => x / (b[i] as number));
    const ratios = (values: number[]) =>
      `${ratio(median(values))} (per round ${values.map((v) => v.toFixed(2)).join(', ')})`;
    const oneVsBench = perRound(throughput.oneTopic, throughput.pgbench);
    const ownVsBench = perRound(throughput.ownTopics, throughput.pgbench);
    const p99 = (samples: Latency[]) => samples.map((s) => s.p99);
    const p50 = (samples: Latency[]) => samples.map((s) => s.p50);
    const busCost = perRound(inTransaction.bus, inTransaction.bare);
    const markdown = [
      '## Postgres bus throughput next to pgbench and latency next to the Redis bus',
      '',
      `\`npm run bench -- bus-postgres\`: ${rounds} interleaved rounds after a warm-up round, on a Postgres 15 of its own (initdb in a temp directory, \`fsync=off\`, the same server for every variant); a fresh \`createEvent\` per publish (~${num(JSON.stringify(makeEvent()).length)} B of JSON). Median and min–max over rounds. This section started at ${started.at} with a 1-minute load average of ${started.load.toFixed(2)}.`,
      '',
      `### Throughput: ${CONCURRENCY} publishers, each awaiting its publish`,
      '',
      table([
        ['variant', 'events/s (median)', 'min–max'],
        [
          `bus-postgres, ${CONCURRENCY} publishers on one topic (${num(throughputOps)} events, until delivered to one subscriber)`,
          num(median(throughput.oneTopic)),
          spread(throughput.oneTopic),
        ],
        [
          `bus-postgres, ${CONCURRENCY} publishers on a topic each (${num(throughputOps)} events, until delivered to one subscriber per topic)`,
          num(median(throughput.ownTopics)),
          spread(throughput.ownTopics),
        ],
        [
          `\`pgbench -c ${CONCURRENCY} -T ${pgbenchSeconds}\`: \`BEGIN; INSERT\` the event; \`pg_notify\`; \`COMMIT\` (one connection LISTENing)`,
          num(median(throughput.pgbench)),
          spread(throughput.pgbench),
        ],
      ]),
      '',
      `- bus-postgres ÷ pgbench, one topic: ${ratios(oneVsBench)}; a topic each: ${ratios(ownVsBench)} (goal ≥ 0.5×).`,
      `- On one topic the publishes that queue while a statement runs go out together in the next (one transaction, one notification per batch); pgbench commits one transaction per event. The subscribers are on the publishing bus, which hands its own batches to them without reading them back when nothing came between (another process's events are read by SQL on their notification).`,
      '',
      `### Latency: publish → delivery at ${latencyRate} events/s for ${latencySeconds} s, one subscriber`,
      '',
      table([
        ['bus', 'p50 ms (median)', 'p50 min–max', 'p99 ms (median)', 'p99 min–max'],
        [
          '`@repopulse/bus-postgres`',
          num(median(p50(latency.postgres)), 2),
          spread(p50(latency.postgres), 2),
          num(median(p99(latency.postgres)), 2),
          spread(p99(latency.postgres), 2),
        ],
        [
          '`@repopulse/bus-redis` (the shared Redis)',
          num(median(p50(latency.redis)), 2),
          spread(p50(latency.redis), 2),
          num(median(p99(latency.redis)), 2),
          spread(p99(latency.redis), 2),
        ],
      ]),
      '',
      `- p99 bus-postgres ÷ bus-redis: ${ratios(perRound(p99(latency.postgres), p99(latency.redis)))}.`,
      '',
      `### Inside the caller's transaction: ${num(txOps)} sequential transactions, each updating a row`,
      '',
      table([
        ['transaction', 'ms per transaction (median)', 'min–max'],
        ['`UPDATE` the row only', num(median(inTransaction.none), 3), spread(inTransaction.none, 3)],
        [
          '`UPDATE` + a bare `INSERT` of the event',
          num(median(inTransaction.bare), 3),
          spread(inTransaction.bare, 3),
        ],
        [
          '`UPDATE` + `bus.publish(topic, event, { client })`',
          num(median(inTransaction.bus), 3),
          spread(inTransaction.bus, 3),
        ],
      ]),
      '',
      `- in-transaction publish ÷ bare \`INSERT\`, per transaction: ${ratios(busCost)}.`,
      '',
    ].join('\n');
    return {
      markdown,
      bars: [
        {
          label: 'bus-postgres vs pgbench (one topic)',
          value: median(oneVsBench),
          target: 0.5,
          better: 'higher',
        },
      ],
    };
  } finally {
    await bus.close();
    await redis.close();
    const admin = new Redis(redisUrl);
    const keys = await admin.keys(`${redisPrefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    admin.disconnect();
    await pool.end();
    await server.destroy();
    rmSync(work, { recursive: true, force: true });
  }
}

/** `ops` events from {@link CONCURRENCY} publishers awaiting their publishes; events/s until all are delivered. */
async function busThroughput(bus: PostgresBus, ops: number, topicOf: (publisher: number) => string) {
  const topics = [...new Set(Array.from({ length: CONCURRENCY }, (_, i) => topicOf(i)))];
  let received = 0;
  const subscriptions = await Promise.all(topics.map((t) => bus.subscribe(t, () => void received++)));
  const start = process.hrtime.bigint();
  let issued = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, publisher) => {
      while (issued < ops) {
        issued++;
        await bus.publish(topicOf(publisher), makeEvent());
      }
    }),
  );
  while (received < ops) await new Promise((resolve) => setImmediate(resolve));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await Promise.all(subscriptions.map((s) => s.unsubscribe()));
  return ops / seconds;
}

/** The bare outbox pgbench runs: the event's row and the wake-up, in one transaction. */
function pgbenchScript(json: string): string {
  return [
    'BEGIN;',
    `INSERT INTO bench_events (topic, event_id, envelope) VALUES ('bench', md5(random()::text), '${json.replaceAll("'", "''")}');`,
    "SELECT pg_notify('bench', '');",
    'COMMIT;',
    '',
  ].join('\n');
}

/** Runs pgbench with the script for `seconds` while one connection LISTENs; its transactions per second. */
async function pgbench(server: PostgresProcess, script: string, seconds: number): Promise<number> {
  const listener = new pg.Client({ connectionString: server.url });
  await listener.connect();
  let notified = 0;
  listener.on('notification', () => void notified++);
  await listener.query('LISTEN bench');
  const args = ['-h', '127.0.0.1', '-p', String(server.port), '-U', 'postgres', '-n', '-f', script];
  args.push('-c', String(CONCURRENCY), '-j', '2', '-T', String(seconds), 'postgres');
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(join(POSTGRES_BIN, 'pgbench'), args, { maxBuffer: 1 << 20 }, (error, out) =>
      error ? reject(error) : resolve(out),
    );
  });
  await listener.end();
  const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout);
  if (!tps || notified === 0) throw new Error(`unexpected pgbench run (${notified} notified): ${stdout}`);
  return Number(tps[1]);
}

interface Latency {
  p50: number;
  p99: number;
}

/** Publishes at `rate` events/s for `seconds` on `topic`; publish → delivery latency percentiles in ms. */
async function steadyLatency(bus: EventBus, topic: string, rate: number, seconds: number): Promise<Latency> {
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const subscription = await bus.subscribe(topic, (delivery) => {
    if (delivery.reset) return;
    const at = sentAt.get(delivery.event.id);
    if (at !== undefined) latencies.push(performance.now() - at);
  });
  const total = rate * seconds;
  const start = performance.now();
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const event = makeEvent();
    sentAt.set(event.id, performance.now());
    pending.push(bus.publish(topic, event));
  }
  await Promise.all(pending);
  const deadline = Date.now() + 10_000;
  while (latencies.length < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  await subscription.unsubscribe();
  const sorted = latencies.sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99) };
}

/** Mean ms per transaction of `ops` sequential transactions, each updating a row, three ways. */
async function transactionCost(pool: pg.Pool, bus: PostgresBus, ops: number, round: number) {
  const client = await pool.connect();
  const perTransaction = async (extra: (i: number) => Promise<unknown>) => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < ops; i++) {
      await client.query('BEGIN');
      await client.query('UPDATE bench_tasks SET updated = updated + 1 WHERE id = $1', [(i % 100) + 1]);
      await extra(i);
      await client.query('COMMIT');
    }
    return Number(process.hrtime.bigint() - start) / 1e6 / ops;
  };
  try {
    const none = await perTransaction(async () => {});
    const bare = await perTransaction((i) => {
      const event = makeEvent();
      return client.query('INSERT INTO bench_events (topic, event_id, envelope) VALUES ($1, $2, $3)', [
        `tx:${round}:${i % 10}`,
        event.id,
        JSON.stringify(event),
      ]);
    });
    const published = await perTransaction((i) =>
      bus.publish(`tx:${round}:${i % 10}`, makeEvent(), { client }),
    );
    return { none, bare, bus: published };
  } finally {
    client.release();
  }
}
