import { createServer } from 'node:http';
import { createMemoryBus } from '@repopulse/bus-memory';
import { createNodeHandler } from '@repopulse/sse-server/node';

const bus = createMemoryBus();
const events = createNodeHandler({
  bus,
  // GET /repos/<id>/events
  topic: (req) => `repo:${(req.url ?? '').split('/')[2]}`,
});
const server = createServer((req, res) => {
  if (req.url?.startsWith('/repos/')) events(req, res);
  else res.writeHead(404).end();
});
server.listen(3000);
process.on('SIGTERM', () => void events.close({ graceMs: 10_000 }).then(() => server.close()));
