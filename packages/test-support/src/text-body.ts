/**
 * A response body read as text, as it arrives: what came so far, its end, and waits on it. The raw
 * HTTP clients of the server tests build their responses on it.
 */
export interface TextBody {
  /** The body so far. */
  readonly text: string;
  /** True once {@link TextBody.end} was called. */
  readonly isEnded: boolean;
  /** Resolves when the body ended (or its connection closed). */
  readonly ended: Promise<void>;
  /** Adds a piece of text that arrived, and re-checks the waits. */
  append(piece: string): void;
  /** Marks the body ended (once; later calls do nothing) and calls `onEnd`. */
  end(): void;
  /** Resolves once `predicate(text)` holds; rejects when the body ends first or after `timeoutMs`. */
  waitFor(predicate: (text: string) => boolean, timeoutMs?: number, what?: string): Promise<void>;
}

/**
 * An empty {@link TextBody}; `onEnd` runs once when it ends.
 *
 * @example
 * ```ts
 * const body = createTextBody();
 * res.setEncoding('utf8').on('data', body.append).on('end', body.end);
 * await body.waitFor((text) => text.includes(': ok'), 5000, 'the first comment');
 * ```
 */
export function createTextBody(onEnd: () => void = () => {}): TextBody {
  let text = '';
  let isEnded = false;
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const waiter of [...waiters]) waiter();
  };
  let markEnded = () => {};
  const ended = new Promise<void>((resolve) => {
    markEnded = resolve;
  });
  return {
    get text() {
      return text;
    },
    get isEnded() {
      return isEnded;
    },
    ended,
    append(piece) {
      text += piece;
      wake();
    },
    end() {
      if (isEnded) return;
      isEnded = true;
      markEnded();
      wake();
      onEnd();
    },
    waitFor(predicate, timeoutMs = 10_000, what = 'a condition on the body') {
      return new Promise<void>((resolve, reject) => {
        const finish = (error?: Error) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (error) reject(error);
          else resolve();
        };
        const check = () => {
          if (predicate(text)) finish();
          else if (isEnded) finish(new Error(`body ended before ${what}; body: ${text.slice(-500)}`));
        };
        const timer = setTimeout(
          () => finish(new Error(`timed out waiting for ${what}; body: ${text.slice(-500)}`)),
          timeoutMs,
        );
        waiters.add(check);
        check();
      });
    },
  };
}
