import { isPosition } from '@repopulse/events-core/wire';
import { type CheckContext, expectThat, JSON_TYPE, SSE, show } from './context';
import { type ReadResult, readBody } from './http';

/** One check of the protocol: a name to refer to it, what it verifies, and how. */
export interface Check {
  /** Short stable name, e.g. `sse-headers`. */
  name: string;
  /** What it verifies, in a line. */
  title: string;
  /** What the check needs beyond the URL; without it the check is skipped. */
  needs?: 'token' | 'forbiddenUrl';
  /** Throws a `CheckFailure` (or any error) saying why the server does not conform. */
  run(ctx: CheckContext): Promise<void>;
}

const FAR_FUTURE = '9999999999999-0';

const sse = (
  ctx: CheckContext,
  url: string,
  headers: Record<string, string>,
  until: (r: ReadResult) => boolean,
) =>
  readBody(
    ctx.fetch,
    url,
    { headers: { Accept: SSE, ...ctx.auth, ...headers } },
    { until, timeoutMs: ctx.timeoutMs },
  );

/** A stream from the start of the topic (`?last_event_id=0-0`), read until it holds `messages` messages. */
const sseFromStart = (ctx: CheckContext, headers: Record<string, string>, messages: number) =>
  sse(ctx, ctx.with({ last_event_id: '0-0' }), headers, (r) => r.messages.length >= messages);

const json = async (ctx: CheckContext, url: string, init: RequestInit = {}) => {
  const read = await readBody(
    ctx.fetch,
    url,
    { ...init, headers: { Accept: JSON_TYPE, ...ctx.auth, ...(init.headers as Record<string, string>) } },
    { timeoutMs: ctx.timeoutMs },
  );
  return { ...read, body: parseJson(read.text) };
};

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function mediaType(headers: Headers): string {
  return (headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

function expectSseHeaders(read: ReadResult, what: string): void {
  expectThat(read.status === 200, `${what}: expected HTTP 200, got ${read.status} ${show(read.text)}`);
  expectThat(
    mediaType(read.headers) === SSE,
    `${what}: expected Content-Type text/event-stream, got ${show(read.headers.get('content-type'))}`,
  );
}

function expectErrorBody(body: unknown, code: string | RegExp, what: string): void {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  expectThat(
    typeof error?.code === 'string' && typeof error.message === 'string',
    `${what}: expected a JSON body {"error":{"code","message"}}, got ${show(body)}`,
  );
  expectThat(
    typeof code === 'string' ? error.code === code : code.test(error.code),
    `${what}: expected error code ${code}, got ${show(error.code)}`,
  );
}

function expectReset(read: ReadResult, reason: string, what: string): void {
  const first = read.messages[0];
  expectThat(
    first?.event === 'reset',
    `${what}: expected a first frame "event: reset", got ${show(first ?? read.text)}`,
  );
  const data = JSON.parse(first.data!) as { reason?: unknown; position?: unknown };
  expectThat(data.reason === reason, `${what}: expected reason ${show(reason)}, got ${show(first.data)}`);
  expectThat(
    isPosition(data.position) && first.id === data.position,
    `${what}: the reset's "id:" must be its data's "position" (the head), got id ${show(first.id)} and ${show(first.data)}`,
  );
}

/** A long-poll body's `position` is its last event's (`shown`: what the message shows as got). */
function expectLastPosition(
  body: { events?: { position?: string }[]; position?: string },
  shown: string,
): void {
  expectThat(
    body.position === body.events!.at(-1)!.position,
    `"position" must be the last event's, got ${shown}`,
  );
}

/** Every check, in the order they run. */
export const CHECKS: readonly Check[] = [
  {
    name: 'sse-headers',
    title:
      'SSE answers 200 with Content-Type text/event-stream, Cache-Control no-cache and no Content-Length',
    async run(ctx) {
      const read = await sse(ctx, ctx.url, {}, (r) => r.text.includes('\n\n'));
      expectSseHeaders(read, 'GET with Accept: text/event-stream');
      const cache = read.headers.get('cache-control') ?? '';
      expectThat(/\bno-cache\b/.test(cache), `expected Cache-Control with no-cache, got ${show(cache)}`);
      expectThat(!read.headers.has('content-length'), 'a stream must not carry Content-Length');
    },
  },
  {
    name: 'sse-first-bytes',
    title: 'a live stream starts at once with "retry: <ms>" and a comment, before any event',
    async run(ctx) {
      const read = await sse(ctx, ctx.url, {}, (r) => /^retry: \d+\r?\n\r?\n:[^\n]*\r?\n\r?\n/.test(r.text));
      expectSseHeaders(read, 'GET');
      expectThat(
        /^retry: \d+\r?\n\r?\n:[^\n]*\r?\n\r?\n/.test(read.text),
        `expected the body to start with "retry: <ms>", a blank line and a comment line; got ${show(read.text)}`,
      );
    },
  },
  {
    name: 'sse-framing',
    title: 'every frame is "id: <position>", "event: <type>", one "data:" line of the envelope JSON',
    async run(ctx) {
      const events = await ctx.replay();
      const read = await sseFromStart(ctx, {}, ctx.minEvents);
      for (const [i, message] of events.entries()) {
        const envelope = JSON.parse(message.data!) as Record<string, unknown>;
        expectThat(
          typeof envelope.id === 'string' && envelope.id.length === 26,
          `event ${i + 1}: envelope "id" must be a 26-character ULID, got ${show(envelope.id)}`,
        );
        expectThat(
          envelope.type === message.event,
          `event ${i + 1}: "event:" ${show(message.event)} is not the envelope's type ${show(envelope.type)}`,
        );
        expectThat(
          typeof envelope.ts === 'number',
          `event ${i + 1}: envelope "ts" must be a number, got ${show(envelope.ts)}`,
        );
        expectThat(
          typeof envelope.payload === 'object' && envelope.payload !== null,
          `event ${i + 1}: envelope "payload" must be an object, got ${show(envelope.payload)}`,
        );
        const frame = `id: ${message.id}\nevent: ${message.event}\ndata: ${message.data}\n\n`;
        expectThat(read.text.includes(frame), `event ${i + 1} is not framed exactly as ${show(frame, 200)}`);
      }
    },
  },
  {
    name: 'sse-resume-header',
    title: 'Last-Event-ID resumes right after that position (and wins over ?last_event_id=)',
    async run(ctx) {
      const events = await ctx.replay();
      const read = await sseFromStart(ctx, { 'Last-Event-ID': events[0]!.id }, 1);
      expectSseHeaders(read, 'GET with Last-Event-ID');
      expectThat(
        read.messages[0]?.id === events[1]!.id,
        `after Last-Event-ID ${events[0]!.id} expected ${events[1]!.id} first, got ${show(read.messages[0]?.id ?? read.text)}`,
      );
    },
  },
  {
    name: 'sse-resume-query',
    title: '?last_event_id= resumes right after that position',
    async run(ctx) {
      const events = await ctx.replay();
      const read = await sse(
        ctx,
        ctx.with({ last_event_id: events[1]!.id }),
        {},
        (r) => r.messages.length >= 1,
      );
      expectSseHeaders(read, 'GET with ?last_event_id=');
      expectThat(
        read.messages[0]?.id === events[2]!.id,
        `after ?last_event_id=${events[1]!.id} expected ${events[2]!.id} first, got ${show(read.messages[0]?.id ?? read.text)}`,
      );
      expectThat(
        read.messages[0]?.data === events[2]!.data,
        'a replayed frame differs from the same event in the replay from 0-0',
      );
    },
  },
  {
    name: 'sse-reset-malformed',
    title: 'a malformed Last-Event-ID gets one reset frame (reason "malformed", id = head)',
    async run(ctx) {
      const read = await sse(
        ctx,
        ctx.url,
        { 'Last-Event-ID': 'not-a-position' },
        (r) => r.messages.length >= 1,
      );
      expectSseHeaders(read, 'GET with a malformed Last-Event-ID');
      expectReset(read, 'malformed', 'Last-Event-ID: not-a-position');
    },
  },
  {
    name: 'sse-reset-unknown',
    title: 'a never-issued (future) position gets a reset with reason "unknown_position"',
    async run(ctx) {
      const read = await sse(ctx, ctx.url, { 'Last-Event-ID': FAR_FUTURE }, (r) => r.messages.length >= 1);
      expectSseHeaders(read, 'GET with a future Last-Event-ID');
      expectReset(read, 'unknown_position', `Last-Event-ID: ${FAR_FUTURE}`);
    },
  },
  {
    name: 'long-poll',
    title: 'Accept: application/json answers {events, position} after `after`, with Cache-Control no-store',
    async run(ctx) {
      const events = await ctx.replay();
      const read = await json(ctx, ctx.with({ after: events[0]!.id, wait: '0' }));
      expectThat(read.status === 200, `expected HTTP 200, got ${read.status} ${show(read.text)}`);
      expectThat(
        mediaType(read.headers) === JSON_TYPE,
        `expected Content-Type application/json, got ${show(read.headers.get('content-type'))}`,
      );
      expectThat(
        read.headers.get('cache-control') === 'no-store',
        `expected Cache-Control no-store, got ${show(read.headers.get('cache-control'))}`,
      );
      const body = read.body as
        | { events?: { position?: string; event?: unknown }[]; position?: string }
        | undefined;
      expectThat(
        Array.isArray(body?.events) && typeof body.position === 'string',
        `expected {"events":[…],"position":"…"}, got ${show(read.text)}`,
      );
      const got = body.events.slice(0, events.length - 1);
      const want = events.slice(1);
      expectThat(
        got.length === want.length && got.every((item, i) => item.position === want[i]!.id),
        `expected the positions after ${events[0]!.id} to be ${show(want.map((m) => m.id))}, got ${show(body.events.map((e) => e.position))}`,
      );
      expectThat(
        got.every((item, i) => JSON.stringify(item.event) === JSON.stringify(JSON.parse(want[i]!.data!))),
        'the long-poll events differ from the same events over SSE',
      );
      expectLastPosition(body, show(body.position));
    },
  },
  {
    name: 'long-poll-empty',
    title: 'a poll after the head with wait=0 answers at once with no events and the same position',
    async run(ctx) {
      const head = (await ctx.replay()).at(-1)!.id;
      const all = await json(ctx, ctx.with({ after: head, wait: '0' }));
      const body = all.body as { events?: { position: string }[]; position?: string } | undefined;
      expectThat(
        all.status === 200 && Array.isArray(body?.events),
        `expected HTTP 200 {"events":…}, got ${all.status} ${show(all.text)}`,
      );
      if (body.events.length === 0)
        expectThat(
          body.position === head,
          `expected position ${head} with no events, got ${show(body.position)}`,
        );
      else expectLastPosition(body, show(all.text));
    },
  },
  {
    name: 'long-poll-reset',
    title: 'a malformed `after` gets {"reset":{"reason":"malformed","position":<head>}}',
    async run(ctx) {
      const read = await json(ctx, ctx.with({ after: 'not-a-position', wait: '0' }));
      const reset = (read.body as { reset?: { reason?: unknown; position?: unknown } } | undefined)?.reset;
      expectThat(read.status === 200, `expected HTTP 200, got ${read.status} ${show(read.text)}`);
      expectThat(
        reset?.reason === 'malformed' && isPosition(reset.position),
        `expected a malformed reset, got ${show(read.text)}`,
      );
    },
  },
  {
    name: 'bad-parameter',
    title: 'a `wait` that is not a number gets 400 invalid_parameter with a JSON error body',
    async run(ctx) {
      const read = await json(ctx, ctx.with({ wait: 'soon' }));
      expectThat(
        read.status === 400,
        `expected HTTP 400 for ?wait=soon, got ${read.status} ${show(read.text)}`,
      );
      expectErrorBody(read.body, 'invalid_parameter', '?wait=soon');
    },
  },
  {
    name: 'head',
    title: 'HEAD answers the stream headers with no body',
    async run(ctx) {
      const read = await readBody(
        ctx.fetch,
        ctx.url,
        { method: 'HEAD', headers: { Accept: SSE, ...ctx.auth } },
        { timeoutMs: ctx.timeoutMs },
      );
      expectSseHeaders(read, 'HEAD');
      expectThat(read.text === '', `HEAD must have no body, got ${show(read.text)}`);
    },
  },
  {
    name: 'method-not-allowed',
    title: 'POST gets 405 method_not_allowed with Allow: GET, HEAD',
    async run(ctx) {
      const read = await json(ctx, ctx.url, { method: 'POST', headers: { 'Content-Length': '0' } });
      expectThat(read.status === 405, `expected HTTP 405, got ${read.status} ${show(read.text)}`);
      expectThat(
        read.headers.get('allow') === 'GET, HEAD',
        `expected Allow: GET, HEAD, got ${show(read.headers.get('allow'))}`,
      );
      expectErrorBody(read.body, 'method_not_allowed', 'POST');
    },
  },
  {
    name: 'unauthorized',
    title: 'without credentials, or with a bad token: 401 with WWW-Authenticate: Bearer and a JSON error',
    needs: 'token',
    async run(ctx) {
      const cases: [string, Record<string, string>, string | RegExp][] = [
        ['no credentials', {}, 'missing_token'],
        ['a bad token', { Authorization: 'Bearer conformance.invalid' }, 'invalid_token'],
      ];
      for (const [what, headers, code] of cases) {
        for (const accept of [SSE, JSON_TYPE]) {
          const read = await readBody(
            ctx.fetch,
            ctx.url,
            { headers: { Accept: accept, ...headers } },
            { timeoutMs: ctx.timeoutMs },
          );
          expectThat(
            read.status === 401,
            `${what} (${accept}): expected HTTP 401, got ${read.status} ${show(read.text)}`,
          );
          expectThat(
            /^Bearer/i.test(read.headers.get('www-authenticate') ?? ''),
            `${what}: expected WWW-Authenticate: Bearer, got ${show(read.headers.get('www-authenticate'))}`,
          );
          expectErrorBody(parseJson(read.text), code, what);
        }
      }
    },
  },
  {
    name: 'forbidden',
    title: 'the forbidden URL gets 403 forbidden with a JSON error, for SSE and long-poll',
    needs: 'forbiddenUrl',
    async run(ctx) {
      for (const accept of [SSE, JSON_TYPE]) {
        const read = await readBody(
          ctx.fetch,
          ctx.forbiddenUrl!,
          { headers: { Accept: accept, ...ctx.auth } },
          { timeoutMs: ctx.timeoutMs },
        );
        expectThat(
          read.status === 403,
          `${accept}: expected HTTP 403, got ${read.status} ${show(read.text)}`,
        );
        expectErrorBody(parseJson(read.text), 'forbidden', accept);
      }
    },
  },
];
