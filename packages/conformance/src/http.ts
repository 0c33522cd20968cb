import { createSseParser, type SseMessage } from '@repopulse/events-core/wire';

/** The `fetch` the checks use (the global one by default). */
export type ConformanceFetch = (input: string, init: RequestInit) => Promise<Response>;

/** What one request read: status, headers, the body text and the SSE messages in it. */
export interface ReadResult {
  status: number;
  headers: Headers;
  /** The body read (all of it, or up to where reading stopped). */
  text: string;
  /** SSE messages with data, in order (WHATWG parsing of `text`). */
  messages: SseMessage[];
  /** True when the body ended by itself (not stopped by the reader). */
  ended: boolean;
}

/** How long to read and when to stop. */
export interface ReadOptions {
  /** Stop once this holds (the connection is then closed by the reader). */
  until?: (read: ReadResult) => boolean;
  /** Stop after this long, even if `until` never held. */
  timeoutMs: number;
}

/**
 * Sends one request and reads its body until `until` holds, the body ends, or `timeoutMs` passes;
 * then aborts the request. Never throws for an HTTP status; throws for a network error.
 */
export async function readBody(
  fetch: ConformanceFetch,
  url: string,
  init: RequestInit,
  { until = () => false, timeoutMs }: ReadOptions,
): Promise<ReadResult> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const response = await fetch(url, { ...init, signal: abort.signal });
    const result: ReadResult = {
      status: response.status,
      headers: response.headers,
      text: '',
      messages: [],
      ended: false,
    };
    const parse = createSseParser(
      (message) => {
        if (message.data !== undefined) result.messages.push(message);
      },
      () => {},
    );
    if (!response.body) {
      result.ended = true;
      return result;
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    try {
      while (!until(result)) {
        const { done, value } = await reader.read();
        if (done) {
          result.ended = true;
          break;
        }
        const text = decoder.decode(value, { stream: true });
        result.text += text;
        parse(text);
      }
    } catch (error) {
      if (!abort.signal.aborted) throw error;
    }
    abort.abort();
    return result;
  } catch (error) {
    if (abort.signal.aborted) throw new Error(`no answer within ${timeoutMs} ms`);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
