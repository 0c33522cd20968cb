import { createMemoryBus } from '@repopulse/bus-memory';
import { createEvent, type EventBus, type StreamPosition } from '@repopulse/events-core';
import {
  createEventStreamHandler,
  type EventStreamHandler,
  type EventStreamOptions,
  type ExpressLikeRequest,
} from '@repopulse/sse-express';
import express from 'express';
import { startServer, type TestServer } from './http-server';

/** A real sse-express server on a memory bus, serving topic `repo:1` at `/api/repositories/1/events`. */
export interface EventServer extends TestServer {
  /** The events URL. */
  url: string;
  /** The bus behind the handler. */
  bus: EventBus;
  /** The sse-express handler (for stats and close). */
  handler: EventStreamHandler;
  /** Publishes `log.append` events numbered `from`..`from+count-1`; resolves with their positions. */
  publish(from: number, count?: number): Promise<StreamPosition[]>;
}

/** Starts sse-express (Express 5) with a fresh memory bus (or `options.bus`); options override the handler's. */
export async function startEventServer(
  options: Partial<EventStreamOptions<ExpressLikeRequest>> = {},
  extra?: (app: express.Express) => void,
): Promise<EventServer> {
  const bus = options.bus ?? createMemoryBus({ onError: () => {} });
  const handler = createEventStreamHandler({
    bus,
    topic: (req) => `repo:${req.params.id}`,
    retryMs: 20,
    onError: () => {},
    ...options,
  });
  const app = express();
  extra?.(app);
  app.get('/api/repositories/:id/events', handler);
  const server = await startServer(app);
  const close = server.close;
  return Object.assign(server, {
    url: `${server.origin}/api/repositories/1/events`,
    bus,
    handler,
    async publish(from: number, count = 1) {
      const positions: StreamPosition[] = [];
      for (let n = from; n < from + count; n++) {
        const { position } = await bus.publish(
          'repo:1',
          createEvent('log.append', { level: 'info', message: `line ${n}` }, { repo_id: 1, id: `evt-${n}` }),
        );
        positions.push(position);
      }
      return positions;
    },
    async close() {
      await handler.close({ graceMs: 0 });
      await close();
      await bus.close();
    },
  });
}
