import type { EventMap, EventType } from './catalog';
import { describeValue } from './describe-value';
import { type AnyEnvelope, type Envelope, parseEnvelope, type ValidationOptions } from './envelope';
import { EventValidationError } from './errors';

/** The media type of a CloudEvent in structured JSON mode, for the `Content-Type` of an HTTP request. */
export const CLOUDEVENTS_CONTENT_TYPE = 'application/cloudevents+json';

/** `source` of events that have no `repo_id`, unless {@link ToCloudEventOptions.source} says otherwise. */
export const DEFAULT_CLOUDEVENT_SOURCE = '/repopulse';

/**
 * A RepoPulse event as a CloudEvents 1.0 event in structured JSON mode. The envelope's `task_id`
 * is the `subject`; `request_id` and `repo_id` travel as the extension attributes `correlationid`
 * and `repoid` (extension names are lowercase letters and digits only); `traceparent` and
 * `tracestate` as those of the distributed-tracing extension.
 *
 * @example
 * ```ts
 * const ce: CloudEvent<'task.progress'> = toCloudEvent(event);
 * ce.data.percent; // number | undefined
 * ```
 */
export interface CloudEvent<K extends EventType = EventType> {
  /** Always `1.0`. */
  specversion: '1.0';
  /** The envelope's `id`. */
  id: string;
  /** Where the event happened: `/repos/<repo_id>` unless configured. */
  source: string;
  /** The envelope's `type`. */
  type: K;
  /** The envelope's `ts` as an RFC 3339 timestamp (`2026-12-01T09:30:00.000Z`). */
  time: string;
  /** Always `application/json`: `data` is the payload as JSON. */
  datacontenttype: 'application/json';
  /** The envelope's `task_id`, when it has one. */
  subject?: string;
  /** The envelope's `request_id`, when it has one. */
  correlationid?: string;
  /** The envelope's `repo_id`, when it has one. */
  repoid?: string;
  /** The envelope's `traceparent` (CloudEvents distributed-tracing extension), when it has one. */
  traceparent?: string;
  /** The envelope's `tracestate` (CloudEvents distributed-tracing extension), when it has one. */
  tracestate?: string;
  /** The envelope's payload. */
  data: EventMap[K];
}

/** Options of {@link toCloudEvent}. */
export interface ToCloudEventOptions {
  /**
   * The CloudEvents `source` (a URI-reference): a fixed string, or a function of the event.
   * @default `/repos/<repo_id>` (the id URI-encoded), or `/repopulse` for an event without `repo_id`
   * @example
   * ```ts
   * toCloudEvent(event, { source: (e) => `https://api.example.com/repos/${e.repo_id}` });
   * ```
   */
  source?: string | ((event: AnyEnvelope) => string);
}

const MAX_DATE_MS = 8.64e15;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;
const JSON_MEDIA_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;.*)?$/i;

/** CloudEvents attribute names of the envelope fields, for error messages about CloudEvents input. */
const ATTRIBUTE_OF: Record<string, string> = {
  ts: 'time',
  task_id: 'subject',
  request_id: 'correlationid',
  repo_id: 'repoid',
  payload: 'data',
};

function invalid(attribute: string, problem: string): never {
  throw new EventValidationError('invalid_field', `${attribute} ${problem}`, attribute);
}

/**
 * Maps an event envelope to a CloudEvents 1.0 event (structured JSON mode). The envelope is
 * validated first, so a bad one throws {@link EventValidationError} as {@link parseEnvelope} does;
 * a `source` option that yields an empty or non-string value, or a `ts` outside the range of
 * dates, throws `invalid_field`. `time` has millisecond precision.
 *
 * @example
 * ```ts
 * const ce = toCloudEvent(createEvent('task.progress', { phase: 'llm' }, { repo_id: 42, task_id: 7 }));
 * // { specversion: '1.0', id: '01JD…', source: '/repos/42', type: 'task.progress',
 * //   time: '2026-12-01T09:30:00.000Z', datacontenttype: 'application/json',
 * //   subject: '7', repoid: '42', data: { phase: 'llm' } }
 * ```
 */
export function toCloudEvent<K extends EventType>(
  envelope: Envelope<K>,
  options: ToCloudEventOptions = {},
): CloudEvent<K> {
  const event = parseEnvelope(envelope);
  if (event.ts > MAX_DATE_MS) invalid('ts', `must be a date (at most ${MAX_DATE_MS} ms), got ${event.ts}`);
  const { source: sourceOption } = options;
  const source =
    typeof sourceOption === 'function'
      ? sourceOption(event)
      : (sourceOption ??
        (event.repo_id === undefined
          ? DEFAULT_CLOUDEVENT_SOURCE
          : `/repos/${encodeURIComponent(event.repo_id)}`));
  if (typeof source !== 'string' || source.length === 0)
    invalid('source', `must be a non-empty string, got ${describeValue(source)}`);
  const ce: Record<string, unknown> = {
    specversion: '1.0',
    id: event.id,
    source,
    type: event.type,
    time: new Date(event.ts).toISOString(),
    datacontenttype: 'application/json',
  };
  if (event.task_id !== undefined) ce.subject = event.task_id;
  if (event.request_id !== undefined) ce.correlationid = event.request_id;
  if (event.repo_id !== undefined) ce.repoid = event.repo_id;
  if (event.traceparent !== undefined) ce.traceparent = event.traceparent;
  if (event.tracestate !== undefined) ce.tracestate = event.tracestate;
  ce.data = event.payload;
  return ce as unknown as CloudEvent<K>;
}

/**
 * Validates a CloudEvents 1.0 event in structured JSON mode (as parsed from an
 * `application/cloudevents+json` body) and returns the RepoPulse envelope it carries: `subject`
 * becomes `task_id`, `correlationid` `request_id`, `repoid` `repo_id`, `time` `ts`, `data` the
 * payload; the distributed-tracing extension's `traceparent` and `tracestate` keep their names.
 * Other extension attributes and `source` are not kept.
 *
 * Throws {@link EventValidationError} naming the CloudEvents attribute at fault: `invalid_envelope`
 * (not an object), `invalid_field` (`specversion` not `1.0`; a missing or empty `id`, `source`,
 * `type`; `time` missing or not RFC 3339; a non-JSON `datacontenttype`; `data_base64`), and
 * otherwise what {@link parseEnvelope} throws for the envelope (`unknown_type`, `invalid_payload`
 * for `data`, `too_large`).
 *
 * @example
 * ```ts
 * app.post('/cloudevents', express.json({ type: 'application/cloudevents+json' }), async (req, res) => {
 *   const event = fromCloudEvent(req.body);
 *   await bus.publish(`repo:${event.repo_id}`, event);
 *   res.sendStatus(202);
 * });
 * ```
 */
export function fromCloudEvent(input: unknown, options: ValidationOptions = {}): AnyEnvelope {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new EventValidationError('invalid_envelope', 'cloudevent must be a JSON object', 'cloudevent');
  }
  const ce = input as Record<string, unknown>;
  if (ce.specversion !== '1.0') invalid('specversion', `must be "1.0", got ${describeValue(ce.specversion)}`);
  for (const attribute of ['id', 'source', 'type']) {
    const value = ce[attribute];
    if (typeof value !== 'string' || value.length === 0)
      invalid(attribute, `is required (a non-empty string), got ${describeValue(value)}`);
  }
  const { time, datacontenttype } = ce;
  if (typeof time !== 'string' || !RFC3339.test(time) || Number.isNaN(Date.parse(time)))
    invalid('time', `is required (an RFC 3339 timestamp), got ${describeValue(time)}`);
  if (
    datacontenttype !== undefined &&
    (typeof datacontenttype !== 'string' || !JSON_MEDIA_TYPE.test(datacontenttype))
  )
    invalid(
      'datacontenttype',
      `must be a JSON media type (application/json), got ${describeValue(datacontenttype)}`,
    );
  if (ce.data_base64 !== undefined) invalid('data_base64', 'is not supported: data must be a JSON object');
  const envelope: Record<string, unknown> = {
    id: ce.id,
    type: ce.type,
    ts: Date.parse(time),
    payload: ce.data,
  };
  if (ce.subject !== undefined) envelope.task_id = ce.subject;
  if (ce.correlationid !== undefined) envelope.request_id = ce.correlationid;
  if (ce.repoid !== undefined) envelope.repo_id = ce.repoid;
  if (ce.traceparent !== undefined) envelope.traceparent = ce.traceparent;
  if (ce.tracestate !== undefined) envelope.tracestate = ce.tracestate;
  try {
    return parseEnvelope(envelope, options);
  } catch (error) {
    throw inCloudEventTerms(error);
  }
}

/** Renames envelope fields in a validation error to the CloudEvents attributes they came from. */
function inCloudEventTerms(error: unknown): unknown {
  if (!(error instanceof EventValidationError) || error.field === undefined) return error;
  const [head = '', ...rest] = error.field.split('.');
  const attribute = ATTRIBUTE_OF[head];
  const prefix = `[repopulse] ${error.field}`;
  if (attribute === undefined || !error.message.startsWith(prefix)) return error;
  const field = [attribute, ...rest].join('.');
  const message = `${field}${error.message.slice(prefix.length)}`;
  return new EventValidationError(error.code, message, field, { cause: error.cause });
}
