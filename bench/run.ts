import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchBusCluster } from './bus-cluster';
import { busPostgres } from './bus-postgres';
import { busPublish } from './bus-publish';
import { benchBusThroughput } from './bus-throughput';
import { machine } from './markdown';
import { memoryBusVsMitt } from './memory-bus';
import { otelCost } from './otel-cost';
import { outbox } from './outbox/index';
import type { BenchSection, ChartBar, Scenario } from './scenario';
import { adapterMatrix } from './sse/adapters';
import { burst } from './sse/burst';
import { churn } from './sse/churn';
import { idleConnections } from './sse/idle';
import { steadyLatency } from './sse/latency';
import { reconnectStorm } from './sse/storm';
import { stalledClientsScenario } from './stalled-clients';
import { ratioChart } from './svg-chart';

/** Every scenario, in report order: one line each. */
const SCENARIOS: Record<string, Scenario> = {
  burst,
  latency: steadyLatency,
  idle: idleConnections,
  churn,
  storm: reconnectStorm,
  'memory-bus': memoryBusVsMitt,
  'bus-publish': busPublish,
  'bus-throughput': async (context) => ({ markdown: await benchBusThroughput(context) }),
  'bus-cluster': async (context) => ({ markdown: await benchBusCluster(context) }),
  stalled: stalledClientsScenario,
  'bus-postgres': busPostgres,
  outbox,
  otel: otelCost,
  adapters: adapterMatrix,
};

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const outArg = args.indexOf('--out');
const only = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--out');
const unknown = only.filter((name) => !(name in SCENARIOS));
if (unknown.length > 0) {
  console.error(`unknown scenario(s): ${unknown.join(', ')}; known: ${Object.keys(SCENARIOS).join(', ')}`);
  process.exit(2);
}
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// Only a full run of every scenario rewrites the tracked report; quick or filtered runs go to a temp file.
const full = !quick && only.length === 0;
const out =
  outArg !== -1
    ? resolve(args[outArg + 1] ?? '')
    : full
      ? join(root, 'docs/benchmarks.md')
      : join(os.tmpdir(), 'repopulse-benchmarks.md');
const chartFile = join(
  dirname(out),
  full && outArg === -1 ? 'img/benchmarks.svg' : 'repopulse-benchmarks.svg',
);
const context = {
  quick,
  redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  log: (message: string) => console.error(`[bench] ${message}`),
};

const sections: BenchSection[] = [];
for (const [name, scenario] of Object.entries(SCENARIOS)) {
  if (only.length > 0 && !only.includes(name)) continue;
  context.log(`${name}…`);
  const started = Date.now();
  try {
    sections.push(await scenario(context));
  } catch (error) {
    console.error(error);
    sections.push({ markdown: `## ${name}\n\nFailed in this run: ${(error as Error).message}\n` });
    process.exitCode = 1;
  }
  context.log(`${name} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

const bars: ChartBar[] = sections.flatMap((s) => s.bars ?? []);
mkdirSync(dirname(chartFile), { recursive: true });
writeFileSync(chartFile, ratioChart('RepoPulse sse-express: ratios measured side by side in one run', bars));
const report = [
  '# Benchmarks',
  '',
  `Written by \`npm run bench\`${quick ? ' --quick (a smoke run: small sizes, one round — not for comparison)' : ''}. Every`,
  'SSE scenario runs the server in its own process and the load in another, over loopback; variants',
  'are interleaved round by round, and each figure is the median over the rounds with the spread',
  '(min–max) beside it. Absolute numbers depend on the machine and its load; compare the ratios,',
  'which were measured side by side in the same run.',
  '',
  machine(),
  '',
  `![ratios against targets](${chartFile.startsWith(join(root, 'docs')) ? 'img/benchmarks.svg' : chartFile})`,
  '',
  ...sections.map((s) => `${s.markdown.trim()}\n`),
].join('\n');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, report);
console.log(report);
context.log(`report written to ${out}`);
