import { request as httpRequest, type IncomingMessage } from 'node:http';
import { startServer, type TestServer } from './http-server';

/**
 * What the proxy does with SSE requests (`Accept: text/event-stream`); JSON requests always pass.
 * - `pass`: streams through.
 * - `buffer`: holds status, headers and body until the upstream response ends (never, for SSE).
 * - `buffer-body`: forwards status and headers at once, holds the body until the end.
 * - `html`: answers 200 `text/html` itself (a captive portal, a misrouted request).
 * - `kill`: destroys the socket at once.
 * - `down`: destroys the socket at once, for JSON requests too (the server is unreachable).
 */
export type SseMode = 'pass' | 'buffer' | 'buffer-body' | 'html' | 'kill' | 'down';

/** A tiny reverse proxy for misbehaving-proxy tests. */
export interface TestProxy extends TestServer {
  /** Current SSE behaviour; change it at any time (affects new requests). */
  mode: SseMode;
}

/** Starts a proxy in front of `upstream` (an origin such as `http://127.0.0.1:1234`). */
export async function startProxy(upstream: string, mode: SseMode): Promise<TestProxy> {
  const target = new URL(upstream);
  const proxy = Object.assign(
    await startServer((req, res) => {
      const sse = (req.headers.accept ?? '').includes('text/event-stream');
      const behaviour: SseMode = sse || proxy.mode === 'down' ? proxy.mode : 'pass';
      if (behaviour === 'kill' || behaviour === 'down') return req.socket.destroy();
      if (behaviour === 'html') {
        res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>portal</html>');
        return;
      }
      const upstreamReq = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          path: req.url,
          method: req.method,
          headers: req.headers,
        },
        (upstreamRes: IncomingMessage) => {
          const headers = { ...upstreamRes.headers };
          if (behaviour === 'pass') {
            res.writeHead(upstreamRes.statusCode ?? 502, headers);
            upstreamRes.pipe(res);
            return;
          }
          if (behaviour === 'buffer-body') {
            res.writeHead(upstreamRes.statusCode ?? 502, headers);
            res.flushHeaders();
          }
          const chunks: Buffer[] = [];
          upstreamRes.on('data', (chunk: Buffer) => chunks.push(chunk));
          upstreamRes.on('end', () => {
            if (!res.headersSent) res.writeHead(upstreamRes.statusCode ?? 502, headers);
            res.end(Buffer.concat(chunks));
          });
        },
      );
      upstreamReq.on('error', () => res.destroy());
      // The client went away: drop the upstream request too.
      res.on('close', () => upstreamReq.destroy());
      req.pipe(upstreamReq);
    }),
    { mode },
  );
  return proxy;
}
