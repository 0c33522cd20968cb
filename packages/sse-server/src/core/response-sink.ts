import type { OutgoingHttpHeaders } from 'node:http';

/**
 * The parts of a response the core uses: Node's `ServerResponse` (also Express's, also behind
 * `compression()`) and HTTP/2's `Http2ServerResponse` both fit.
 */
export interface NodeResponse {
  /** Sends status and headers. */
  writeHead(statusCode: number, headers?: OutgoingHttpHeaders): unknown;
  /** Writes a chunk; `false` means it was buffered above the high-water mark (wait for `drain`). */
  write(chunk: Uint8Array | string): boolean;
  /** Ends the response. */
  end(chunk?: Uint8Array | string): unknown;
  /** Tears the connection (or HTTP/2 stream) down, dropping unsent bytes. */
  destroy(error?: Error): unknown;
  /** `close`: the connection ended; `drain`: buffered bytes were sent. */
  on(event: 'close' | 'drain', listener: () => void): unknown;
  /** Removes a listener added with `on`. */
  removeListener(event: 'close' | 'drain', listener: () => void): unknown;
  /** True once headers went out. */
  readonly headersSent: boolean;
  /** True once `end()` was called. */
  readonly writableEnded: boolean;
  /** Bytes buffered and not yet handed to the kernel (response plus socket). */
  readonly writableLength?: number;
  /** Holds writes back until {@link uncork}, so several chunks go out in one send. */
  cork?: () => void;
  /** Sends what was written since {@link cork}. */
  uncork?: () => void;
  /** Added by `compression()`: pushes compressed bytes out now. */
  flush?: () => void;
}
