import { createMemoryBus } from '@repopulse/bus-memory';
import { type AnyEnvelope, type BusOptions, createEvent, type EventBus } from '@repopulse/events-core';
import { publishSeries } from '@repopulse/test-support';
import type { ContractHandlerOptions, MountedServer, ServerMount } from './mount';
import { topicOf } from './mount';
import type { RawResponse, Transport } from './transport';

/** Makes the bus a test's handler reads (and the suite publishes to). */
export type ContractBusFactory = (options: BusOptions) => EventBus | Promise<EventBus>;

/** How the server under test is reached, and what it needs. */
export interface ServerContractOptions {
  /** How requests reach the server: `http1Transport()` (default) or `http2Transport(ca)`. */
  transport?: Transport;
  /**
   * Makes each test's bus. A mount whose handler runs in another process (Next.js) shares a store
   * with the suite instead (Redis) and ignores the bus object it is given.
   * @default createMemoryBus
   */
  createBus?: ContractBusFactory;
  /**
   * Events published past a bus's `historyLimit` before the oldest is expected gone (Redis
   * `MAXLEN ~` trims in whole nodes of ~100 entries).
   * @default 0
   */
  trimSlack?: number;
  /**
   * Runs one SSE test in headless Chromium's native `EventSource` (executable path), with
   * `--ignore-certificate-errors` for a test certificate. Omitted: no browser test.
   */
  chromium?: string;
}

/** One started server and its bus. */
export interface Started {
  server: MountedServer;
  bus: EventBus;
}

/** Options of {@link ServerContext.start}: handler options plus the bus's retention. */
export type StartOptions = Omit<ContractHandlerOptions, 'bus'> & { historyLimit?: number };

/** What each suite file receives. */
export interface ServerContext {
  /** Mounts a fresh handler (closed with its bus after the test). */
  start(options?: StartOptions): Promise<Started>;
  /** A route id no other test uses; its topic is `topicOf(id)`. */
  id(label?: string): string;
  /** Registers a cleanup run after the test (clients to close). */
  defer(cleanup: () => void | Promise<void>): void;
  transport: Transport;
  options: ServerContractOptions;
}

/** Opens an SSE request on route id `id` of `server`, destroyed after the test. */
export async function openStream(
  ctx: ServerContext,
  server: MountedServer,
  id: string,
): Promise<RawResponse> {
  const res = await ctx.transport.request(server.url(id));
  ctx.defer(() => res.destroy());
  return res;
}

/** A `log.append` event numbered `n` (its message is `m<n>`). */
export function numbered(n: number, size = 0): AnyEnvelope {
  return createEvent('log.append', { level: 'info', message: `m${n}${size ? ` ${'x'.repeat(size)}` : ''}` });
}

/** The `n` of a {@link numbered} event, from the envelope or its JSON. */
export function numberOf(event: string | { payload: unknown }): number {
  const envelope = typeof event === 'string' ? (JSON.parse(event) as { payload: unknown }) : event;
  return Number.parseInt((envelope.payload as { message: string }).message.slice(1), 10);
}

/** Publishes numbered events `from … from + count - 1` to route id `id`'s topic, in order. */
export async function publishNumbered(
  bus: EventBus,
  id: string,
  from: number,
  count: number,
): Promise<string[]> {
  return publishSeries(bus, topicOf(id), from, count, (n) => numbered(n));
}

/** `[from, …, from + count - 1]` */
export function range(from: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => from + i);
}

/** Builds the context for one `testServer` run. */
export function createContext(
  mount: ServerMount,
  options: ServerContractOptions,
  transport: Transport,
): ServerContext & { cleanup(): Promise<void> } {
  const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  let counter = 0;
  const cleanups: (() => void | Promise<void>)[] = [];
  const createBus = options.createBus ?? ((busOptions: BusOptions) => createMemoryBus(busOptions));
  return {
    async start({ historyLimit, ...handlerOptions } = {}) {
      const bus = await createBus(historyLimit === undefined ? {} : { historyLimit });
      cleanups.push(() => bus.close());
      const server = await mount({ ...handlerOptions, bus });
      cleanups.push(() => server.close());
      return { server, bus };
    },
    id: (label = 't') => `${label}-${run}-${counter++}`,
    defer: (cleanup) => {
      cleanups.push(cleanup);
    },
    transport,
    options,
    async cleanup() {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    },
  };
}
