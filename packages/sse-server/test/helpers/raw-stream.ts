import { type ClientRequest, type IncomingMessage, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { createTextBody } from '@repopulse/test-support';

/** One parsed SSE block (lines up to a blank line). */
export interface RawBlock {
  /** The block exactly as received, without its terminating blank line. */
  raw: string;
  id?: string;
  event?: string;
  data?: string;
  retry?: string;
  comment?: string;
}

/** A response read with plain `http.request`: status, raw headers and body bytes exactly. */
export interface RawResponse {
  status: number;
  headers: IncomingMessage['headers'];
  /** Header names and values exactly as sent, in order. */
  rawHeaders: string[];
  /** The body so far (decoded as UTF-8). */
  readonly text: string;
  /** Body chunks in arrival order, with their arrival time. */
  readonly chunks: { at: number; text: string }[];
  /** Complete SSE blocks so far. */
  blocks(): RawBlock[];
  /** Resolves when `predicate(text)` holds; rejects on timeout or when the response ends first. */
  waitFor(predicate: (text: string) => boolean, timeoutMs?: number): Promise<void>;
  /** Resolves when the response ended or its socket closed. */
  readonly ended: Promise<void>;
  /** True once ended. */
  readonly isEnded: boolean;
  req: ClientRequest;
  res: IncomingMessage;
  /** Closes the client side. */
  destroy(): void;
}

/** Splits an SSE body into complete blocks. */
export function parseBlocks(text: string): RawBlock[] {
  const out: RawBlock[] = [];
  const parts = text.split('\n\n');
  parts.pop(); // incomplete tail
  for (const raw of parts) {
    const block: RawBlock = { raw };
    for (const line of raw.split('\n')) {
      if (line.startsWith(':')) block.comment = line.slice(1).trimStart();
      else {
        const colon = line.indexOf(':');
        const name = colon === -1 ? line : line.slice(0, colon);
        const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (name === 'id' || name === 'event' || name === 'data' || name === 'retry') block[name] = value;
      }
    }
    out.push(block);
  }
  return out;
}

/** GETs `url` with `headers` (SSE by default) and resolves once the response headers are in. */
export function openRaw(
  url: string,
  headers: Record<string, string> = { Accept: 'text/event-stream' },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false });
    req.on('error', reject);
    req.on('response', (res) => {
      const body = createTextBody();
      const chunks: { at: number; text: string }[] = [];
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        chunks.push({ at: Date.now(), text: chunk });
        body.append(chunk);
      });
      res.on('end', body.end);
      res.on('close', body.end);
      res.on('error', body.end);
      req.on('close', body.end);
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        rawHeaders: res.rawHeaders,
        get text() {
          return body.text;
        },
        chunks,
        blocks: () => parseBlocks(body.text),
        waitFor: (predicate, timeoutMs) => body.waitFor(predicate, timeoutMs),
        ended: body.ended,
        get isEnded() {
          return body.isEnded;
        },
        req,
        res,
        destroy: () => req.destroy(),
      });
    });
    req.end();
  });
}

/** Reads a whole JSON response. */
export async function getJson(
  url: string,
  headers: Record<string, string> = { Accept: 'application/json' },
): Promise<{ status: number; headers: IncomingMessage['headers']; body: unknown }> {
  const res = await openRaw(url, headers);
  await res.ended;
  return { status: res.status, headers: res.headers, body: res.text ? JSON.parse(res.text) : undefined };
}

/**
 * A client that sends the request and then never reads: the socket is paused, so the kernel
 * buffers fill and the server sees backpressure.
 */
export function openNonReading(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<Socket> {
  const extra = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n${extra}\r\n`);
      socket.once('data', () => {
        socket.pause();
        resolve(socket);
      });
    });
    socket.on('error', reject);
  });
}

/** A request in flight whose response may take a while (a long-poll). */
export interface PendingRequest {
  /** Resolves with the whole response. */
  readonly done: Promise<{ status: number; headers: IncomingMessage['headers']; text: string }>;
  /** True once the response fully arrived or the request failed. */
  readonly isEnded: boolean;
  /** Aborts the request (closes the socket). */
  destroy(): void;
}

/** Sends a GET without waiting for its response. */
export function startRequest(url: string, headers: Record<string, string>): PendingRequest {
  let isEnded = false;
  const req = request(url, { headers, agent: false });
  const done = new Promise<{ status: number; headers: IncomingMessage['headers']; text: string }>(
    (resolve, reject) => {
      req.on('error', (error) => {
        isEnded = true;
        reject(error);
      });
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => {
          isEnded = true;
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text });
        });
      });
    },
  );
  done.catch(() => {});
  req.end();
  return {
    done,
    get isEnded() {
      return isEnded;
    },
    destroy: () => req.destroy(),
  };
}
