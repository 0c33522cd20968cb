// Measures what the record costs: bytes per retained event on Redis (MEMORY USAGE of the topic's
// stream, and INFO memory) and on the memory bus (heap), for the events of real run-alls of the
// app. Starts its own redis-server on a free port in a temp directory (never the shared one).
//
//   node --expose-gc --conditions=@repopulse/source --import tsx examples/repo-wiki/scripts/measure-retention.ts [runs]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMemoryBus } from '@repopulse/bus-memory';
import type { AnyEnvelope } from '@repopulse/events-core';
import { freePort } from '@repopulse/test-support';
import { Redis } from 'ioredis';
import { startServer } from '../server/app';
import { readConfig } from '../server/config';

const runs = Number(process.argv[2] ?? 10);
const dir = mkdtempSync(join(tmpdir(), 'repo-wiki-retention-'));
const port = await freePort();
const redisServer = spawn(
  'redis-server',
  ['--port', String(port), '--dir', dir, '--save', '', '--appendonly', 'no'],
  {
    stdio: 'ignore',
  },
);
// Commands wait in ioredis's offline queue while the server starts (a loaded machine takes seconds).
const redis = new Redis({ port, retryStrategy: () => 50 });
redis.on('error', () => {});
await redis.ping();
const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);

const app = await startServer(
  readConfig({
    PORT: '0',
    SIM_SPEED: '1000',
    DATA_DIR: dir,
    LOG_LEVEL: 'silent',
    REDIS_URL: `redis://127.0.0.1:${port}`,
    REDIS_PREFIX: 'measure:',
    HISTORY_LIMIT: '1000000',
  }),
);
const login = await fetch(`${app.url}/api/login`, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ username: 'demo', password: 'demo' }),
});
const headers = { Authorization: `Bearer ${(await login.json()).token}`, 'Content-Type': 'application/json' };
const call = (method: string, path: string, body: unknown = {}) =>
  fetch(`${app.url}${path}`, {
    method,
    headers,
    body: method === 'GET' ? undefined : JSON.stringify(body),
  }).then((r) => r.json());

const before = await usedMemory();
const { repository } = await call('POST', '/api/repositories', { url: 'https://github.com/acme/measured' });
await sleep(100);
await app.idle();
for (let run = 0; run < runs; run++) {
  await call('POST', `/api/repositories/${repository.id}/run-all`);
  await sleep(50);
  await app.idle();
  for (const task of (await call('GET', `/api/repositories/${repository.id}/tasks`)).tasks) {
    await call('POST', `/api/tasks/${task.id}/reset`);
  }
}
await app.idle();
// The topic's stream, and next to it the id hash and id list of idempotent publish.
const topicKeys = await redis.keys(`measure:*repo:${repository.id}*`);
const key = topicKeys.find((k) => !k.endsWith(':ids') && !k.endsWith(':idlog')) as string;
const events = await redis.xlen(key);
const memoryUsage = async (k: string) => Number(await redis.call('MEMORY', 'USAGE', k, 'SAMPLES', '0'));
const usage = await memoryUsage(key);
const idUsage = (await memoryUsage(`${key}:ids`)) + (await memoryUsage(`${key}:idlog`));
const after = await usedMemory();

// The same envelopes into a memory bus: heap growth per retained event.
const envelopes: AnyEnvelope[] = (await redis.xrange(key, '-', '+')).map(([, fields]) =>
  JSON.parse(fields[fields.indexOf('e') + 1] ?? fields[1] ?? '{}'),
);
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const bus = createMemoryBus({ historyLimit: 1_000_000 });
const copies = 20; // amortizes code compiled on first use
for (let copy = 0; copy < copies; copy++) {
  for (const envelope of envelopes)
    await bus.publish('repo:1', { ...envelope, id: `${envelope.id}-${copy}` });
}
gc?.();
const heapAfter = process.memoryUsage().heapUsed;
const perRun = events / runs;
console.log(
  JSON.stringify(
    {
      runs,
      events,
      events_per_run_all: Math.round(perRun),
      avg_envelope_json_bytes: Math.round(
        envelopes.reduce((n, e) => n + JSON.stringify(e).length, 0) / envelopes.length,
      ),
      redis_memory_usage_bytes_per_event: Math.round(usage / events),
      redis_id_keys_memory_usage_bytes_per_event: Math.round(idUsage / events),
      redis_used_memory_delta_bytes_per_event: Math.round((after - before) / events),
      memory_bus_heap_bytes_per_event: gc
        ? Math.round((heapAfter - heapBefore) / (envelopes.length * copies))
        : 'run with --expose-gc',
    },
    null,
    2,
  ),
);
await bus.close();
await app.close(0);
redis.disconnect();
redisServer.kill();
rmSync(dir, { recursive: true, force: true });
