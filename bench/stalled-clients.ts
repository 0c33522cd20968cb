import { createServer, request, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { createMemoryBus } from '@repopulse/bus-memory';
import { createEvent, type EventBus } from '@repopulse/events-core';
import {
  createEventStreamCore,
  DEFAULT_MAX_BUFFERED_BYTES,
  type EventStreamCore,
} from '@repopulse/sse-express';
import { median, num, spread, table } from './markdown';
import type { BenchContext, BenchSection } from './scenario';

const MB = 1024 * 1024;
/** Long enough to measure what stalled streams hold before it closes them. */
const WRITE_TIMEOUT_MS = 5000;

interface Handler {
  bus: EventBus;
  core: EventStreamCore;
  server: Server;
  port: number;
}

/** A memory bus holding `events` retained events of `messageBytes`, and a handler over it on a real port. */
async function start(events: number, messageBytes: number, writeTimeoutMs?: number): Promise<Handler> {
  const bus = createMemoryBus({ historyLimit: events });
  const core = createEventStreamCore({
    bus,
    topic: 'repo:1',
    onError: () => {},
    ...(writeTimeoutMs === undefined ? {} : { writeTimeoutMs }),
  });
  const message = 'x'.repeat(messageBytes);
  for (let i = 0; i < events; i++) {
    await bus.publish('repo:1', createEvent('log.append', { level: 'info', message: `${i}:${message}` }));
  }
  const server = createServer((req, res) => void core.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { bus, core, server, port: (server.address() as AddressInfo).port };
}

async function stop({ bus, core, server }: Handler, sockets: Socket[]): Promise<void> {
  for (const socket of sockets) socket.destroy();
  await core.close();
  await new Promise((resolve) => server.close(resolve));
  await bus.close();
}

/** Clients that send `head` and never read a byte (the socket is paused from the start). */
function stalledClients(port: number, n: number, head: string): Socket[] {
  return Array.from({ length: n }, () => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(head));
    socket.pause();
    socket.on('error', () => {});
    return socket;
  });
}

const gc = () => (globalThis as { gc?: () => void }).gc?.();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface ReplaySample {
  heldMB: number;
  perStreamKiB: number;
  closed: number;
  closedAfterTimeout: number;
}

/** 20 SSE clients resume from 0-0 over ~9 MB of history and never read. */
async function replayRound(clients: number, events: number, waitMs: number): Promise<ReplaySample> {
  const handler = await start(events, 1700, WRITE_TIMEOUT_MS);
  const sockets = stalledClients(
    handler.port,
    clients,
    'GET /e HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nLast-Event-ID: 0-0\r\n\r\n',
  );
  let peak = 0;
  const startedAt = Date.now();
  while (Date.now() - startedAt < waitMs) {
    await sleep(50);
    peak = Math.max(peak, handler.core.stats().bufferedBytes);
  }
  const stats = handler.core.stats();
  // Past writeTimeoutMs, checked every writeTimeoutMs / 2 by the handler's timer.
  await sleep(WRITE_TIMEOUT_MS * 1.5 + 1000);
  const sample = {
    heldMB: stats.bufferedBytes / MB,
    perStreamKiB: peak / clients / 1024,
    closed: stats.closedForBackpressure,
    closedAfterTimeout: handler.core.stats().closedForWriteTimeout,
  };
  await stop(handler, sockets);
  return sample;
}

interface PollSample {
  bodyMB: number;
  events: number;
  buffersMB: number;
  rssMB: number;
}

/** One long-poll from 0-0 over ~4.4 MB of history, then 40 clients asking the same without reading. */
async function pollRound(clients: number, events: number): Promise<PollSample> {
  const handler = await start(events, 760);
  const body = await new Promise<string>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: handler.port,
        path: '/e?after=0-0&wait=0',
        headers: { Accept: 'application/json' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve(text));
      },
    );
    req.on('error', reject);
    req.end();
  });
  gc();
  const before = process.memoryUsage();
  const sockets = stalledClients(
    handler.port,
    clients,
    'GET /e?after=0-0&wait=0 HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\r\n',
  );
  await sleep(3000);
  gc();
  const after = process.memoryUsage();
  const sample = {
    bodyMB: Buffer.byteLength(body) / MB,
    events: (JSON.parse(body) as { events: unknown[] }).events.length,
    buffersMB: (after.arrayBuffers - before.arrayBuffers) / MB,
    rssMB: (after.rss - before.rss) / MB,
  };
  await stop(handler, sockets);
  return sample;
}

/**
 * Scenario: clients that never read, as an attacker would open them. SSE clients resuming from the
 * oldest position over a large history, and long-polls asking for all of it; what the handler holds
 * against the documented bounds (`maxBufferedBytes`, `writeTimeoutMs`, `longPollMaxEvents`/`Bytes`).
 * In process: the handler's own `stats()` and the process's buffers are what is measured.
 */
export async function stalledClientsScenario({ quick, log }: BenchContext): Promise<BenchSection> {
  const rounds = quick ? 1 : 3;
  const sse = { clients: 20, events: quick ? 1000 : 5000 };
  const poll = { clients: 40, events: quick ? 1000 : 5000 };
  const replays: ReplaySample[] = [];
  const polls: PollSample[] = [];
  for (let round = 0; round < rounds; round++) {
    const replay = await replayRound(sse.clients, sse.events, 3000);
    replays.push(replay);
    log(
      `stalled round ${round + 1} SSE: ${num(replay.heldMB, 1)} MB held, ${replay.closedAfterTimeout} closed`,
    );
    const answer = await pollRound(poll.clients, poll.events);
    polls.push(answer);
    log(`stalled round ${round + 1} long-poll: ${num(answer.bodyMB, 2)} MB body, ${answer.events} events`);
  }
  const col = <T>(samples: T[], key: keyof T, digits = 1) => {
    const values = samples.map((s) => s[key] as number);
    return [num(median(values), digits), spread(values, digits)];
  };
  const cap = DEFAULT_MAX_BUFFERED_BYTES / 1024;
  return {
    markdown: [
      '## Clients that never read',
      '',
      `${sse.clients} SSE clients resume from \`0-0\` over ${num(sse.events)} retained events of ~1.8 KB and never`,
      `read: the handler's unsent bytes (\`stats().bufferedBytes\`) after 3 s, and the streams closed once`,
      `\`writeTimeoutMs\` (${WRITE_TIMEOUT_MS / 1000} s here) passed. ${poll.clients} long-polls ask \`after=0-0&wait=0\` over ${num(poll.events)}`,
      'events of ~0.9 KB without reading; process buffers and RSS 3 s later (after GC). Defaults otherwise.',
      `Median and min–max over ${rounds} round(s).`,
      '',
      table([
        ['measure', 'median', 'spread', 'bound'],
        [
          'SSE: unsent bytes held after 3 s (MB)',
          ...col(replays, 'heldMB'),
          `${sse.clients} × ${num(cap)} KiB`,
        ],
        ['SSE: peak unsent, total / streams (KiB)', ...col(replays, 'perStreamKiB', 0), `${num(cap)} KiB`],
        ['SSE: closed for backpressure', ...col(replays, 'closed', 0), '0 (replays wait)'],
        ['SSE: closed by `writeTimeoutMs`', ...col(replays, 'closedAfterTimeout', 0), String(sse.clients)],
        ['long-poll: body (MB)', ...col(polls, 'bodyMB', 2), '0.5 (512 KiB)'],
        ['long-poll: events in the body', ...col(polls, 'events', 0), '500'],
        [`long-poll: buffers held by ${poll.clients} (MB)`, ...col(polls, 'buffersMB'), '—'],
        [`long-poll: RSS growth with ${poll.clients} (MB)`, ...col(polls, 'rssMB'), '—'],
      ]),
      '',
    ].join('\n'),
  };
}
