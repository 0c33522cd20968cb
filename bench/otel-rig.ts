import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EventBus } from '@repopulse/events-core';
import { createEventStreamHandler } from '@repopulse/sse-express';
import express from 'express';

/** A running count, and a wait for it to grow. */
export interface Tally {
  /** Adds `count` (1 when omitted). */
  add(count?: number): void;
  /**
   * Resolves once `count` more have been added than now; rejects after 60 s (`what` names it). Woken
   * by `add`, not polled: a poll would spend CPU time (which the rounds are timed by) while waiting,
   * for instance on Redis.
   */
  until(count: number, what: string): Promise<void>;
}

/** A {@link Tally} at 0. */
export function createTally(): Tally {
  let total = 0;
  let waiting: { target: number; resolve(): void } | undefined;
  return {
    add(count = 1) {
      total += count;
      if (waiting && total >= waiting.target) {
        waiting.resolve();
        waiting = undefined;
      }
    },
    until(count, what) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${what}: missing after 60 s`)), 60_000);
        const target = total + count;
        const done = () => {
          clearTimeout(timer);
          resolve();
        };
        if (total >= target) done();
        else waiting = { target, resolve: done };
      });
    },
  };
}

/** {@link openSseClients}' result. */
export interface SseClients {
  /** Frames the clients received so far, all clients together. */
  frames: Tally;
  /** Disconnects the clients, closes the handler and the server (not the bus). */
  close(): Promise<void>;
}

/**
 * An Express app serving `bus`'s topic `repo:1` through `@repopulse/sse-express` on a free port, and
 * `clients` SSE clients on real sockets, connected (resolves once the handler holds every stream).
 */
export async function openSseClients(bus: EventBus, clients: number): Promise<SseClients> {
  const handler = createEventStreamHandler({ bus, topic: () => 'repo:1' });
  const app = express();
  app.get('/events', handler);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  const frames = createTally();
  const sockets: { destroy(): void }[] = [];
  await Promise.all(
    Array.from(
      { length: clients },
      () =>
        new Promise<void>((resolve, reject) => {
          const req = request(
            { port, host: '127.0.0.1', path: '/events', headers: { accept: 'text/event-stream' } },
            (res) => {
              sockets.push(res.socket);
              res.setEncoding('utf8');
              // Frames are counted by their `\nid: ` line; the last 4 characters carry over, so a line
              // split between two chunks counts once.
              let carry = '';
              res.on('data', (chunk: string) => {
                const text = carry + chunk;
                let count = 0;
                for (let at = text.indexOf('\nid: '); at !== -1; at = text.indexOf('\nid: ', at + 1)) count++;
                carry = text.slice(-4);
                frames.add(count);
              });
              resolve();
            },
          );
          req.on('error', reject);
          req.end();
        }),
    ),
  );
  while (handler.stats().streams < clients) await new Promise((resolve) => setTimeout(resolve, 10));
  return {
    frames,
    async close() {
      for (const socket of sockets) socket.destroy();
      await handler.close();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
