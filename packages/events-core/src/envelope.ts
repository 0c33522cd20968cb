import type { EventMap, EventType } from './catalog';
import { envelopeSize } from './envelope-size';
import { EventValidationError } from './errors';
import { newEventId } from './ids';
import { copyJsonData, NOT_PLAIN } from './json-copy';
import { isKnownEventType, registeredType } from './registry';
import { sealEnvelope } from './sealed-envelope';
import { checkControlChars } from './text';
import { activeTraceContext, copyTraceContext } from './trace-context';

/**
 * One event as it travels on the wire (snake_case JSON). `K` fixes the `type`, and with it the
 * payload type.
 */
export interface Envelope<K extends EventType = EventType> {
  /** Unique, sortable event id (a ULID), made at creation; stable across topics and replays. */
  id: string;
  /** The event type, from the catalog or registered. */
  type: K;
  /** Creation time, milliseconds since epoch. */
  ts: number;
  /** The repository the event is about. */
  repo_id?: string;
  /** The task the event is about. */
  task_id?: string;
  /** Correlates the events of one user action. */
  request_id?: string;
  /** W3C `traceparent` of the publisher's span at creation, when OpenTelemetry was active. */
  traceparent?: string;
  /** W3C `tracestate` that went with {@link Envelope.traceparent}, when there was one. */
  tracestate?: string;
  /** The type's payload. */
  payload: EventMap[K];
}

/** The envelope of one event type: `EnvelopeOf<'task.progress'>['payload']` is `TaskProgressPayload`. */
export type EnvelopeOf<K extends EventType> = Envelope<K>;

/** Any valid envelope, as a union discriminated by `type` (narrow with `switch (e.type)`). */
export type AnyEnvelope = { [K in EventType]: Envelope<K> }[EventType];

/** Optional envelope fields for {@link createEvent}. */
export interface EventMeta {
  /** The repository the event is about; numbers are converted to strings. */
  repo_id?: string | number;
  /** The task the event is about; numbers are converted to strings. */
  task_id?: string | number;
  /** Correlation id of the user action. */
  request_id?: string;
  /** Override the generated id (e.g. to re-publish an event with its original id). */
  id?: string;
  /** Override the creation time (ms since epoch). @default Date.now() */
  ts?: number;
  /**
   * W3C `traceparent` to carry (e.g. to re-publish an event with its original trace context).
   * @default the active OpenTelemetry span's, once `registerOpenTelemetry` of
   * `@repopulse/events-core/otel` ran; otherwise none
   */
  traceparent?: string;
  /** W3C `tracestate` to carry with {@link EventMeta.traceparent}. @default the active span's */
  tracestate?: string;
}

/** Limits applied when validating an envelope. */
export interface ValidationOptions {
  /**
   * Largest accepted envelope, in bytes of its UTF-8 JSON.
   * @default 65536
   */
  maxBytes?: number;
}

/** Default {@link ValidationOptions.maxBytes}: 64 KiB. */
export const DEFAULT_MAX_EVENT_BYTES = 64 * 1024;

const MAX_ID_LENGTH = 256;

/** `value` when it is a valid id field (`id`, `repo_id`, `task_id`, `request_id`); throws otherwise. */
function idField(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ID_LENGTH) {
    fail('invalid_field', name, `must be a non-empty string of at most ${MAX_ID_LENGTH} characters`);
  }
  checkControlChars(value, name);
  return value;
}

function fail(
  code: 'invalid_envelope' | 'invalid_field' | 'invalid_payload' | 'async_schema',
  field: string,
  message: string,
): never {
  throw new EventValidationError(code, `${field} ${message}`, field);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Validates any input as an envelope and returns a normalized deep copy (unknown top-level
 * fields dropped; the payload copied, so later changes by the caller cannot alter it).
 * Throws {@link EventValidationError}: `invalid_envelope` (not an object), `unknown_type`,
 * `invalid_field` (bad id/type/ts, CR/LF/NUL in type or ids, a `traceparent` or `tracestate` that is
 * not W3C Trace Context, a `tracestate` without `traceparent`), `invalid_payload` (not an object,
 * missing or mistyped field, unknown status), `too_large`.
 *
 * @example
 * ```ts
 * const event = parseEnvelope(JSON.parse(body));
 * if (event.type === 'task.progress') console.log(event.payload.percent);
 * ```
 */
export function parseEnvelope(input: unknown, options: ValidationOptions = {}): AnyEnvelope {
  return parseEnvelopeJson(input, options).envelope;
}

/**
 * {@link parseEnvelope}, also returning the envelope's JSON text (made once, to measure it), so a
 * bus stores it without serializing again. Not exported from the package.
 * @internal
 */
export function parseEnvelopeJson(
  input: unknown,
  options: ValidationOptions = {},
): { envelope: AnyEnvelope; json: string } {
  if (!isPlainObject(input)) fail('invalid_envelope', 'envelope', 'must be a JSON object');
  const { type, ts, payload } = input;
  if (typeof type !== 'string') fail('invalid_field', 'type', 'must be a string');
  checkControlChars(type, 'type');
  if (!isKnownEventType(type)) {
    throw new EventValidationError(
      'unknown_type',
      `type "${type}" is not in the catalog nor registered`,
      'type',
    );
  }
  const out: Record<string, unknown> = { id: idField(input.id, 'id'), type, ts: undefined };
  if (input.repo_id !== undefined) out.repo_id = idField(input.repo_id, 'repo_id');
  if (input.task_id !== undefined) out.task_id = idField(input.task_id, 'task_id');
  if (input.request_id !== undefined) out.request_id = idField(input.request_id, 'request_id');
  copyTraceContext(input, out);
  if (typeof ts !== 'number' || !Number.isFinite(ts) || ts < 0)
    fail('invalid_field', 'ts', 'must be a non-negative finite number');
  out.ts = ts === 0 ? 0 : ts; // -0 becomes 0, as its JSON text says
  if (!isPlainObject(payload)) fail('invalid_payload', 'payload', 'must be a JSON object');
  const verdict = registeredType(type)?.validate(payload) ?? { ok: true, value: payload };
  if (!verdict.ok) fail(verdict.code, verdict.path ? `payload.${verdict.path}` : 'payload', verdict.problem);
  const copy = copyJsonData(verdict.value);
  let json: string;
  try {
    // Plain JSON data is copied directly; anything JSON would change takes the JSON round trip,
    // so the envelope is always what its JSON text parses to.
    out.payload = copy === NOT_PLAIN ? JSON.parse(JSON.stringify(verdict.value)) : copy;
    json = JSON.stringify(out);
  } catch (cause) {
    throw new EventValidationError('invalid_payload', 'payload must be JSON-serializable', 'payload', {
      cause,
    });
  }
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_EVENT_BYTES;
  const size = envelopeSize(json, maxBytes);
  if (size > maxBytes) {
    throw new EventValidationError(
      'too_large',
      `envelope is ${size} bytes; the limit is ${maxBytes}`,
      'envelope',
    );
  }
  return { envelope: out as unknown as AnyEnvelope, json };
}

/**
 * Makes a valid envelope with a fresh sortable `id` and `ts`; throws
 * {@link EventValidationError} like {@link parseEnvelope} when the payload is invalid.
 *
 * The envelope is deeply frozen (its payload is a copy of the one given): it stays exactly what
 * was validated, so `publish` stores it without validating it again. To change an event, make a
 * new one (or spread it into a new object, which `publish` then validates).
 *
 * @example
 * ```ts
 * const event = createEvent('task.progress', { phase: 'llm', percent: 40 }, { repo_id: 42, task_id: 7 });
 * await bus.publish('repo:42', event);
 * ```
 */
export function createEvent<K extends EventType>(
  type: K,
  payload: EventMap[K],
  meta: EventMeta = {},
  options: ValidationOptions = {},
): Envelope<K> {
  const ts = meta.ts ?? Date.now();
  const trace = meta.traceparent === undefined ? activeTraceContext() : meta;
  // Every field in one object of one shape (validation skips the `undefined` ones), rather than
  // fields added one by one: one allocation, and one shape for validation to read.
  const envelope = {
    id: meta.id ?? newEventId(ts),
    type,
    ts,
    repo_id: meta.repo_id === undefined ? undefined : String(meta.repo_id),
    task_id: meta.task_id === undefined ? undefined : String(meta.task_id),
    request_id: meta.request_id,
    traceparent: trace?.traceparent,
    tracestate: trace?.tracestate,
    payload,
  };
  const made = parseEnvelopeJson(envelope, options);
  sealEnvelope(made.envelope, made.json);
  return made.envelope as Envelope<K>;
}
