import type { RequestView } from '../core/request-view';

/** A {@link RequestView} over a Fetch `Request` (HTTP/1.1 as far as headers go: a Fetch response never carries `Connection`). */
export class FetchRequestView implements RequestView {
  readonly method: string;
  readonly url: string;
  readonly httpVersionMajor = 2;

  constructor(private readonly request: Request) {
    this.method = request.method;
    const url = request.url;
    const scheme = url.indexOf('://');
    const path = scheme === -1 ? -1 : url.indexOf('/', scheme + 3);
    this.url = path === -1 ? '/' : url.slice(path);
  }

  /** {@link RequestView} */
  header(name: string): string | undefined {
    return this.request.headers.get(name) ?? undefined;
  }
}
