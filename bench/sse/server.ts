// One benchmark server process: a variant on `GET /events` (an Express variant, or one of the
// adapter matrix's `framework:implementation`), publishing on command.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMemoryBus } from '@repopulse/bus-memory';
import { createRedisBus } from '@repopulse/bus-redis';
import { createEvent, type EventBus } from '@repopulse/events-core';
import express from 'express';
import { type AdapterVariant, listenAdapter } from './adapter-variants';
import { now, serve } from './processes';
import { mount, type VariantName } from './variants';

const variant = process.env.BENCH_VARIANT ?? 'sse-express';
const topic = 'bench:topic';
const bus: EventBus = process.env.BENCH_REDIS_URL
  ? createRedisBus({
      url: process.env.BENCH_REDIS_URL,
      keyPrefix: `bench:${process.pid}:`,
      historyLimit: 20_000,
    })
  : createMemoryBus({ historyLimit: 20_000 });
const { server, diagnostics } = variant.includes(':')
  ? await listenAdapter(variant as AdapterVariant, bus, topic)
  : await listenExpress(variant as VariantName);

async function listenExpress(name: VariantName) {
  const app = express();
  const diagnostics = await mount(app, name, bus, topic);
  const server = http.createServer(app);
  server.maxConnections = 100_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, diagnostics };
}
const port = (server.address() as AddressInfo).port;

const gc = () => {
  for (let i = 0; i < 3; i++) (globalThis as { gc?: () => void }).gc?.();
};
/** ~`bytes` of payload, stamped with the publish time for latency. */
const event = (bytes: number) =>
  createEvent('task.progress', { phase: 'bench', message: `t=${now().toFixed(3)};${'x'.repeat(bytes)}` });

serve({
  ready: () => ({ port }),
  /** Publishes `count` events, `rate` per second (or all at once); answers when all are published. */
  publish: async ({ count, bytes = 60, rate }) => {
    const n = count as number;
    const startedAt = now();
    const positions: string[] = [];
    if (!rate) {
      const all: Promise<{ position: string }>[] = [];
      for (let i = 0; i < n; i++) all.push(bus.publish(topic, event(bytes as number)));
      for (const r of await Promise.all(all)) positions.push(r.position);
    } else {
      const interval = 1000 / (rate as number);
      for (let i = 0; i < n; i++) {
        const due = startedAt + i * interval;
        const wait = due - now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        positions.push((await bus.publish(topic, event(bytes as number))).position);
      }
    }
    return { startedAt, first: positions[0], last: positions.at(-1) };
  },
  memory: () => {
    gc();
    const m = process.memoryUsage();
    return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
  },
  /**
   * CPU time (µs), the monotonic clock (µs, the clock of `--cpu-prof` profiles) and, on Linux,
   * write/read syscalls and bytes so far (`/proc/self/io`).
   */
  usage: () => ({ ...process.cpuUsage(), clock: Number(process.hrtime.bigint() / 1000n), ...procIo() }),
  stats: () => ({ handler: diagnostics(), bus: bus.stats(), listeners: server.listenerCount('request') }),
});

/** `syscw`, `syscr`, `wchar`, `rchar` of this process (empty where `/proc` is missing). */
function procIo(): Record<string, number> {
  try {
    const fields: Record<string, number> = {};
    for (const line of readFileSync('/proc/self/io', 'utf8').split('\n')) {
      const [key, value] = line.split(': ');
      if (key && value) fields[key] = Number(value);
    }
    return fields;
  } catch {
    return {};
  }
}
