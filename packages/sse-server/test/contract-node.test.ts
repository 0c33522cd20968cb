import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createSecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import {
  type ContractHandlerOptions,
  createTestCertificate,
  http2Transport,
  type ServerMount,
  type TestCertificate,
  testServer,
  topicOf,
} from '@repopulse/server-contract';
import { findChromium, listenTracked, requirement } from '@repopulse/test-support';
import { createNodeHandler } from '../src/node/index';
import { authorizeId, mounted, routeId } from './helpers/contract-mount';

type NodeReq = IncomingMessage | Http2ServerRequest;
type NodeRes = ServerResponse | Http2ServerResponse;

/** The node handler for the contract's options; other paths get 404 (e.g. a browser's page). */
function nodeListener(options: ContractHandlerOptions) {
  const handler = createNodeHandler<NodeReq>({
    ...options,
    topic: (req) => topicOf(routeId(req.url)!),
    authorize: (req) => authorizeId(routeId(req.url)!),
  });
  const listener = (req: NodeReq, res: NodeRes) => {
    if (routeId(req.url) !== undefined) handler(req, res);
    else res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
  };
  return { handler, listener };
}

const httpMount: ServerMount = async (options) => {
  const { handler, listener } = nodeListener(options);
  const listening = await listenTracked(createServer(listener));
  return mounted(listening, listening.origin, handler);
};

let certificate: TestCertificate | undefined;
let noCertificate: string | undefined;
try {
  certificate = createTestCertificate();
} catch (error) {
  noCertificate = `no test certificate (openssl req -x509 failed: ${(error as Error).message})`;
}
const withTls = requirement('sse-server contract', noCertificate, 'node:http2 over TLS') === 'run';

const http2Mount: ServerMount = async (options) => {
  const { handler, listener } = nodeListener(options);
  const listening = await listenTracked(createSecureServer(certificate!, listener));
  return mounted(listening, `https://127.0.0.1:${listening.port}`, handler);
};

const chromium = findChromium();
const withChromium =
  requirement('sse-server contract', chromium ? undefined : 'no chromium binary', 'Chromium over HTTP/2') ===
  'run';

testServer('node:http', httpMount);
if (withTls && certificate) {
  testServer('node:http2 (TLS)', http2Mount, {
    transport: http2Transport(certificate.cert),
    ...(withChromium && chromium ? { chromium } : {}),
  });
}
