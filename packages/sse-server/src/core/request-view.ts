/**
 * The parts of a request the server reads, built by each adapter from its framework's request.
 * The request's end (client gone, `request.signal` aborted) reaches the server as the
 * {@link ResponseSink}'s `close`.
 */
export interface RequestView {
  /** Request method (`GET`, `HEAD`, …). */
  readonly method: string;
  /** Path and query (`/events?after=…`); the server reads only the query. */
  readonly url: string;
  /** `2` on HTTP/2 (no `Connection` header then), else `1`. */
  readonly httpVersionMajor: number;
  /** A request header by lower-case name (the first when repeated). */
  header(name: string): string | undefined;
}
