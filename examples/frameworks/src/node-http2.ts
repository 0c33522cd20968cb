import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import { createNodeHandler } from '@repopulse/sse-server/node';
import { bus } from './bus.js';

const ROUTE = /^\/api\/repositories\/(\d+)\/events(\?|$)/;

const events = createNodeHandler({
  bus,
  topic: (req) => `repo:${ROUTE.exec(req.url ?? '')?.[1]}`,
});

// Browsers speak HTTP/2 only over TLS; `allowHTTP1` keeps HTTP/1.1 clients served too.
export const server = http2.createSecureServer(
  {
    key: readFileSync(process.env.TLS_KEY ?? 'key.pem'),
    cert: readFileSync(process.env.TLS_CERT ?? 'cert.pem'),
    allowHTTP1: true,
  },
  (req, res) => {
    if (ROUTE.test(req.url)) return events(req, res);
    res.writeHead(404).end();
  },
);
server.listen(Number(process.env.PORT ?? 3443));
