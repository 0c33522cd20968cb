import { readFileSync } from 'node:fs';
import { createSecureServer } from 'node:http2';
import { createMemoryBus } from '@repopulse/bus-memory';
import { createNodeHandler } from '@repopulse/sse-server/node';

const bus = createMemoryBus();
const events = createNodeHandler({ bus, topic: 'announcements' });
// Browsers speak HTTP/2 only over TLS; `allowHTTP1` keeps HTTP/1.1 clients working.
createSecureServer(
  { key: readFileSync('key.pem'), cert: readFileSync('cert.pem'), allowHTTP1: true },
  events,
).listen(3443);
