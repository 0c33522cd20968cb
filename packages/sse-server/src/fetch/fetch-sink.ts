import type { ResponseSink } from '../core/response-sink';

/**
 * Bytes a body holds unread before `write` reports backpressure (like a Node socket's
 * high-water mark): a reader that stops pulling leaves its bytes here, counted as buffered.
 */
const HIGH_WATER_MARK = 16 * 1024;

type Listener = () => void;

/**
 * A {@link ResponseSink} that becomes a Fetch `Response`: status and headers from `writeHead`, the
 * body a `ReadableStream` paced by its reader's demand (`write` returns `false` once
 * {@link HIGH_WATER_MARK} bytes wait unread; `drain` fires when the reader pulls again). A body
 * written whole (`end(bytes)` right after `writeHead`, e.g. JSON) is sent as bytes. The request's
 * `signal` aborting, or the reader cancelling, is the sink's `close`.
 */
export class FetchSink implements ResponseSink {
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
  private closeListeners: Listener[] = [];
  private drainListeners: Listener[] = [];

  constructor(private readonly signal: AbortSignal | undefined) {
    this.response = new Promise<Response>((resolve) => {
      this.resolve = resolve;
    });
    if (signal?.aborted) this.finished = true;
    else signal?.addEventListener('abort', this.aborted);
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
    (event === 'close' ? this.closeListeners : this.drainListeners).push(listener);
    return this;
  }

  /** {@link ResponseSink} */
  removeListener(event: 'close' | 'drain', listener: Listener): this {
    const list = event === 'close' ? this.closeListeners : this.drainListeners;
    const at = list.indexOf(listener);
    if (at !== -1) list.splice(at, 1);
    return this;
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
    if (this.controller) return this.controller;
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    this.body = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          controller = c;
        },
        pull: () => this.pulled(),
        cancel: () => this.gone(),
      },
      { highWaterMark: HIGH_WATER_MARK, size: (chunk) => chunk.byteLength },
    );
    this.controller = controller;
    return controller;
  }

  private pulled(): void {
    if (!this.blocked) return;
    this.blocked = false;
    for (const listener of [...this.drainListeners]) listener();
  }

  /** The client left: the server cancels the body itself (an error here would be logged as one). */
  private readonly aborted = (): void => {
    this.gone();
  };

  private gone(): void {
    this.writableEnded = true;
    this.settle();
  }

  /** Emits `close` once. */
  private settle(): void {
    if (this.finished) return;
    this.finished = true;
    this.signal?.removeEventListener('abort', this.aborted);
    for (const listener of [...this.closeListeners]) listener();
    this.respondIfSilent();
  }
}
