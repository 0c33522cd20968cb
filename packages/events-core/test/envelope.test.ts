import { describe, expect, expectTypeOf, it } from 'vitest';
import { utf8Length } from '../src/envelope-size';
import {
  type AnyEnvelope,
  type BuiltinEventMap,
  createEvent,
  DEFAULT_MAX_EVENT_BYTES,
  type DocCreatedPayload,
  type Envelope,
  type EnvelopeOf,
  EventValidationError,
  type EventValidationErrorCode,
  newEventId,
  parseEnvelope,
  type RepoStatusChangedPayload,
  type TaskProgressPayload,
  type TaskStatusChangedPayload,
} from '../src/index';
import { thrown } from './helpers/thrown';

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** A valid envelope of each catalog type, as it would arrive on the wire. */
const VALID: Record<keyof BuiltinEventMap, Record<string, unknown>> = {
  'repo.status_changed': { from: 'ready', to: 'analyzing' },
  'task.status_changed': { from: 'running', to: 'failed', error_msg: 'boom', started_at: 1, completed_at: 2 },
  'doc.created': { doc_id: 'd1', title: 'Overview', filename: 'overview.md' },
  'task.progress': { phase: 'llm', percent: 40, message: 'thinking' },
  'task.queue_changed': { ahead: 2, queued: 3 },
  'log.append': { level: 'warn', message: 'slow' },
  'repo.created': { name: 'repopulse', url: 'https://example.com/r.git' },
  'repo.deleted': {},
};

function wire(type: string, payload: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: '01JDX3V6Q8W4ZB1C2D3E4F5G6H', type, ts: 1_732_842_000_000, payload, ...extra };
}

/** Runs `fn`, expects an EventValidationError, returns it. */
const rejection = (fn: () => unknown): EventValidationError => thrown(EventValidationError, fn);

function expectRejected(input: unknown, code: EventValidationErrorCode, field: string, options = {}) {
  const error = rejection(() => parseEnvelope(input, options));
  expect(error.code).toBe(code);
  expect(error.field).toBe(field);
  expect(error.message).toContain(field);
  expect(error.message.startsWith('[repopulse] ')).toBe(true);
}

describe('createEvent', () => {
  it('makes a valid envelope with a ULID id, ts and the given meta', () => {
    const before = Date.now();
    const event = createEvent(
      'task.progress',
      { phase: 'llm', percent: 40 },
      { task_id: 't1', request_id: 'r1' },
    );
    expect(event.id).toMatch(ULID);
    expect(event.ts).toBeGreaterThanOrEqual(before);
    expect(event.ts).toBeLessThanOrEqual(Date.now());
    expect(event).toEqual({
      id: event.id,
      type: 'task.progress',
      ts: event.ts,
      task_id: 't1',
      request_id: 'r1',
      payload: { phase: 'llm', percent: 40 },
    });
    expect(parseEnvelope(JSON.parse(JSON.stringify(event)))).toEqual(event);
  });

  it('turns numeric repo_id and task_id into strings', () => {
    const event = createEvent('repo.deleted', {}, { repo_id: 42, task_id: 0 });
    expect(event.repo_id).toBe('42');
    expect(event.task_id).toBe('0');
  });

  it('honours meta.id and meta.ts', () => {
    const event = createEvent('repo.deleted', {}, { id: 'original-id', ts: 5 });
    expect(event.id).toBe('original-id');
    expect(event.ts).toBe(5);
  });

  it('encodes ts in the id time part (first 10 ULID chars)', () => {
    const a = createEvent('repo.deleted', {}, { ts: Date.now() + 60_000 });
    const b = createEvent('repo.deleted', {}, { ts: Date.now() + 120_000 });
    expect(a.id.slice(0, 10) < b.id.slice(0, 10)).toBe(true);
  });

  it('makes unique ids that sort in creation order, also within one millisecond', () => {
    const ids = Array.from({ length: 2000 }, () => createEvent('repo.deleted', {}).id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    const sameMs = Array.from({ length: 100 }, () => newEventId(1_700_000_000_000));
    expect([...sameMs].sort()).toEqual(sameMs);
    expect(new Set(sameMs).size).toBe(100);
  });

  it('stays monotonic when the clock goes backwards', () => {
    const later = newEventId(Date.now() + 10_000);
    const earlier = newEventId(Date.now());
    expect(earlier > later).toBe(true);
  });

  it('makes a well-formed id from a fractional or out-of-range ts', () => {
    expect(newEventId(Date.now() + 0.5)).toMatch(ULID);
    expect(newEventId(Number.NaN)).toMatch(ULID);
    expect(newEventId(-1)).toMatch(ULID);
    expect(newEventId(2 ** 60)).toMatch(ULID);
    expect(createEvent('repo.deleted', {}, { ts: 1.5 }).id).toMatch(ULID);
  });

  it('validates like parseEnvelope', () => {
    const error = rejection(() => createEvent('task.progress', { phase: 'llm', percent: 101 }));
    expect(error.code).toBe('invalid_payload');
    expect(error.field).toBe('payload.percent');
    expect(rejection(() => createEvent('repo.deleted', {}, { repo_id: 'a\nb' })).field).toBe('repo_id');
    expect(rejection(() => createEvent('repo.deleted', {}, { ts: -1 })).field).toBe('ts');
  });
});

describe('parseEnvelope accepts', () => {
  it.each(Object.entries(VALID))('%s', (type, payload) => {
    const input = wire(type, payload, { repo_id: '7', task_id: '9', request_id: 'req' });
    expect(parseEnvelope(input)).toEqual(input);
  });

  it('optional fields left out, and unknown payload fields (forward compatible)', () => {
    const input = wire('task.progress', { phase: 'llm', extra: { nested: [1, 2] } });
    expect(parseEnvelope(input)).toEqual(input);
  });

  it('drops unknown top-level fields', () => {
    const input = JSON.parse(
      `{"__proto__": {"polluted": true}, "junk": 1, ${JSON.stringify(wire('repo.deleted', {})).slice(1)}`,
    );
    const parsed = parseEnvelope(input);
    expect(Object.keys(parsed).sort()).toEqual(['id', 'payload', 'ts', 'type']);
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
  });

  it('every task status and repository status in status_changed payloads', () => {
    for (const s of ['pending', 'queued', 'running', 'completed', 'failed', 'canceled']) {
      expect(parseEnvelope(wire('task.status_changed', { from: s, to: s })).payload).toEqual({
        from: s,
        to: s,
      });
    }
    for (const s of ['pending', 'cloning', 'ready', 'analyzing', 'completed', 'error']) {
      expect(parseEnvelope(wire('repo.status_changed', { from: s, to: s })).payload).toEqual({
        from: s,
        to: s,
      });
    }
  });
});

describe('parseEnvelope rejects', () => {
  it.each([
    ['null', null],
    ['a string', '{"type":"repo.deleted"}'],
    ['an array', [wire('repo.deleted', {})]],
    ['a number', 42],
    ['a class instance', new Date()],
    ['undefined', undefined],
  ])('non-object input: %s', (_name, input) => {
    expectRejected(input, 'invalid_envelope', 'envelope');
  });

  it('an unknown type with unknown_type', () => {
    expectRejected(wire('repo.exploded', {}), 'unknown_type', 'type');
    const error = rejection(() => parseEnvelope(wire('repo.exploded', {})));
    expect(error.message).toContain('repo.exploded');
  });

  it('a missing or non-string type', () => {
    expectRejected({ ...wire('x', {}), type: undefined }, 'invalid_field', 'type');
    expectRejected({ ...wire('x', {}), type: 3 }, 'invalid_field', 'type');
  });

  it.each(['\r', '\n', '\0', '\r\n'])('CR/LF/NUL (%j) in type, before any catalog lookup', (ch) => {
    expectRejected(wire(`repo.deleted${ch}`, {}), 'invalid_field', 'type');
    expectRejected(wire(`repo.deleted${ch}data: forged`, {}), 'invalid_field', 'type');
  });

  describe.each(['id', 'repo_id', 'task_id', 'request_id'])('%s', (name) => {
    it.each(['\r', '\n', '\0'])('holding %j', (ch) => {
      expectRejected(wire('repo.deleted', {}, { [name]: `a${ch}b` }), 'invalid_field', name);
    });
    it.each([
      ['a number', 42],
      ['empty', ''],
      ['null', null],
      ['too long', 'x'.repeat(257)],
    ])('being %s', (_what, value) => {
      expectRejected(wire('repo.deleted', {}, { [name]: value }), 'invalid_field', name);
    });
  });

  it('a missing id (ids are required on the wire, the others optional)', () => {
    expectRejected({ ...wire('repo.deleted', {}), id: undefined }, 'invalid_field', 'id');
  });

  it.each([
    ['missing', undefined],
    ['a string', '1'],
    ['negative', -1],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
  ])('ts being %s', (_what, ts) => {
    expectRejected(wire('repo.deleted', {}, { ts }), 'invalid_field', 'ts');
  });

  it.each([
    ['missing', undefined],
    ['null', null],
    ['a string', 'hi'],
    ['an array', []],
    ['a number', 1],
    ['a Map', new Map()],
  ])('a payload that is %s', (_what, payload) => {
    expectRejected(wire('repo.deleted', payload), 'invalid_payload', 'payload');
  });

  it.each([
    ['repo.status_changed', { to: 'ready' }, 'payload.from'],
    ['repo.status_changed', { from: 'ready' }, 'payload.to'],
    ['task.status_changed', { from: 'running' }, 'payload.to'],
    ['doc.created', { title: 't', filename: 'f' }, 'payload.doc_id'],
    ['doc.created', { doc_id: 'd', filename: 'f' }, 'payload.title'],
    ['doc.created', { doc_id: 'd', title: 't' }, 'payload.filename'],
    ['task.progress', { percent: 3 }, 'payload.phase'],
    ['task.queue_changed', { queued: 3 }, 'payload.ahead'],
    ['log.append', { message: 'm' }, 'payload.level'],
    ['log.append', { level: 'info' }, 'payload.message'],
    ['repo.created', { url: 'u' }, 'payload.name'],
  ])('%s without a required field (%j → %s)', (type, payload, fieldName) => {
    expectRejected(wire(type, payload), 'invalid_payload', fieldName);
    expect(rejection(() => parseEnvelope(wire(type, payload))).message).toContain('required');
  });

  it.each([
    ['doc.created', { doc_id: 1, title: 't', filename: 'f' }, 'payload.doc_id'],
    ['doc.created', { doc_id: 'd', title: null, filename: 'f' }, 'payload.title'],
    ['task.progress', { phase: 'p', percent: '40' }, 'payload.percent'],
    ['task.progress', { phase: 'p', percent: -1 }, 'payload.percent'],
    ['task.progress', { phase: 'p', percent: 100.5 }, 'payload.percent'],
    ['task.progress', { phase: 'p', percent: Number.NaN }, 'payload.percent'],
    ['task.progress', { phase: 'p', message: 5 }, 'payload.message'],
    ['task.progress', { phase: ['p'] }, 'payload.phase'],
    ['task.queue_changed', { ahead: -1 }, 'payload.ahead'],
    ['task.queue_changed', { ahead: '2' }, 'payload.ahead'],
    ['task.queue_changed', { ahead: 0, queued: 0 }, 'payload.queued'],
    ['task.status_changed', { from: 'running', to: 'failed', error_msg: false }, 'payload.error_msg'],
    ['task.status_changed', { from: 'running', to: 'completed', started_at: '1' }, 'payload.started_at'],
    ['task.status_changed', { from: 'running', to: 'completed', completed_at: -5 }, 'payload.completed_at'],
    ['repo.status_changed', { from: 'ready', to: 'error', error_msg: {} }, 'payload.error_msg'],
    ['repo.created', { name: 'n', url: 1 }, 'payload.url'],
    ['log.append', { level: 'info', message: { text: 'm' } }, 'payload.message'],
  ])('%s with a wrong field type (%j → %s)', (type, payload, fieldName) => {
    expectRejected(wire(type, payload), 'invalid_payload', fieldName);
  });

  it.each([
    ['repo.status_changed', { from: 'ready', to: 'archived' }, 'payload.to'],
    ['repo.status_changed', { from: 'running', to: 'ready' }, 'payload.from'],
    ['task.status_changed', { from: 'pending', to: 'done' }, 'payload.to'],
    ['task.status_changed', { from: 'Pending', to: 'running' }, 'payload.from'],
    ['log.append', { level: 'fatal', message: 'm' }, 'payload.level'],
  ])('%s with an unknown status/enum value (%j → %s)', (type, payload, fieldName) => {
    expectRejected(wire(type, payload), 'invalid_payload', fieldName);
    expect(rejection(() => parseEnvelope(wire(type, payload))).message).toContain('one of');
  });

  it.each([
    ['task.progress', { percent: 3 }, 'payload.phase is required (a string)'],
    [
      'task.progress',
      { phase: 'p', percent: 'x' },
      'payload.percent must be a number from 0 to 100, got "x"',
    ],
    [
      'task.progress',
      { phase: 'p', percent: 150 },
      'payload.percent must be a number from 0 to 100, got 150',
    ],
    ['task.progress', { phase: null }, 'payload.phase must be a string, got null'],
    ['task.progress', { phase: ['p'] }, 'payload.phase must be a string, got an array'],
    [
      'log.append',
      { level: 'info', message: { text: 'm' } },
      'payload.message must be a string, got an object',
    ],
    [
      'log.append',
      { level: 'fatal', message: 'm' },
      'payload.level must be one of debug, info, warn, error, got "fatal"',
    ],
    // A long value is shown cut at 40 characters.
    [
      'task.status_changed',
      { from: 'running', to: 'x'.repeat(60) },
      `payload.to must be one of pending, queued, running, completed, failed, canceled, got "${'x'.repeat(40)}…"`,
    ],
  ])('%s: the message reads naturally (%j)', (type, payload, message) => {
    expect(rejection(() => parseEnvelope(wire(type, payload))).message).toBe(`[repopulse] ${message}`);
  });

  it('a payload that cannot be serialized, keeping the cause', () => {
    const error = rejection(() => parseEnvelope(wire('task.progress', { phase: 'p', big: 1n })));
    expect(error.code).toBe('invalid_payload');
    expect(error.field).toBe('payload');
    expect(error.cause).toBeInstanceOf(TypeError);
  });

  describe('size', () => {
    /** An envelope whose UTF-8 JSON is exactly `bytes` long. */
    function envelopeOfSize(bytes: number, char = 'x'): Record<string, unknown> {
      const base = wire('log.append', { level: 'info', message: '' });
      const baseBytes = utf8Length(JSON.stringify(base));
      const charBytes = utf8Length(char);
      expect((bytes - baseBytes) % charBytes).toBe(0);
      return wire('log.append', { level: 'info', message: char.repeat((bytes - baseBytes) / charBytes) });
    }

    it('accepts exactly the default 64 KiB and rejects one byte more with too_large', () => {
      expect(DEFAULT_MAX_EVENT_BYTES).toBe(65_536);
      expect(() => parseEnvelope(envelopeOfSize(65_536))).not.toThrow();
      expectRejected(envelopeOfSize(65_537), 'too_large', 'envelope');
      const error = rejection(() => parseEnvelope(envelopeOfSize(65_537)));
      expect(error.message).toContain('65537');
      expect(error.message).toContain('65536');
    });

    it('counts UTF-8 bytes, not UTF-16 code units', () => {
      // 3-byte characters: 22 000 of them are < 64 KiB code units but > 64 KiB bytes.
      const input = wire('log.append', { level: 'info', message: '€'.repeat(22_000) });
      expect(JSON.stringify(input).length).toBeLessThan(65_536);
      expectRejected(input, 'too_large', 'envelope');
      expect(utf8Length('a€😀')).toBe(1 + 3 + 4);
      expect(utf8Length('é')).toBe(2);
    });

    it('honours a configured maxBytes', () => {
      const input = envelopeOfSize(1_000);
      expect(() => parseEnvelope(input, { maxBytes: 1_000 })).not.toThrow();
      expectRejected(input, 'too_large', 'envelope', { maxBytes: 999 });
      expect(() =>
        createEvent('log.append', { level: 'info', message: 'x'.repeat(200) }, {}, { maxBytes: 100 }),
      ).toThrow(expect.objectContaining({ code: 'too_large' }));
      // A larger limit lets through what the default refuses.
      expect(() => parseEnvelope(envelopeOfSize(70_000), { maxBytes: 100_000 })).not.toThrow();
    });
  });
});

describe('parseEnvelope returns a copy', () => {
  it('that later mutation of the input (deep) does not affect', () => {
    const payload = { phase: 'llm', percent: 10, extra: { nested: ['a'] } };
    const input = wire('task.progress', payload, { repo_id: '1' });
    const parsed = parseEnvelope(input) as EnvelopeOf<'task.progress'> & {
      payload: { extra: { nested: string[] } };
    };
    payload.percent = 99;
    payload.extra.nested.push('b');
    input.repo_id = '2';
    input.type = 'log.append';
    expect(parsed.payload.percent).toBe(10);
    expect(parsed.payload.extra.nested).toEqual(['a']);
    expect(parsed.repo_id).toBe('1');
    expect(parsed.type).toBe('task.progress');
    expect(parsed.payload).not.toBe(payload);
  });

  it('and createEvent does not keep a reference to the payload either', () => {
    const payload = { doc_id: 'd', title: 't', filename: 'f' };
    const event = createEvent('doc.created', payload);
    payload.title = 'changed';
    expect(event.payload.title).toBe('t');
  });

  it('that does not alter the input', () => {
    const input = wire('task.progress', { phase: 'p' }, { junk: true });
    const snapshot = structuredClone(input);
    parseEnvelope(input);
    expect(input).toEqual(snapshot);
  });
});

describe('types', () => {
  it('map each type to its payload', () => {
    expectTypeOf<EnvelopeOf<'task.progress'>['payload']>().toEqualTypeOf<TaskProgressPayload>();
    expectTypeOf<EnvelopeOf<'doc.created'>['payload']>().toEqualTypeOf<DocCreatedPayload>();
    expectTypeOf<EnvelopeOf<'repo.status_changed'>['payload']>().toEqualTypeOf<RepoStatusChangedPayload>();
    expectTypeOf<EnvelopeOf<'task.status_changed'>['payload']>().toEqualTypeOf<TaskStatusChangedPayload>();
    expectTypeOf<EnvelopeOf<'repo.status_changed'>['payload']['to']>().toEqualTypeOf<
      'pending' | 'cloning' | 'ready' | 'analyzing' | 'completed' | 'error'
    >();
    expectTypeOf<EnvelopeOf<'log.append'>['payload']['level']>().toEqualTypeOf<
      'debug' | 'info' | 'warn' | 'error'
    >();
    expectTypeOf<EnvelopeOf<'task.progress'>['type']>().toEqualTypeOf<'task.progress'>();
  });

  it('type createEvent from its type argument and refuse wrong payloads', () => {
    const event = createEvent('task.progress', { phase: 'p' });
    expectTypeOf(event).toEqualTypeOf<Envelope<'task.progress'>>();
    expectTypeOf(event.payload.percent).toEqualTypeOf<number | undefined>();
    if (Date.now() < 0) {
      // Compile-time only: these must not type-check.
      // @ts-expect-error percent must be a number
      createEvent('task.progress', { phase: 'p', percent: '1' });
      // @ts-expect-error phase is required
      createEvent('task.progress', {});
      // @ts-expect-error not a catalog type
      createEvent('nope.nope', {});
    }
  });

  it('narrow AnyEnvelope by type', () => {
    const event: AnyEnvelope = parseEnvelope(wire('doc.created', VALID['doc.created']));
    if (event.type === 'doc.created') expectTypeOf(event.payload).toEqualTypeOf<DocCreatedPayload>();
    expect(event.type).toBe('doc.created');
  });
});
