import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type RequestListener,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request a test server received. */
export interface SeenRequest {
  /** Path and query. */
  url: string;
  /** The Accept header. */
  accept: string;
  /** The Last-Event-ID header, if sent. */
  lastEventId: string | undefined;
  /** The Authorization header, if sent. */
  authorization: string | undefined;
  /** Parsed query. */
  query: URLSearchParams;
  /** Every request header (values as Node decodes them: latin1). */
  headers: IncomingHttpHeaders;
}

/** A real HTTP server on 127.0.0.1 with request log and socket control. */
export interface TestServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** Every request so far, in arrival order. */
  requests: SeenRequest[];
  /** Resolves once at least `count` requests arrived (event-driven, no polling). */
  waitForRequests(count: number): Promise<SeenRequest>;
  /** Destroys every open socket (simulates a dropped connection). */
  dropConnections(): void;
  /** Number of sockets currently open. */
  openSockets(): number;
  /** Closes the server and every socket. */
  close(): Promise<void>;
}

/** Starts `handler` on a real socket; every request is logged first. */
export async function startServer(handler: RequestListener): Promise<TestServer> {
  const requests: SeenRequest[] = [];
  const waiters: { count: number; resolve: (req: SeenRequest) => void }[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    const seen: SeenRequest = {
      url,
      accept: req.headers.accept ?? '',
      lastEventId: req.headers['last-event-id'] as string | undefined,
      authorization: req.headers.authorization,
      query: new URL(url, 'http://x').searchParams,
      headers: req.headers,
    };
    requests.push(seen);
    for (const waiter of [...waiters]) {
      if (requests.length >= waiter.count) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(seen);
      }
    }
    handler(req, res);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    waitForRequests(count) {
      if (requests.length >= count) return Promise.resolve(requests[count - 1] as SeenRequest);
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    dropConnections() {
      for (const socket of sockets) socket.destroy();
    },
    openSockets: () => sockets.size,
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Writes SSE response headers (as sse-express does) and optional first bytes. */
export function openSse(res: ServerResponse, first = 'retry: 1000\n\n: ok\n\n'): void {
  res.writeHead(200, {
    'Content-Type': 'text/event-stream',
    'Cache-Control': 'no-cache, no-transform',
    'X-Accel-Buffering': 'no',
  });
  if (first) res.write(first);
}

/** Answers with a JSON error body, as sse-express does before a stream opens. */
export function refuse(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  if (status === 204) {
    res.writeHead(204, headers).end();
    return;
  }
  res
    .writeHead(status, { 'Content-Type': 'application/json', ...headers })
    .end(JSON.stringify({ error: { code: `status_${status}`, message: `refused with ${status}` } }));
}
