import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createMemoryBus } from '@repopulse/bus-memory';
import { createEvent } from '@repopulse/events-core';
import { createSseParser } from '@repopulse/events-core/wire';
import { createOutbox } from '@repopulse/outbox';
import { createSqliteStore } from '@repopulse/outbox/sqlite';
import { createEventStreamHandler } from '@repopulse/sse-express';
import Database from 'better-sqlite3';
import express from 'express';
import { percentile } from '../sse/pair';

/** Commit → SSE client latencies of one round, in ms, sorted. */
export interface LatencyRound {
  direct: number[];
  outbox: number[];
}

/**
 * Opens `n` SSE connections to `url` (real sockets, in this process) and calls `seen(id)` for
 * every event's `data:` line, with the receive time.
 */
async function connectClients(url: string, n: number, seen: (id: string, at: number) => void) {
  const requests: http.ClientRequest[] = [];
  await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<void>((resolve, reject) => {
          const req = http.get(url, { headers: { accept: 'text/event-stream' } }, (res) => {
            res.setEncoding('utf8');
            let at = 0;
            const feed = createSseParser(
              (message) => {
                if (message.data !== undefined) seen((JSON.parse(message.data) as { id: string }).id, at);
              },
              () => {},
            );
            res.on('data', (chunk: string) => {
              at = performance.now();
              feed(chunk);
            });
            resolve();
          });
          req.on('error', reject);
          requests.push(req);
        }),
    ),
  );
  return () => {
    for (const req of requests) req.destroy();
  };
}

/**
 * Commit → SSE client latency on one memory bus and one sse-express handler, `clients` SSE clients:
 * `direct` commits a task update, then `bus.publish`es its event (what an app did before the outbox);
 * `outbox` enqueues the event in the transaction and the relay publishes it. Each event is a fresh
 * `createEvent`; latency runs from the transaction's return to each client's receipt. Events go at
 * `rate` per second for `seconds`, the two variants alternating event by event.
 */
export async function commitLatency(clients: number, rate: number, seconds: number): Promise<LatencyRound> {
  const dir = mkdtempSync(join(tmpdir(), 'repopulse-bench-latency-'));
  const db = new Database(join(dir, 'app.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(
    "CREATE TABLE tasks (id INTEGER PRIMARY KEY, status TEXT NOT NULL); INSERT INTO tasks VALUES (1, 'running')",
  );
  const update = db.prepare('UPDATE tasks SET status = ? WHERE id = 1');
  const bus = createMemoryBus({ historyLimit: 20_000 });
  const outbox = createOutbox({ store: createSqliteStore(db), bus });
  const app = express();
  const events = createEventStreamHandler({ bus, topic: () => 'repo:1' });
  app.get('/events', events);
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
  const committedAt = new Map<string, { at: number; variant: keyof LatencyRound }>();
  const round: LatencyRound = { direct: [], outbox: [] };
  const disconnect = await connectClients(url, clients, (id, at) => {
    const commit = committedAt.get(id);
    if (commit) round[commit.variant].push(at - commit.at);
  });
  const event = (i: number) =>
    createEvent('task.status_changed', { from: 'running', to: 'completed' }, { repo_id: 1, task_id: i });
  const direct = (i: number) => {
    db.transaction(() => update.run(i % 2 ? 'completed' : 'running'))();
    const e = event(i);
    committedAt.set(e.id, { at: performance.now(), variant: 'direct' });
    void bus.publish('repo:1', e);
  };
  const viaOutbox = (i: number) => {
    const e = db.transaction(() => {
      update.run(i % 2 ? 'completed' : 'running');
      return outbox.enqueue(db, 'repo:1', event(i));
    })();
    committedAt.set(e.id, { at: performance.now(), variant: 'outbox' });
  };
  try {
    const total = rate * seconds;
    const start = performance.now();
    for (let i = 0; i < total; i++) {
      const wait = start + (i * 1000) / rate - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (i % 2) direct(i);
      else viaOutbox(i);
    }
    await outbox.drained();
    await new Promise((resolve) => setTimeout(resolve, 300));
  } finally {
    disconnect();
    await events.close({ graceMs: 0 });
    server.close();
    await outbox.close();
    await bus.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
  round.direct.sort((a, b) => a - b);
  round.outbox.sort((a, b) => a - b);
  return round;
}

/** p50 and p99 of a sorted sample. */
export function latencyPercentiles(sorted: number[]): { p50: number; p99: number } {
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}
