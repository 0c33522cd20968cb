/**
 * Where the server writes one response, built by each adapter. Node's `ServerResponse` (also
 * Express's, also behind `compression()`) and HTTP/2's `Http2ServerResponse` fit as they are; the
 * Fetch adapter builds one over a `ReadableStream`.
 *
 * Backpressure: `write` returns `false` once the response holds more than it wants buffered; the
 * sink then emits `drain` when it takes bytes again. `writableLength` tells how many bytes it holds
 * (for a Fetch body: bytes enqueued and not yet pulled by the reader).
 */
export interface ResponseSink {
  /** Sends status and headers. */
  writeHead(statusCode: number, headers: Record<string, string>): unknown;
  /** Writes a chunk; `false` means it was buffered above the high-water mark (wait for `drain`). */
  write(chunk: Uint8Array): boolean;
  /** Ends the response after what was written (and `chunk`). */
  end(chunk?: Uint8Array): unknown;
  /** Tears the response down, dropping unsent bytes (the client sees a broken stream). */
  destroy(): unknown;
  /**
   * `close`: the response ended or the client went away (request aborted, body cancelled);
   * `drain`: the sink takes bytes again after `write` returned `false`.
   */
  on(event: 'close' | 'drain', listener: () => void): unknown;
  /** Removes a listener added with `on`. */
  removeListener(event: 'close' | 'drain', listener: () => void): unknown;
  /** True once headers went out. */
  readonly headersSent: boolean;
  /** True once `end()` was called. */
  readonly writableEnded: boolean;
  /** Bytes written and not yet handed on (to the kernel, or to the body's reader). */
  readonly writableLength?: number;
  /** Holds writes back until {@link uncork}, so several chunks go out in one send. */
  cork?: () => void;
  /** Sends what was written since {@link cork}. */
  uncork?: () => void;
  /** Added by `compression()`: pushes compressed bytes out now. */
  flush?: () => void;
}
