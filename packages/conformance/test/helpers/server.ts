import { createServer, type ServerResponse } from 'node:http';
import { createMemoryBus } from '@repopulse/bus-memory';
import { createEvent } from '@repopulse/events-core';
import { createEventStreamHandler, StreamHttpError, signStreamToken } from '@repopulse/sse-express';
import { listenTracked } from '@repopulse/test-support';
import express, { type RequestHandler } from 'express';

const SECRET = 'conformance-test-secret-0123456789';

/** A real sse-express server on a memory bus holding `events` events on `/topics/ok/events`. */
export interface TestServer {
  url: string;
  /** A URL the token may not read. */
  forbiddenUrl: string;
  /** A token for `url`. */
  token: string;
  close(): Promise<void>;
}

/** Ways to break the protocol in front of a conforming handler. */
export type Defect = 'ignores-last-event-id' | 'wrong-content-type' | 'no-id-lines';

const DEFECTS: Record<Defect, RequestHandler> = {
  // Drops the header before the handler sees it: resumes come from the query alone.
  'ignores-last-event-id': (req, _res, next) => {
    delete req.headers['last-event-id'];
    next();
  },
  'wrong-content-type': (_req, res, next) => {
    const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
    res.writeHead = ((status: number, headers?: Record<string, unknown>) => {
      const wrong = Object.fromEntries(
        Object.entries(headers ?? {}).map(([name, value]) => [
          name,
          value === 'text/event-stream' ? 'text/plain' : value,
        ]),
      );
      return writeHead(status, wrong);
    }) as typeof res.writeHead;
    next();
  },
  'no-id-lines': (_req, res, next) => {
    const write = res.write.bind(res) as (chunk: unknown) => boolean;
    res.write = ((chunk: unknown) =>
      write(
        Buffer.from(String(chunk))
          .toString('utf8')
          .replace(/^id: .*\n/gm, ''),
      )) as typeof res.write;
    next();
  },
};

/** Starts the server with `events` events published, optionally with a `defect`. */
export async function startServer({
  events = 5,
  defect,
}: {
  events?: number;
  defect?: Defect;
} = {}): Promise<TestServer> {
  const bus = createMemoryBus();
  for (let n = 0; n < events; n++) {
    await bus.publish('repo:ok', createEvent('log.append', { level: 'info', message: `m${n}` }));
  }
  const handler = createEventStreamHandler<express.Request>({
    bus,
    tokenSecret: SECRET,
    topic: (req) => {
      if (!['ok', 'secret'].includes(String(req.params.id)))
        throw new StreamHttpError(404, 'not_found', 'no such topic');
      return `repo:${req.params.id}`;
    },
  });
  const app = express();
  if (defect) app.use(DEFECTS[defect]);
  app.all('/topics/:id/events', handler);
  const listening = await listenTracked(createServer(app));
  return {
    url: `${listening.origin}/topics/ok/events`,
    forbiddenUrl: `${listening.origin}/topics/secret/events`,
    token: signStreamToken({ topics: ['repo:ok'] }, SECRET, 600_000),
    async close() {
      await handler.close();
      await listening.close();
      await bus.close();
    },
  };
}
