import { EventValidationError } from './errors';

/**
 * The W3C Trace Context of an event's publisher: the optional `traceparent` and `tracestate`
 * envelope fields, in the text of the HTTP headers of the same names.
 *
 * @example
 * ```ts
 * const context: TraceContext = {
 *   traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
 *   tracestate: 'vendor=value',
 * };
 * ```
 */
export interface TraceContext {
  /** `version-traceid-parentid-flags`, lowercase hex (e.g. `00-4bf9…4736-00f0…02b7-01`). */
  traceparent: string;
  /** Vendor-specific trace state (`key=value` list members, comma-separated), when there is one. */
  tracestate?: string;
}

/**
 * Where {@link createEvent} takes the active trace context from; set by `registerOpenTelemetry`
 * of `@repopulse/events-core/otel`. Kept on `globalThis` so every copy of this package (ESM and
 * CJS) sees one registration.
 * @internal
 */
export const TRACE_SOURCE = Symbol.for('@repopulse/events-core.traceSource');

type TraceSource = () => TraceContext | undefined;

/**
 * The active trace context, when an OpenTelemetry API is registered and a span is active.
 * @internal
 */
export function activeTraceContext(): TraceContext | undefined {
  const source = (globalThis as { [TRACE_SOURCE]?: TraceSource })[TRACE_SOURCE];
  return source?.();
}

// version 00 is exactly 55 characters; a later version may append `-…` fields (W3C §3.2.4).
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}(-[^\s]*)?$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);
// W3C tracestate list member: simple key or tenant@system key, then `=`, then 1–256 printable
// ASCII characters other than `,` and `=`, not ending in a space.
const TRACESTATE_MEMBER =
  /^(?:[a-z][a-z0-9_\-*/]{0,255}|[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13})=[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;
const MAX_TRACESTATE_LENGTH = 512;
const MAX_TRACESTATE_MEMBERS = 32;

// Values found valid lately (the spans of the requests in flight), so the events of one span are
// checked once; bounded, emptied when full.
const validTraceparents = new Set<string>();
const validTracestates = new Set<string>();
const REMEMBERED = 256;

function remember(valid: Set<string>, value: string): void {
  if (valid.size >= REMEMBERED) valid.clear();
  valid.add(value);
}

function invalid(field: string, problem: string): never {
  throw new EventValidationError('invalid_field', `${field} ${problem}`, field);
}

/**
 * Whether `value` is a valid W3C `traceparent`: version 00 (or a later one, not `ff`), a
 * non-zero 32-hex-digit trace id, a non-zero 16-hex-digit parent id and two hex digits of flags.
 *
 * @example
 * ```ts
 * isTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'); // true
 * ```
 */
export function isTraceparent(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  // The events of one span carry one traceparent: checked once, not per event.
  if (validTraceparents.has(value)) return true;
  const match = TRACEPARENT.exec(value);
  if (!match) return false;
  const [, version, traceId, spanId, rest] = match;
  if (version === 'ff' || (version === '00' && rest !== undefined)) return false;
  if (traceId === ZERO_TRACE_ID || spanId === ZERO_SPAN_ID) return false;
  remember(validTraceparents, value);
  return true;
}

/**
 * Whether `value` is a valid W3C `tracestate`: at most 512 characters and 32 list members,
 * each `key=value` as the specification spells them (empty members are allowed).
 *
 * @example
 * ```ts
 * isTracestate('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE'); // true
 * ```
 */
export function isTracestate(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > MAX_TRACESTATE_LENGTH) return false;
  if (validTracestates.has(value)) return true;
  const members = value.split(',');
  let count = 0;
  for (const member of members) {
    const trimmed = member.replace(/^[ \t]+|[ \t]+$/g, '');
    if (trimmed === '') continue;
    if (++count > MAX_TRACESTATE_MEMBERS || !TRACESTATE_MEMBER.test(trimmed)) return false;
  }
  remember(validTracestates, value);
  return true;
}

/**
 * The trace id (32 hex digits) of a `traceparent`, or `undefined` when it is not a valid one.
 *
 * @example
 * ```ts
 * traceIdOf(event.traceparent); // '4bf92f3577b34da6a3ce929d0e0e4736'
 * ```
 */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  return isTraceparent(traceparent) ? traceparent.slice(3, 35) : undefined;
}

/**
 * Validates the optional trace context fields of `input` and copies them to `out`.
 * @internal
 */
export function copyTraceContext(input: Record<string, unknown>, out: Record<string, unknown>): void {
  const { traceparent, tracestate } = input;
  if (traceparent !== undefined) {
    if (!isTraceparent(traceparent))
      invalid('traceparent', 'must be a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>)');
    out.traceparent = traceparent;
  }
  if (tracestate !== undefined) {
    if (traceparent === undefined) invalid('tracestate', 'needs a traceparent');
    if (!isTracestate(tracestate))
      invalid('tracestate', 'must be a W3C tracestate (key=value list, at most 512 characters)');
    out.tracestate = tracestate;
  }
}
