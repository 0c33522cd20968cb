import { encodeSseFrame } from '@repopulse/events-core/wire';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  type AnyEnvelope,
  createEvent,
  type EnvelopeOf,
  type EventType,
  EventValidationError,
  field,
  isKnownEventType,
  type PayloadOf,
  parseEnvelope,
  registerEventType,
} from '../src/index';
import { thrown } from './helpers/thrown';

// The augmentation users write against '@repopulse/events-core'; here the module is the source.
declare module '../src/index' {
  interface EventMap {
    'test.build_finished': BuildFinishedPayload;
  }
}

const buildFinishedSchema = {
  ok: field.boolean(),
  duration_ms: field.number(0),
  stage: field.oneOf(['compile', 'link'] as const),
  url: field.optional(field.string(2048)),
  details: field.optional(field.json()),
};
type BuildFinishedPayload = PayloadOf<typeof buildFinishedSchema>;

registerEventType('test.build_finished', buildFinishedSchema);

function wire(type: string, payload: unknown): Record<string, unknown> {
  return { id: 'evt-1', type, ts: 1, payload };
}

/** Runs `fn`, expects an EventValidationError, returns it. */
const rejection = (fn: () => unknown): EventValidationError => thrown(EventValidationError, fn);

describe('registerEventType', () => {
  it('derives the payload type from the schema', () => {
    expectTypeOf<BuildFinishedPayload['ok']>().toEqualTypeOf<boolean>();
    expectTypeOf<BuildFinishedPayload['duration_ms']>().toEqualTypeOf<number>();
    expectTypeOf<BuildFinishedPayload['stage']>().toEqualTypeOf<'compile' | 'link'>();
    expectTypeOf<BuildFinishedPayload['url']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<{ ok: true; duration_ms: 1; stage: 'link' }>().toMatchTypeOf<BuildFinishedPayload>();
    expectTypeOf<{ ok: true; stage: 'link' }>().not.toMatchTypeOf<BuildFinishedPayload>();
  });

  it('keeps full typing for the registered type through the EventMap augmentation', () => {
    const event = createEvent(
      'test.build_finished',
      { ok: true, duration_ms: 12, stage: 'link' },
      { repo_id: 3 },
    );
    expectTypeOf(event.type).toEqualTypeOf<'test.build_finished'>();
    expectTypeOf(event.payload.ok).toEqualTypeOf<boolean>();
    expectTypeOf(event.payload.stage).toEqualTypeOf<'compile' | 'link'>();
    expectTypeOf<EnvelopeOf<'test.build_finished'>['payload']>().toEqualTypeOf<BuildFinishedPayload>();
    expectTypeOf<'test.build_finished'>().toMatchTypeOf<EventType>();
    expectTypeOf<EnvelopeOf<'test.build_finished'>>().toMatchTypeOf<AnyEnvelope>();
    if (Date.now() < 0) {
      // @ts-expect-error ok must be a boolean
      createEvent('test.build_finished', { ok: 'yes', duration_ms: 1, stage: 'link' });
      // @ts-expect-error stage must be one of the listed values
      createEvent('test.build_finished', { ok: true, duration_ms: 1, stage: 'deploy' });
    }
    expect(event.payload).toEqual({ ok: true, duration_ms: 12, stage: 'link' });
    expect(event.repo_id).toBe('3');
  });

  it('makes the type known at runtime, and parseEnvelope narrows it', () => {
    expect(isKnownEventType('test.build_finished')).toBe(true);
    const parsed = parseEnvelope(
      wire('test.build_finished', { ok: false, duration_ms: 0, stage: 'compile', details: [1, { a: null }] }),
    );
    expect(parsed.payload).toEqual({
      ok: false,
      duration_ms: 0,
      stage: 'compile',
      details: [1, { a: null }],
    });
    if (parsed.type === 'test.build_finished')
      expectTypeOf(parsed.payload).toEqualTypeOf<BuildFinishedPayload>();
    expect(encodeSseFrame('1-0', parsed)).toContain('event: test.build_finished\n');
  });

  it.each([
    [{ duration_ms: 1, stage: 'link' }, 'payload.ok'],
    [{ ok: 'true', duration_ms: 1, stage: 'link' }, 'payload.ok'],
    [{ ok: true, duration_ms: -1, stage: 'link' }, 'payload.duration_ms'],
    [{ ok: true, duration_ms: 1, stage: 'deploy' }, 'payload.stage'],
    [{ ok: true, duration_ms: 1, stage: 'link', url: 'x'.repeat(2049) }, 'payload.url'],
  ])('validates the registered schema (%j → %s)', (payload, fieldName) => {
    const error = rejection(() => parseEnvelope(wire('test.build_finished', payload)));
    expect(error.code).toBe('invalid_payload');
    expect(error.field).toBe(fieldName);
    expect(error.message).toContain(fieldName);
  });

  it('refuses to register a type twice, custom or built-in, with already_registered', () => {
    for (const type of ['test.build_finished', 'task.progress', 'repo.deleted'] as const) {
      const error = rejection(() => registerEventType(type, {}));
      expect(error.code).toBe('already_registered');
      expect(error.field).toBe('type');
      expect(error.message).toContain(type);
    }
    // The first registration still stands.
    expect(() =>
      parseEnvelope(wire('test.build_finished', { ok: true, duration_ms: 1, stage: 'x' })),
    ).toThrow(EventValidationError);
    expect(() => parseEnvelope(wire('task.progress', { phase: 1 }))).toThrow(EventValidationError);
  });

  it.each([
    ['empty', ''],
    ['with a space', 'build finished'],
    ['with a slash', 'build/finished'],
    ['with a quote', 'build"finished'],
    ['non-ASCII', 'bâtiment.fini'],
    ['longer than 128', 'x'.repeat(129)],
    ['with LF', 'build\nfinished'],
    ['with CR', 'build\rfinished'],
    ['with NUL', 'build\0finished'],
  ])('rejects a type name %s with invalid_field, registering nothing', (_what, name) => {
    const error = rejection(() => registerEventType(name as EventType, {}));
    expect(error.code).toBe('invalid_field');
    expect(error.field).toBe('type');
    expect(isKnownEventType(name)).toBe(false);
  });

  it('rejects a non-string type name', () => {
    const error = rejection(() => registerEventType(42 as unknown as EventType, {}));
    expect(error).toMatchObject({ code: 'invalid_field', field: 'type' });
    expect(isKnownEventType('42')).toBe(false);
  });

  it.each([
    ['null', null, 'schema'],
    ['a string', 'ok: boolean', 'schema'],
    ['a plain value as a field', { ok: true }, 'schema.ok'],
    ['a spec-like object without check', { ok: { describe: 'a boolean', optional: false } }, 'schema.ok'],
    ['one bad field among good ones', { a: field.string(), b: null }, 'schema.b'],
  ])('rejects a schema that is %s with invalid_field, registering nothing', (_what, schema, where) => {
    const error = rejection(() => registerEventType('test.bad_schema' as EventType, schema as never));
    expect(error).toMatchObject({ code: 'invalid_field', field: where });
    expect(error.message).toContain(where);
    expect(isKnownEventType('test.bad_schema')).toBe(false);
  });

  it('accepts the full allowed alphabet', () => {
    const name = 'Aa0_.:-'.repeat(18).slice(0, 128);
    registerEventType(name as EventType, {});
    expect(isKnownEventType(name)).toBe(true);
  });

  it('leaves unregistered types unknown', () => {
    expect(isKnownEventType('test.other')).toBe(false);
    expect(isKnownEventType(42)).toBe(false);
    expect(rejection(() => parseEnvelope(wire('test.other', {}))).code).toBe('unknown_type');
  });
});
