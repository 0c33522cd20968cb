import http from 'node:http';
import { createNodeHandler } from '@repopulse/sse-server/node';
import { bus } from './bus.js';

const ROUTE = /^\/api\/repositories\/(\d+)\/events(\?|$)/;

const events = createNodeHandler({
  bus,
  topic: (req) => `repo:${ROUTE.exec(req.url ?? '')?.[1]}`,
});

export const server = http.createServer((req, res) => {
  if (ROUTE.test(req.url ?? '')) return events(req, res);
  res.writeHead(404).end();
});
server.listen(Number(process.env.PORT ?? 3000));
process.on('SIGTERM', () => void events.close({ graceMs: 10_000 }).then(() => server.close()));
