import type { ResponseSink } from '../core/response-sink';

/**
 * Bytes a body holds unread before `write` reports backpressure (like a Node socket's
 * high-water mark): a reader that stops pulling leaves its bytes here, counted as buffered.
 */
const HIGH_WATER_MARK = 16 * 1024;

/** Counts a chunk's bytes against {@link HIGH_WATER_MARK}; one strategy shared by every body. */
const BYTE_STRATEGY: QueuingStrategy<Uint8Array> = {
  highWaterMark: HIGH_WATER_MARK,
  size: (chunk) => chunk.byteLength,
};

type Listener = () => void;
/** None, one (the usual case: no array per sink) or several listeners. */
type Listeners = Listener | Listener[] | undefined;

function added(listeners: Listeners, listener: Listener): Listeners {
  if (listeners === undefined) return listener;
  return Array.isArray(listeners) ? [...listeners, listener] : [listeners, listener];
}

function removed(listeners: Listeners, listener: Listener): Listeners {
  if (listeners === listener) return undefined;
  if (!Array.isArray(listeners)) return listeners;
  const rest = listeners.filter((each) => each !== listener);
  return rest.length === 0 ? undefined : rest;
}

function emit(listeners: Listeners): void {
  if (typeof listeners === 'function') listeners();
  else if (listeners) for (const listener of listeners) listener();
}

/**
 * A {@link ResponseSink} that becomes a Fetch `Response`: status and headers from `writeHead`, the
 * body a `ReadableStream` paced by its reader's demand (`write` returns `false` once
 * {@link HIGH_WATER_MARK} bytes wait unread; `drain` fires when the reader pulls again). A body
 * written whole (`end(bytes)` right after `writeHead`, e.g. JSON) is sent as bytes. The request's
 * `signal` aborting, or the reader cancelling, is the sink's `close`.
 *
 * The sink is its body's underlying source and its signal's `abort` listener itself (methods, not
 * closures: an idle stream holds no function objects of its own).
 */
export class FetchSink implements ResponseSink, UnderlyingDefaultSource<Uint8Array> {
  headersSent = false;
  writableEnded = false;
  /** Resolves with the response once its head is written (or the request was dropped). */
  readonly response: Promise<Response>;

  private resolve!: (response: Response) => void;
  private status = 200;
  private headers: Record<string, string> = {};
  private controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  private body: ReadableStream<Uint8Array> | undefined;
  private wholeBody: Uint8Array<ArrayBuffer> | undefined;
  private responded = false;
  /** Closed: ended, destroyed, aborted or cancelled; `close` was emitted (once). */
  private finished = false;
  private blocked = false;
  private closeListeners: Listeners = undefined;
  private drainListeners: Listeners = undefined;

  constructor(private readonly signal: AbortSignal | undefined) {
    this.response = new Promise<Response>((resolve) => {
      this.resolve = resolve;
    });
    if (signal?.aborted) this.finished = true;
    else signal?.addEventListener('abort', this);
  }

  /** True once the request was aborted (or the body cancelled) before the response ended. */
  get closed(): boolean {
    return this.finished;
  }

  /** {@link ResponseSink} */
  writeHead(statusCode: number, headers: Record<string, string>): void {
    this.headersSent = true;
    this.status = statusCode;
    this.headers = headers;
    // A body written whole follows in the same tick: then it goes out as bytes, not a stream.
    queueMicrotask(() => this.respond());
  }

  /** {@link ResponseSink} */
  write(chunk: Uint8Array): boolean {
    if (this.finished) return false;
    const controller = this.stream();
    controller.enqueue(chunk);
    const ok = (controller.desiredSize ?? 0) > 0;
    if (!ok) this.blocked = true;
    return ok;
  }

  /** {@link ResponseSink} */
  end(chunk?: Uint8Array): void {
    if (this.writableEnded) return;
    this.writableEnded = true;
    if (this.controller) {
      if (!this.finished) {
        if (chunk && chunk.length > 0) this.controller.enqueue(chunk);
        this.controller.close();
      }
    } else {
      this.wholeBody = chunk as Uint8Array<ArrayBuffer> | undefined;
    }
    this.settle();
    if (!this.responded && this.headersSent) this.respond();
  }

  /** {@link ResponseSink} */
  destroy(): void {
    const controller = this.stream();
    if (!this.finished && !this.writableEnded)
      controller.error(new Error('[repopulse] stream closed by the server'));
    this.writableEnded = true;
    this.respond();
    this.settle();
  }

  /** {@link ResponseSink}: bytes enqueued and not yet pulled by the body's reader. */
  get writableLength(): number {
    const desired = this.controller?.desiredSize;
    return typeof desired === 'number' ? Math.max(0, HIGH_WATER_MARK - desired) : 0;
  }

  /** {@link ResponseSink} */
  on(event: 'close' | 'drain', listener: Listener): this {
    if (event === 'close') this.closeListeners = added(this.closeListeners, listener);
    else this.drainListeners = added(this.drainListeners, listener);
    return this;
  }

  /** {@link ResponseSink} */
  removeListener(event: 'close' | 'drain', listener: Listener): this {
    if (event === 'close') this.closeListeners = removed(this.closeListeners, listener);
    else this.drainListeners = removed(this.drainListeners, listener);
    return this;
  }

  /** The body's source: keeps its controller. */
  start(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.controller = controller;
  }

  /** The body's source: the reader wants bytes; `drain` when a write had reported backpressure. */
  pull(): void {
    if (!this.blocked) return;
    this.blocked = false;
    emit(this.drainListeners);
  }

  /** The body's source: the reader cancelled. */
  cancel(): void {
    this.gone();
  }

  /** The request's `abort`: the client left (the server cancels the body itself; an error here would be logged as one). */
  handleEvent(): void {
    this.gone();
  }

  /** Resolves the response if nothing did yet (the request was dropped before any answer). */
  private respondIfSilent(): void {
    if (this.responded) return;
    if (!this.headersSent) {
      this.status = 503;
      this.headers = { 'Cache-Control': 'no-store' };
    }
    this.respond();
  }

  private respond(): void {
    if (this.responded) return;
    this.responded = true;
    const init = { status: this.status, headers: this.headers };
    if (this.body) this.resolve(new Response(this.body, init));
    else
      this.resolve(new Response(this.wholeBody && this.wholeBody.length > 0 ? this.wholeBody : null, init));
  }

  private stream(): ReadableStreamDefaultController<Uint8Array> {
    if (!this.controller) this.body = new ReadableStream<Uint8Array>(this, BYTE_STRATEGY);
    return this.controller as ReadableStreamDefaultController<Uint8Array>;
  }

  private gone(): void {
    this.writableEnded = true;
    this.settle();
  }

  /** Emits `close` once. */
  private settle(): void {
    if (this.finished) return;
    this.finished = true;
    this.signal?.removeEventListener('abort', this);
    emit(this.closeListeners);
    this.respondIfSilent();
  }
}
