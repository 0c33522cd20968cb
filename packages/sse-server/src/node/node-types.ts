import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { RequestView } from '../core/request-view';
import type { ResponseSink } from '../core/response-sink';

/** The request a Node server hands over: `node:http`'s, or `node:http2`'s compatibility API. */
export type NodeServerRequest = IncomingMessage | Http2ServerRequest;

/** The parts of a request the server reads: Node's `IncomingMessage` and HTTP/2 requests both fit. */
export interface NodeRequest {
  /** Request method. */
  method?: string | undefined;
  /** Path and query (relative to the mount point under Express). */
  url?: string | undefined;
  /** Lower-cased request headers. */
  headers: IncomingHttpHeaders;
  /** `2` on HTTP/2. */
  httpVersionMajor: number;
}

/**
 * The parts of a response the server uses: Node's `ServerResponse` (also Express's, also behind
 * `compression()`) and HTTP/2's `Http2ServerResponse` both fit. A {@link ResponseSink} whose
 * methods also take Node's header objects and strings.
 */
export interface NodeResponse extends Omit<ResponseSink, 'writeHead' | 'write' | 'end' | 'destroy'> {
  /** Sends status and headers. */
  writeHead(statusCode: number, headers?: OutgoingHttpHeaders): unknown;
  /** Writes a chunk; `false` means it was buffered above the high-water mark (wait for `drain`). */
  write(chunk: Uint8Array | string): boolean;
  /** Ends the response. */
  end(chunk?: Uint8Array | string): unknown;
  /** Tears the connection (or HTTP/2 stream) down, dropping unsent bytes. */
  destroy(error?: Error): unknown;
}

/** A {@link RequestView} over a Node request (one small object, only while the request is set up). */
export class NodeRequestView implements RequestView {
  constructor(private readonly req: NodeRequest) {}

  /** {@link RequestView} */
  get method(): string {
    return this.req.method ?? 'GET';
  }

  /** {@link RequestView} */
  get url(): string {
    return this.req.url ?? '';
  }

  /** {@link RequestView} */
  get httpVersionMajor(): number {
    return this.req.httpVersionMajor;
  }

  /** {@link RequestView} */
  header(name: string): string | undefined {
    const value = this.req.headers[name];
    return Array.isArray(value) ? value[0] : value;
  }
}
