// A Next.js 16 App Router route handler over the Fetch adapter, under a real `next build && next
// start` (built once per run into the ignored `test/next-app/.next`). The handler runs in the Next
// process, so it and the suite share their buses through Redis.
import { type ChildProcess, spawn } from 'node:child_process';
import { connect as connectTcp, createServer } from 'node:net';
import { join } from 'node:path';
import { createRedisBus } from '@repopulse/bus-redis';
import type { EventBus } from '@repopulse/events-core';
import { type ContractStats, type ServerMount, testServer } from '@repopulse/server-contract';
import {
  deleteKeys,
  freePort,
  listenTracked,
  reachableRedis,
  redisUrl,
  requirement,
  type TrackedServer,
  waitFor,
} from '@repopulse/test-support';
import { afterAll, beforeAll } from 'vitest';

const APP = join(import.meta.dirname, 'next-app');
const NEXT = join(import.meta.dirname, '../../../node_modules/.bin/next');
const REDIS_URL = redisUrl();
const redis = await reachableRedis(REDIS_URL);
const mode = requirement(
  'sse-server contract',
  redis ? undefined : `no Redis answers at ${REDIS_URL}`,
  'the Next.js contract',
);

/** Runs `next <args>` in the app; resolves when it exits 0, rejects with its output otherwise. */
function next(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(NEXT, args, {
    cwd: APP,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function exited(child: ChildProcess): Promise<string> {
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  return new Promise((resolve, reject) =>
    child.on('exit', (code) =>
      code === 0 ? resolve(output) : reject(new Error(`next exited ${code}:\n${output}`)),
    ),
  );
}

let started: ChildProcess | undefined;
let proxy: TrackedServer | undefined;
const prefixes: string[] = [];
const busPlaces = new WeakMap<EventBus, { keyPrefix: string; historyLimit?: number }>();

if (mode === 'run') {
  beforeAll(async () => {
    await exited(next(['build', '--webpack']));
    const port = await freePort();
    started = next(['start', '-p', String(port), '-H', '127.0.0.1'], { CONTRACT_REDIS_URL: REDIS_URL });
    let log = '';
    started.stdout?.on('data', (chunk) => {
      log += chunk;
    });
    started.stderr?.on('data', (chunk) => {
      log += chunk;
    });
    await waitFor(() => /Ready/.test(log), {
      timeoutMs: 60_000,
      what: `next start to be ready; output: ${log}`,
    });
    // A TCP proxy in front, so the suite can drop every client connection as a network would.
    proxy = await listenTracked(
      createServer((client) => {
        const upstream = connectTcp(port, '127.0.0.1');
        client.pipe(upstream).pipe(client);
        client.on('error', () => upstream.destroy());
        upstream.on('error', () => client.destroy());
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      }),
    );
  }, 400_000);

  afterAll(async () => {
    await proxy?.close();
    started?.kill('SIGTERM');
    await deleteKeys(REDIS_URL, ...prefixes);
  });
}

/** Configuration of one handler in the Next process: its options and its bus's place in Redis. */
const nextMount: ServerMount = async ({ bus, ...options }) => {
  const place = busPlaces.get(bus);
  if (!place || !proxy)
    throw new Error('the Next.js mount needs a bus made by its createBus, and the server');
  const config = Buffer.from(JSON.stringify({ ...place, ...options })).toString('base64url');
  const origin = proxy.origin;
  const control = `${origin}/${config}/control`;
  const close = async (query: string) => {
    const res = await fetch(`${control}?${query}`, { method: 'POST' });
    if (!res.ok) throw new Error(`closing the Next.js handler answered ${res.status}`);
  };
  return {
    origin,
    url: (id, query = '') => `${origin}/${config}/topics/${encodeURIComponent(id)}/events${query}`,
    stats: async () => (await (await fetch(control)).json()) as ContractStats,
    dropConnections: () => proxy?.dropConnections(),
    closeHandler: (closeOptions) => close(`graceMs=${closeOptions?.graceMs ?? 0}`),
    close: () => close('graceMs=0&bus=close'),
  };
};

if (mode === 'run') {
  let counter = 0;
  testServer('Next.js 16 App Router (next start)', nextMount, {
    createBus: (busOptions) => {
      const keyPrefix = `rp-test:contract-next:${process.pid}:${Date.now().toString(36)}:${counter++}:`;
      prefixes.push(keyPrefix);
      const bus = createRedisBus({ url: REDIS_URL, keyPrefix, ...busOptions });
      busPlaces.set(bus, {
        keyPrefix,
        ...(busOptions.historyLimit === undefined ? {} : { historyLimit: busOptions.historyLimit }),
      });
      return bus;
    },
    trimSlack: 250,
  });
}
