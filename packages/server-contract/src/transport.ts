import { Agent as HttpAgent, request as requestHttp } from 'node:http';
import { type ClientHttp2Session, connect as connectHttp2, constants } from 'node:http2';
import { Agent as HttpsAgent, request as requestHttps } from 'node:https';
import { Readable } from 'node:stream';
import { createSseParser, type SseMessage } from '@repopulse/events-core/wire';
import { createTextBody } from '@repopulse/test-support';

/** Response headers, lower-case names. */
export type RawHeaders = Record<string, string | string[] | undefined>;

/** A response read byte for byte: status, headers, body text as it arrives. */
export interface RawResponse {
  status: number;
  headers: RawHeaders;
  /** The body so far, decoded as UTF-8. */
  readonly text: string;
  /** Body chunks in arrival order. */
  readonly chunks: string[];
  /** SSE messages with data dispatched so far (WHATWG parsing of {@link RawResponse.text}). */
  messages(): SseMessage[];
  /** Resolves once `predicate(text)` holds; rejects on timeout or when the body ends first. */
  waitFor(predicate: (text: string) => boolean, timeoutMs?: number, what?: string): Promise<void>;
  /** Resolves when the body ended or the connection closed. */
  readonly ended: Promise<void>;
  readonly isEnded: boolean;
  /** Calls `onText` with every chunk so far and each later one, then `onEnd` once the body ended. */
  follow(onText: (text: string) => void, onEnd: () => void): void;
  /** Stops reading: bytes pile up in the kernel (HTTP/1.1) or the stream's window (HTTP/2). */
  pause(): void;
  /** Closes the client side. */
  destroy(): void;
}

/** What a request sends. */
export interface RawRequestInit {
  method?: string;
  headers?: Record<string, string>;
  /** Aborts the request, also before its response headers (a long-poll that waits). */
  signal?: AbortSignal;
}

/** How the suite talks to a mounted server: one connection per request, as `agent: false`. */
export interface Transport {
  /** `'http1'` or `'http2'`. */
  protocol: 'http1' | 'http2';
  /** Sends one request and resolves once the response headers are in. */
  request(url: string, init?: RawRequestInit): Promise<RawResponse>;
  /** A WHATWG `fetch` over this transport, for SSE clients (`eventsource`, `@repopulse/client`). */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>;
}

interface Body {
  onData(chunk: Buffer): void;
  onEnd(): void;
}

function rawResponse(
  status: number,
  headers: RawHeaders,
  control: { pause(): void; destroy(): void },
): RawResponse & Body {
  const decoder = new TextDecoder();
  const chunks: string[] = [];
  const followers: { onText(text: string): void; onEnd(): void }[] = [];
  const body = createTextBody(() => {
    for (const follower of followers) follower.onEnd();
  });
  return {
    status,
    headers,
    get text() {
      return body.text;
    },
    chunks,
    messages() {
      const out: SseMessage[] = [];
      createSseParser(
        (message) => {
          if (message.data !== undefined) out.push(message);
        },
        () => {},
      )(body.text);
      return out;
    },
    waitFor: body.waitFor,
    ended: body.ended,
    get isEnded() {
      return body.isEnded;
    },
    follow(onText, onEnd) {
      for (const chunk of chunks) onText(chunk);
      if (body.isEnded) onEnd();
      else followers.push({ onText, onEnd });
    },
    pause: () => control.pause(),
    destroy: () => {
      control.destroy();
      body.end();
    },
    onData(chunk) {
      const piece = decoder.decode(chunk, { stream: true });
      chunks.push(piece);
      body.append(piece);
      for (const follower of followers) follower.onText(piece);
    },
    onEnd: () => body.end(),
  };
}

/** HTTP/1.1 (or HTTPS trusting `ca`), a fresh keep-alive connection per request. */
export function http1Transport(ca?: string): Transport {
  const request = (url: string, init: RawRequestInit = {}) =>
    new Promise<RawResponse>((resolve, reject) => {
      const secure = url.startsWith('https:');
      const send = secure ? requestHttps : requestHttp;
      // A keep-alive connection of its own, as a browser's (`agent: false` would ask for
      // `Connection: close`); destroyed with the response.
      const agent = secure
        ? new HttpsAgent({ keepAlive: true, ...(ca ? { ca } : {}) })
        : new HttpAgent({ keepAlive: true });
      const req = send(url, {
        method: init.method ?? 'GET',
        headers: init.headers ?? { Accept: 'text/event-stream' },
        agent,
      });
      req.on('close', () => agent.destroy());
      req.on('error', reject);
      init.signal?.addEventListener('abort', () => req.destroy(new Error('aborted')));
      req.on('response', (res) => {
        const raw = rawResponse(res.statusCode ?? 0, res.headers, {
          pause: () => res.pause(),
          destroy: () => req.destroy(),
        });
        res.on('data', (chunk: Buffer) => raw.onData(chunk));
        res.on('end', raw.onEnd);
        res.on('close', raw.onEnd);
        res.on('error', raw.onEnd);
        resolve(raw);
      });
      req.end();
    });
  return { protocol: 'http1', request, fetch: fetchOver(request) };
}

/** HTTP/2 over TLS trusting `ca`, a fresh session per request (Node's `http2` client). */
export function http2Transport(ca: string): Transport {
  const request = (url: string, init: RawRequestInit = {}) =>
    new Promise<RawResponse>((resolve, reject) => {
      const target = new URL(url);
      const session: ClientHttp2Session = connectHttp2(target.origin, { ca });
      session.on('error', reject);
      const stream = session.request({
        [constants.HTTP2_HEADER_METHOD]: init.method ?? 'GET',
        [constants.HTTP2_HEADER_PATH]: target.pathname + target.search,
        ...(init.headers ?? { accept: 'text/event-stream' }),
      });
      stream.on('error', reject);
      init.signal?.addEventListener('abort', () => {
        session.destroy();
        reject(new Error('aborted'));
      });
      stream.on('response', (headers) => {
        const { ':status': status, ...rest } = headers;
        const raw = rawResponse(Number(status), rest as RawHeaders, {
          pause: () => stream.pause(),
          destroy: () => {
            stream.close(constants.NGHTTP2_CANCEL);
            session.destroy();
          },
        });
        stream.on('data', (chunk: Buffer) => raw.onData(chunk));
        stream.on('end', raw.onEnd);
        stream.on('close', () => {
          raw.onEnd();
          session.close();
        });
        resolve(raw);
      });
      stream.end();
    });
  return { protocol: 'http2', request, fetch: fetchOver(request) };
}

/** A `fetch` for GETs and HEADs built on `request`: streams the body as it arrives, honours `signal`. */
function fetchOver(
  request: (url: string, init?: RawRequestInit) => Promise<RawResponse>,
): Transport['fetch'] {
  return async (input, init = {}) => {
    const url = input instanceof Request ? input.url : String(input);
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, name) => {
      headers[name] = value;
    });
    const signal = init.signal;
    signal?.throwIfAborted();
    const raw = await request(url, { method: init.method ?? 'GET', headers, ...(signal ? { signal } : {}) });
    const body = new Readable({ read() {} });
    raw.follow(
      (text) => body.push(text),
      () => body.push(null),
    );
    signal?.addEventListener('abort', () => {
      raw.destroy();
      body.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    });
    const responseHeaders = new Headers();
    for (const [name, value] of Object.entries(raw.headers)) {
      if (value === undefined || name.startsWith(':')) continue;
      for (const one of Array.isArray(value) ? value : [value]) responseHeaders.append(name, one);
    }
    const nullBody = init.method === 'HEAD' || raw.status === 204 || raw.status === 304;
    return new Response(nullBody ? null : (Readable.toWeb(body) as ReadableStream<Uint8Array>), {
      status: raw.status,
      headers: responseHeaders,
    });
  };
}
