import type { FetchLike } from '../../src/index';

/**
 * Wraps the real global `fetch` to count requests in flight from the client's side: from the call
 * until its body is fully read, fails, is cancelled, or its signal aborts. Proves "never two
 * connections at once" without relying on when a server notices a closed socket.
 */
export function trackingFetch(): { fetch: FetchLike; active: () => number; maxActive: () => number } {
  const real = globalThis.fetch;
  let active = 0;
  let maxActive = 0;
  const tracked: FetchLike = async (input, init) => {
    active++;
    maxActive = Math.max(maxActive, active);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      active--;
    };
    if (init.signal?.aborted) finish();
    init.signal?.addEventListener('abort', finish, { once: true });
    let res: Response;
    try {
      res = await real(input, init);
    } catch (error) {
      finish();
      throw error;
    }
    if (!res.body) {
      finish();
      return res;
    }
    const reader = res.body.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const { done: end, value } = await reader.read();
          if (end) {
            finish();
            controller.close();
          } else controller.enqueue(value);
        } catch (error) {
          finish();
          controller.error(error);
        }
      },
      cancel(reason) {
        finish();
        return reader.cancel(reason);
      },
    });
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
  return { fetch: tracked, active: () => active, maxActive: () => maxActive };
}
