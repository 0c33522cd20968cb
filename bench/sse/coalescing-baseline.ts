// The hand-written coalescing baseline every adapter is compared with, on the same framework:
// serialize each event once, join one tick's frames, one write per stream per tick.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { EventBus } from '@repopulse/events-core';
import { encodeSseFrame } from '@repopulse/events-core/wire';

/** The response headers of every hand-written stream. */
export const SSE_HEADERS = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache, no-transform',
};

/** What a hand-written stream sends first (the load process waits for the first bytes). */
export const PREAMBLE = 'retry: 3000\n\n: ok\n\n';

/** One bus subscription fanned out to every open stream, a tick's frames joined into one chunk. */
export interface CoalescingFanOut {
  /** Adds a stream's writer; returns its removal. */
  add(write: (chunk: Buffer) => void): () => void;
  /** Open streams. */
  readonly size: number;
  /** A `(req, res)` handler for `node:http`, `node:http2`'s compatibility API and Express. */
  nodeHandler(req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): void;
  /** A Fetch handler: the body is a `ReadableStream` the ticks are enqueued into. */
  fetchHandler(request: Request): Response;
}

/** Subscribes once to `topic` and returns the fan-out. */
export async function coalescingFanOut(bus: EventBus, topic: string): Promise<CoalescingFanOut> {
  const writers = new Set<(chunk: Buffer) => void>();
  let tick: Buffer[] = [];
  const flush = () => {
    const joined = tick.length === 1 ? (tick[0] as Buffer) : Buffer.concat(tick);
    tick = [];
    for (const write of writers) write(joined);
  };
  await bus.subscribe(topic, (d) => {
    if (d.reset) return;
    if (tick.length === 0) setImmediate(flush);
    tick.push(Buffer.from(encodeSseFrame(d.position, d.event), 'utf8'));
  });
  const add = (write: (chunk: Buffer) => void) => {
    writers.add(write);
    return () => void writers.delete(write);
  };
  return {
    add,
    get size() {
      return writers.size;
    },
    nodeHandler(req, res) {
      const out = res as ServerResponse;
      out.writeHead(200, SSE_HEADERS);
      out.write(PREAMBLE);
      const remove = add((chunk) => out.write(chunk));
      req.on('close', remove);
    },
    fetchHandler(request) {
      let remove = () => {};
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(Buffer.from(PREAMBLE));
          remove = add((chunk) => controller.enqueue(chunk));
          request.signal.addEventListener('abort', () => remove(), { once: true });
        },
        cancel: () => remove(),
      });
      return new Response(body, { headers: SSE_HEADERS });
    },
  };
}
