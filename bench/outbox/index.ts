import { randomBytes } from 'node:crypto';
import { createMemoryBus } from '@repopulse/bus-memory';
import { createRedisBus } from '@repopulse/bus-redis';
import type { EventBus } from '@repopulse/events-core';
import { deleteKeys } from '@repopulse/test-support';
import { median, num, ratio, spread, table } from '../markdown';
import type { BenchContext, BenchSection, ChartBar } from '../scenario';
import { drainVsPublish } from './backlog-drain';
import { commitLatency, latencyPercentiles } from './commit-latency';
import { REPOSITORIES } from './reference-app-tasks';
import { postgresTransactionCost, sqliteTransactionCost, type TransactionCost } from './transaction-cost';

const perRound = (a: number[], b: number[]) => a.map((x, i) => x / (b[i] as number));

/**
 * The transactional outbox (`npm run bench -- outbox`): what `enqueue` adds to a task-update
 * transaction (SQLite, Postgres), commit → SSE latency through the relay next to a direct publish,
 * and the relay draining a backlog next to the bus's own publish rate.
 */
export async function outbox({ quick, redisUrl, log }: BenchContext): Promise<BenchSection> {
  const rounds = quick ? 1 : 5;
  const bars: ChartBar[] = [];
  const out: string[] = ['## Transactional outbox', ''];

  // 1. Transaction cost.
  const txOps = quick ? 2_000 : 20_000;
  const pgOps = quick ? 1_000 : 8_000;
  const pgWorkers = 8;
  log('outbox: transaction cost (SQLite)…');
  const sqlite = await sqliteTransactionCost(txOps, rounds, 'NORMAL');
  const sqliteFull = await sqliteTransactionCost(Math.round(txOps / 20), rounds, 'FULL');
  log('outbox: transaction cost (Postgres)…');
  const postgres = await postgresTransactionCost(pgOps, rounds, pgWorkers);
  const costRow = (name: string, cost: TransactionCost) => {
    const ratios = perRound(cost.plain, cost.enqueue);
    return [
      name,
      num(median(cost.plain)),
      spread(cost.plain),
      num(median(cost.enqueue)),
      spread(cost.enqueue),
      ratio(median(ratios)),
      `${ratio(Math.min(...ratios))}–${ratio(Math.max(...ratios))}`,
    ];
  };
  out.push(
    '### A task-update transaction, with `enqueue` and without any event',
    '',
    'The reference app’s task status change, as its task runner makes it: `TaskService.setStatus` reads the',
    'task and its repository, updates the task row, recomputes the repository’s status from its tasks',
    '(updating it when it changes) and, in the `enqueue` variant, enqueues `task.status_changed` (and',
    '`repo.status_changed` on three topics when the repository changes, in one `enqueueMany` as the app',
    'does), each a fresh `createEvent`, all in',
    `one transaction. ${num(REPOSITORIES)} repositories of five tasks, each task cycling \`queued → running →`,
    'completed → pending`. SQLite: the app’s own schema, code and pragmas (WAL, `BEGIN IMMEDIATE`),',
    `${num(txOps)} transactions per round with \`synchronous = NORMAL\` as the app runs it and`,
    `${num(Math.round(txOps / 20))} with \`FULL\`, SQLite's default, which syncs each commit; one at a time. Postgres`,
    '(the shared local server, `fsync` on): the same statements on the same tables and indexes,',
    `${num(pgOps)} per round from ${pgWorkers} pooled clients at once, each on its own repository (the list topics`,
    'are shared, as in the app). The relay publishes to the memory bus: on SQLite between the measured',
    'loops (they never yield), on Postgres during them (woken by each commit). Without `enqueue` the',
    `transaction is the same, with no event at all. ${rounds} interleaved round(s) after a warm-up; the cost is`,
    'the time per transaction with `enqueue` over the time without, per round.',
    '',
    table([
      ['database', 'plain tx/s', 'spread', 'with enqueue tx/s', 'spread', 'cost (median)', 'cost per round'],
      costRow('SQLite, `synchronous = NORMAL`', sqlite),
      costRow('SQLite, `synchronous = FULL`', sqliteFull),
      ...(postgres ? [costRow('Postgres', postgres)] : [['Postgres', 'not reachable in this run']]),
    ]),
    '',
    `Target: ≤ 1.30×. Measured ${ratio(median(perRound(sqlite.plain, sqlite.enqueue)))} on SQLite (NORMAL), ${ratio(
      median(perRound(sqliteFull.plain, sqliteFull.enqueue)),
    )} on SQLite (FULL)${
      postgres ? ` and ${ratio(median(perRound(postgres.plain, postgres.enqueue)))} on Postgres` : ''
    }.`,
    '',
    'Each event is a row in the same commit: in WAL mode a commit writes every page it changed, and the',
    'outbox adds its table’s last page (it has no index on pending rows) to the two or three the update',
    'changes (3.5 pages per transaction instead of 2.2). With `FULL`, where each commit waits for the disk,',
    'it costs little in proportion. On Postgres the cost is a round trip per `enqueue` or `enqueueMany`',
    '(one or two per transaction), a row and one index entry per event, the relay’s statements (each',
    'marks what the previous one read and reads every waiting topic, at most one per 5 ms: a fraction of',
    'one per transaction), and the per-topic lock, held to the commit, that keeps a topic in commit order',
    '(the list topics are shared by every repository).',
    '',
  );
  bars.push({
    label: 'outbox tx cost SQLite',
    value: median(perRound(sqlite.plain, sqlite.enqueue)),
    target: 1.3,
    better: 'lower',
  });
  if (postgres) {
    bars.push({
      label: 'outbox tx cost Postgres',
      value: median(perRound(postgres.plain, postgres.enqueue)),
      target: 1.3,
      better: 'lower',
    });
  }

  // 2. Commit → SSE latency.
  const clients = quick ? 10 : 50;
  const rate = 100;
  const seconds = quick ? 2 : 10;
  const latencies: { direct: { p50: number; p99: number }; outbox: { p50: number; p99: number } }[] = [];
  for (let round = 0; round < rounds; round++) {
    log(`outbox: commit → SSE latency, round ${round + 1}…`);
    const measured = await commitLatency(clients, rate, seconds);
    latencies.push({
      direct: latencyPercentiles(measured.direct),
      outbox: latencyPercentiles(measured.outbox),
    });
  }
  const lat = (variant: 'direct' | 'outbox', p: 'p50' | 'p99') => latencies.map((l) => l[variant][p]);
  const p99Ratios = latencies.map((l) => l.outbox.p99 / l.direct.p99);
  out.push(
    '### Commit → SSE client latency: through the outbox, and a direct publish',
    '',
    `One memory bus, one sse-express handler, ${clients} SSE clients on real sockets (in the same process);`,
    `${rate} task updates per second for ${seconds} s, alternating: **direct** commits the update, then calls`,
    '`bus.publish` (what an app did before the outbox); **outbox** enqueues the event in the transaction',
    'and the relay publishes it after the commit wake-up. Latency runs from the transaction’s return to',
    `each client’s receipt; median over ${rounds} round(s), spread beside it.`,
    '',
    table([
      ['variant', 'p50 ms', 'p50 spread', 'p99 ms', 'p99 spread'],
      ...(['direct', 'outbox'] as const).map((v) => [
        v === 'direct' ? 'commit, then `bus.publish`' : '`outbox.enqueue` in the transaction',
        num(median(lat(v, 'p50')), 2),
        spread(lat(v, 'p50'), 2),
        num(median(lat(v, 'p99')), 2),
        spread(lat(v, 'p99'), 2),
      ]),
    ]),
    '',
    `Target: outbox p99 ≤ 2× direct. Measured ${ratio(median(p99Ratios))} (per round ${ratio(Math.min(...p99Ratios))}–${ratio(Math.max(...p99Ratios))}).`,
    '',
  );
  bars.push({ label: 'outbox p99 vs direct publish', value: median(p99Ratios), target: 2, better: 'lower' });

  // 3. Draining a backlog.
  const events = quick ? 10_000 : 100_000;
  const prefix = `bench:outbox:${randomBytes(4).toString('hex')}:`;
  const rows: string[][] = [];
  const drainBars: ChartBar[] = [];
  const measure = async (name: string, makeBus: () => EventBus, topics: number) => {
    log(`outbox: draining ${num(events)} events, ${name}, ${topics} topic(s)…`);
    const bus = makeBus();
    try {
      const rates = await drainVsPublish(bus, topics, events, rounds, log);
      const ratios = perRound(rates.drain, rates.publish);
      rows.push([
        name,
        String(topics),
        num(median(rates.publish)),
        spread(rates.publish),
        num(median(rates.drain)),
        spread(rates.drain),
        ratio(median(ratios)),
        `${ratio(Math.min(...ratios))}–${ratio(Math.max(...ratios))}`,
      ]);
      drainBars.push({
        label: `outbox drain ${name} ${topics}t`,
        value: median(ratios),
        target: 0.5,
        better: 'higher',
      });
    } finally {
      await bus.close();
    }
  };
  await measure('memory', () => createMemoryBus({ historyLimit: 1000 }), 100);
  try {
    await measure('Redis', () => createRedisBus({ url: redisUrl, keyPrefix: prefix }), 100);
    await measure('Redis', () => createRedisBus({ url: redisUrl, keyPrefix: prefix }), 1);
  } finally {
    await deleteKeys(redisUrl, prefix).catch(() => {});
  }
  out.push(
    `### Draining a backlog of ${num(events)} events`,
    '',
    `${num(events)} fresh events committed to SQLite while no relay ran (an outage), spread over the topics;`,
    'then a relay starts, timed until every event reached a subscriber. Next to it, the bus’s own publish',
    'rate: as many fresh `createEvent`s published to as many topics, 64 in flight per topic (the relay’s',
    '`maxInFlight`), topics in parallel, timed the same way. Redis is the local server. Interleaved, median',
    `over ${rounds} round(s) after a warm-up.`,
    '',
    table([
      [
        'bus',
        'topics',
        'publish events/s',
        'spread',
        'drain events/s',
        'spread',
        'drain vs publish',
        'per round',
      ],
      ...rows,
    ]),
    '',
    'Target: drain ≥ 0.5× the bus’s publish rate.',
  );
  bars.push(...drainBars);
  return { markdown: out.join('\n'), bars };
}
