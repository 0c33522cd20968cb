import { comparePositions, isPosition, type SseMessage } from '@repopulse/events-core/wire';
import type { ConformanceFetch } from './http';
import { readBody } from './http';

/** What the checks share: where the server is, how to reach it, and the replay they compare to. */
export interface CheckContext {
  /** The events URL under test. */
  url: string;
  /** The URL with `query` parameters set. */
  with(query: Record<string, string>): string;
  /** Request headers carrying the credentials (`Authorization: Bearer`), if any. */
  auth: Record<string, string>;
  fetch: ConformanceFetch;
  /** How long one request may take before its check fails. */
  timeoutMs: number;
  /** How many retained events the topic holds at least. */
  minEvents: number;
  /** The first `minEvents` events of a replay from `0-0`, read once and shared by the checks. */
  replay(): Promise<SseMessage[]>;
  /** A URL of a topic the credentials may not read (403), if given. */
  forbiddenUrl: string | undefined;
  /** Whether credentials were given (the server then requires them). */
  hasToken: boolean;
}

/** A failed expectation: its message says what was expected and what came. */
export class CheckFailure extends Error {
  override name = 'CheckFailure';
}

/** Throws a {@link CheckFailure} with `why` unless `condition` holds. */
export function expectThat(condition: unknown, why: string): asserts condition {
  if (!condition) throw new CheckFailure(why);
}

/** `JSON.stringify`, cut to `max` characters, for failure messages. */
export function show(value: unknown, max = 120): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

export const SSE = 'text/event-stream';
export const JSON_TYPE = 'application/json';

/** Builds the context; the replay is read on first use. */
export function createContext(options: {
  url: string;
  token: string | undefined;
  forbiddenUrl: string | undefined;
  minEvents: number;
  timeoutMs: number;
  fetch: ConformanceFetch;
}): CheckContext {
  const auth: Record<string, string> = options.token ? { Authorization: `Bearer ${options.token}` } : {};
  let replay: Promise<SseMessage[]> | undefined;
  const ctx: CheckContext = {
    url: options.url,
    with(query) {
      const target = new URL(options.url);
      for (const [name, value] of Object.entries(query)) target.searchParams.set(name, value);
      return target.href;
    },
    auth,
    fetch: options.fetch,
    timeoutMs: options.timeoutMs,
    minEvents: options.minEvents,
    forbiddenUrl: options.forbiddenUrl,
    hasToken: options.token !== undefined,
    replay() {
      replay ??= readReplay(ctx);
      return replay;
    },
  };
  return ctx;
}

async function readReplay(ctx: CheckContext, from = '0-0'): Promise<SseMessage[]> {
  const read = await readBody(
    ctx.fetch,
    ctx.with({ last_event_id: from }),
    { headers: { Accept: SSE, ...ctx.auth } },
    { until: (r) => r.messages.length >= ctx.minEvents, timeoutMs: ctx.timeoutMs },
  );
  expectThat(read.status === 200, `the replay from ${from} answered HTTP ${read.status}: ${show(read.text)}`);
  const first = read.messages[0];
  if (from === '0-0' && first?.event === 'reset') {
    // The oldest events left the history: follow the reset to what is still retained.
    const retainedAfter = (JSON.parse(first.data!) as { retained_after?: unknown }).retained_after;
    if (typeof retainedAfter === 'string') return readReplay(ctx, retainedAfter);
  }
  const events = read.messages.slice(0, ctx.minEvents);
  expectThat(
    events.length === ctx.minEvents,
    `the replay from ${from} gave ${read.messages.length} event(s) within ${ctx.timeoutMs} ms; the topic must hold at least ${ctx.minEvents} (--min-events)`,
  );
  expectThat(
    events.every((m) => m.event !== 'reset'),
    `the replay from ${from} started with a reset (${show(events[0]?.data)}): the topic must retain at least --min-events events`,
  );
  for (const [i, message] of events.entries()) {
    expectThat(
      isPosition(message.id),
      `event ${i + 1} of the replay has id ${show(message.id)}, not a <ms>-<seq> position`,
    );
    if (i > 0) {
      expectThat(
        comparePositions(events[i - 1]!.id, message.id) < 0,
        `positions do not increase: ${events[i - 1]!.id} then ${message.id}`,
      );
    }
  }
  return events;
}
