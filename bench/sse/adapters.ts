import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createTestCertificate } from '@repopulse/test-support';
import { median, num, ratio, runStamp, spread, table } from '../markdown';
import type { BenchContext, BenchSection, ChartBar } from '../scenario';
import {
  ADAPTER_LABELS,
  ADAPTER_ROWS,
  type AdapterRow,
  type AdapterVariant,
  HTTP2_ROW,
  protocolOf,
} from './adapter-variants';
import { timedBurst } from './burst';
import { fitClients, type Pair, percentile } from './pair';
import { type Child, startChild } from './processes';

interface Sample {
  /** Burst deliveries/s: the median of the round's bursts. */
  burst: number;
  /** p99 ms, burst-sized set at 50 events/s. */
  p99: number;
  /** RSS growth per idle connection, bytes. */
  rss: number;
  /** p99 ms over the idle set at 5 events/s. */
  idleP99: number;
}

type Metric = keyof Sample;

/** The goals per adapter against the coalescing baseline on its own framework. */
const GOALS = { burst: 0.95, p99: 1.2, rss: 1.1 } as const;

/**
 * The adapter matrix: per framework, our adapter next to a hand-written coalescing server on the
 * same framework (burst deliveries/s, p99, RSS per idle connection), peers on Hono, and HTTP/2 next
 * to HTTP/1.1 over TLS on the same handler. `BENCH_IDLE_CLIENTS` sets the idle set (default 10,000)
 * for a quicker check; HTTP/2 uses at most `BENCH_H2_CLIENTS` (default 2,000) TLS sessions.
 */
export async function adapterMatrix({ quick, log }: BenchContext): Promise<BenchSection> {
  const started = Date.now();
  const stamp = runStamp();
  const idleWanted = Number(process.env.BENCH_IDLE_CLIENTS ?? (quick ? 300 : 10_000));
  const { clients: idleClients, note } = fitClients(idleWanted, log);
  const h2Clients = Math.min(idleClients, Number(process.env.BENCH_H2_CLIENTS ?? 2000));
  const { rows, withHttp2 } = chosenRows(process.env.BENCH_ADAPTERS);
  const sizes = {
    burstClients: quick ? 100 : 2000,
    events: quick ? 50 : 500,
    rounds: Number(process.env.BENCH_ADAPTER_ROUNDS ?? (quick ? 1 : 2)),
    bursts: Number(process.env.BENCH_ADAPTER_BURSTS ?? (quick ? 1 : 5)),
  };
  const tlsDir = mkdtempSync(join(os.tmpdir(), 'repopulse-bench-tls-'));
  const samples = new Map<AdapterVariant, Sample[]>();
  // One load process per protocol, reused across the variants (each variant gets a fresh server).
  const loads = new Map<string, Child>();
  try {
    const certificate = createTestCertificate();
    writeFileSync(join(tlsDir, 'key.pem'), certificate.key);
    writeFileSync(join(tlsDir, 'cert.pem'), certificate.cert);
    for (let round = 0; round < sizes.rounds; round++) {
      for (const row of withHttp2 ? [...rows, HTTP2_ROW] : rows) {
        // Every other round in reverse order: a variant is not always measured first (or last) in its row.
        const order = round % 2 === 0 ? row.variants : [...row.variants].reverse();
        for (const variant of order) {
          const idle = row === HTTP2_ROW ? h2Clients : idleClients;
          const protocol = protocolOf(variant);
          const load = loads.get(protocol) ?? (await startChild('load.ts', { BENCH_PROTOCOL: protocol }));
          loads.set(protocol, load);
          // Over TLS a burst is slower: a fifth of the events keeps the row's run short.
          const events = row === HTTP2_ROW ? sizes.events / 5 : sizes.events;
          const sample = await measure(variant, load, { ...sizes, events, idleClients: idle, tlsDir });
          samples.set(variant, [...(samples.get(variant) ?? []), sample]);
          log(
            `adapters round ${round + 1} ${variant}: burst ${num(sample.burst)}/s, p99 ${num(sample.p99, 1)} ms, ` +
              `${num(sample.rss / 1024, 1)} KB/conn, idle p99 ${num(sample.idleP99, 1)} ms`,
          );
        }
      }
    }
  } finally {
    await Promise.all([...loads.values()].map((load) => load.stop()));
    rmSync(tlsDir, { recursive: true, force: true });
  }
  const seconds = (Date.now() - started) / 1000;
  const med = (v: AdapterVariant, k: Metric) => median((samples.get(v) ?? []).map((s) => s[k]));
  const cell = (v: AdapterVariant, k: Metric, scale = 1, digits = 0) =>
    `${num(med(v, k) / scale, digits)} (${spread(
      (samples.get(v) ?? []).map((s) => s[k] / scale),
      digits,
    )})`;
  const rowTable = (rows: readonly AdapterRow[], against: (row: AdapterRow) => AdapterVariant) =>
    table([
      [
        'framework',
        'variant',
        'burst deliveries/s',
        'burst ×',
        'p99 ms',
        'p99 ×',
        'RSS / idle conn (KB)',
        'RSS ×',
        'idle p99 ms',
      ],
      ...rows.flatMap((row) =>
        row.variants.map((v) => {
          const base = against(row);
          return [
            row.label,
            ADAPTER_LABELS[v],
            cell(v, 'burst'),
            ratio(med(v, 'burst') / med(base, 'burst')),
            cell(v, 'p99', 1, 1),
            ratio(med(v, 'p99') / med(base, 'p99')),
            cell(v, 'rss', 1024, 1),
            ratio(med(v, 'rss') / med(base, 'rss')),
            cell(v, 'idleP99', 1, 1),
          ];
        }),
      ),
    ]);
  const ours = rows.map((row) => ({
    row,
    base: row.variants[0] as AdapterVariant,
    ours: row.variants[1] as AdapterVariant,
  }));
  const verdict = (value: number, goal: number, higher: boolean) =>
    `${ratio(value)} ${Number.isFinite(value) && (higher ? value >= goal : value <= goal) ? 'met' : '**missed**'}`;
  const [h1, h2] = HTTP2_ROW.variants as [AdapterVariant, AdapterVariant];
  const http2Section = () => [
    '',
    '### HTTP/2 next to HTTP/1.1 (TLS, the same handler)',
    '',
    `\`createNodeHandler\` on \`node:https\` and on \`node:http2\`'s \`createSecureServer\` (self-signed`,
    `certificate made with \`openssl\`), each client on a connection of its own (an HTTP/2 session per`,
    `client, as each browser tab has); ${num(h2Clients)} idle connections, bursts of ${num(sizes.events / 5)} events;`,
    `× is the ratio to HTTP/1.1.`,
    '',
    rowTable([HTTP2_ROW], () => h1),
    '',
    `HTTP/2 vs HTTP/1.1 over TLS: burst ${ratio(med(h2, 'burst') / med(h1, 'burst'))}, p99`,
    `${ratio(med(h2, 'p99') / med(h1, 'p99'))}, RSS per connection ${ratio(med(h2, 'rss') / med(h1, 'rss'))}.`,
  ];
  return {
    markdown: [
      '## Adapters: each framework next to a hand-written server on the same framework',
      '',
      stamp,
      `\`npm run bench -- adapters\` took ${num(seconds)} s.`,
      '',
      `Per framework, our adapter next to a hand-written coalescing server on the same framework (serialize`,
      `once, join one tick's frames, one write per stream per tick), all fed by one bus subscription with a`,
      `fresh \`createEvent\` per publish. Burst: ${num(sizes.burstClients)} clients, ${num(sizes.events)} events`,
      `of ~100 B at once, deliveries/s until every client has every event, the median of ${sizes.bursts} bursts one`,
      `after the other in each round (one burst is a fraction of a second); p99: the same clients at 50`,
      `events/s for 2 s. RSS: ${num(idleClients)} idle connections, server RSS growth per connection after GC;`,
      `idle p99 at 5 events/s. Latency is sampled on every 10th (20th when idle) client across the whole`,
      `set. Median over ${sizes.rounds} interleaved round(s) (a row's order reversed every other round), spread`,
      `(min–max) in parentheses; × is the ratio to`,
      `the row's coalescing baseline. A fresh server process per variant and round: the idle set first, then`,
      `(closed) the burst set. p99 \`—\`: the variant fell more than ${BEHIND_MS / 1000} s behind and was cut off (its`,
      `burst is then not measured); a burst not done in ${BURST_MS / 1000} s counts what arrived by then.`,
      ...(note ? ['', note] : []),
      '',
      rowTable(rows, (row) => row.variants[0] as AdapterVariant),
      '',
      table([
        ['adapter', `burst ≥ ${GOALS.burst}×`, `p99 ≤ ${GOALS.p99}×`, `RSS ≤ ${GOALS.rss}×`],
        ...ours.map(({ row, base, ours: v }) => [
          row.label,
          verdict(med(v, 'burst') / med(base, 'burst'), GOALS.burst, true),
          verdict(med(v, 'p99') / med(base, 'p99'), GOALS.p99, false),
          verdict(med(v, 'rss') / med(base, 'rss'), GOALS.rss, false),
        ]),
      ]),
      ...(withHttp2 ? http2Section() : []),
    ].join('\n'),
    bars: ours.flatMap(({ row, base, ours: v }): ChartBar[] => [
      {
        label: `${row.label.replace(/`/g, '')} burst`,
        value: med(v, 'burst') / med(base, 'burst'),
        target: GOALS.burst,
        better: 'higher',
      },
      {
        label: `${row.label.replace(/`/g, '')} RSS`,
        value: med(v, 'rss') / med(base, 'rss'),
        target: GOALS.rss,
        better: 'lower',
      },
    ]),
  };
}

interface Sizes {
  burstClients: number;
  events: number;
  /** Bursts per round; the round's figure is their median. */
  bursts: number;
  idleClients: number;
  tlsDir: string;
}

/** How long a slow peer may fall behind before its figure is cut off (it gets `—`). */
const BEHIND_MS = 5000;

/** How long a burst may take; a slower variant is given the rate of what arrived by then. */
const BURST_MS = 20_000;

/**
 * One variant, once, in a server process of its own: the idle set first (RSS growth per
 * connection, p99 at 5 events/s), then, with it closed, the burst set (p99 at 50 events/s, then
 * the burst). `load` is the scenario's load process for the variant's protocol.
 */
async function measure(variant: AdapterVariant, load: Child, sizes: Sizes): Promise<Sample> {
  const server = await startChild('server.ts', { BENCH_VARIANT: variant, BENCH_TLS_DIR: sizes.tlsDir });
  const pair = { server, load };
  try {
    const { port } = await server.call<{ port: number }>('ready');
    // Warm the route up (first-request allocations are not per connection).
    await load.call('connect', { n: 50, port });
    await load.call('disconnect');
    const before = await server.call<{ rss: number }>('memory');
    await load.call('connect', { n: sizes.idleClients, sampleEvery: 20, concurrency: 500, port });
    await new Promise((r) => setTimeout(r, 500));
    const after = await server.call<{ rss: number }>('memory');
    const idleP99 = await p99Of(pair, sizes.idleClients, 5, 2);
    await load.call('disconnect');
    await load.call('connect', { n: sizes.burstClients, sampleEvery: 10, port });
    const p99 = await p99Of(pair, sizes.burstClients, 50, 2);
    // A variant still behind would count its backlog as burst deliveries.
    const burst = Number.isFinite(p99) ? await burstMedian(pair, sizes) : Number.NaN;
    return { burst, p99, rss: (after.rss - before.rss) / sizes.idleClients, idleP99 };
  } finally {
    await load.call('disconnect');
    await server.stop();
  }
}

/**
 * The median of `sizes.bursts` bursts one after the other: a single burst of 1,000,000 deliveries
 * lasts about 0.3 s, so a few milliseconds of the machine's noise would decide a ratio. A burst cut
 * off at {@link BURST_MS} ends the series (its backlog would leak into the next burst).
 */
async function burstMedian(pair: Pair, sizes: Sizes): Promise<number> {
  const rates: number[] = [];
  for (let i = 0; i < sizes.bursts; i++) {
    const { rate, timedOut } = await timedBurst(pair, sizes.burstClients, sizes.events, BURST_MS);
    rates.push(rate);
    if (timedOut) break;
  }
  return median(rates);
}

/**
 * p99 publish→receive at `rate`/s for `seconds`, waiting until every client has every event (a
 * variant that falls more than {@link BEHIND_MS} behind gets `Infinity`: its late samples would be
 * missing, and the rest would flatter it).
 */
async function p99Of(pair: Pair, clients: number, rate: number, seconds: number): Promise<number> {
  await pair.load.call('reset');
  const count = rate * seconds;
  const done = pair.load.call<{ timedOut?: boolean }>('expect', {
    total: clients * count,
    timeoutMs: seconds * 1000 + BEHIND_MS,
  });
  await pair.server.call('publish', { count, rate, bytes: 100 });
  const { timedOut } = await done;
  if (timedOut) return Number.POSITIVE_INFINITY;
  const { latencies } = await pair.load.call<{ latencies: number[] }>('latencies');
  return percentile(
    latencies.sort((a, b) => a - b),
    99,
  );
}

/**
 * The rows `BENCH_ADAPTERS` names, for a quicker look at some adapters: a comma-separated list of
 * frameworks (`node`, `express`, `fastify`, `hono`, `h2`) and of single variants
 * (`hono:repopulse`; a row keeps its baseline); all when unset.
 */
function chosenRows(names: string | undefined): { rows: readonly AdapterRow[]; withHttp2: boolean } {
  if (!names) return { rows: ADAPTER_ROWS, withHttp2: true };
  const wanted = new Set(names.split(',').map((name) => name.trim()));
  const rows = ADAPTER_ROWS.flatMap((row) => {
    const [baseline, ...others] = row.variants as [AdapterVariant, ...AdapterVariant[]];
    if (wanted.has(baseline.split(':')[0] as string)) return [row];
    const picked = others.filter((variant) => wanted.has(variant));
    return picked.length > 0 ? [{ ...row, variants: [baseline, ...picked] }] : [];
  });
  return { rows, withHttp2: wanted.has('h2') };
}
