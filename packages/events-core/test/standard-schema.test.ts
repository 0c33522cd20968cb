import * as v from 'valibot';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import {
  createEvent,
  type EnvelopeOf,
  EventValidationError,
  isStandardSchema,
  type PayloadOf,
  parseEnvelope,
  registerEventType,
  type StandardSchemaV1,
} from '../src/index';
import { thrown } from './helpers/thrown';

const zodDeploy = z.object({
  ok: z.boolean(),
  duration_ms: z.number().min(0),
  stage: z.enum(['build', 'release']),
  url: z.string().optional(),
  tags: z.array(z.string()).optional(),
  runner: z.object({ name: z.string() }).optional(),
  retries: z.number().int().default(0),
});

const valibotDeploy = v.object({
  ok: v.boolean(),
  duration_ms: v.pipe(v.number(), v.minValue(0)),
  stage: v.picklist(['build', 'release']),
  url: v.optional(v.string()),
  tags: v.optional(v.array(v.string())),
});

/** A hand-written Standard Schema whose issue paths use `{ key }` segments. */
const handWritten: StandardSchemaV1<unknown, { n: number }> = {
  '~standard': {
    version: 1,
    vendor: 'test',
    validate: (value) =>
      typeof (value as { n?: unknown }).n === 'number'
        ? { value: value as { n: number } }
        : { issues: [{ message: 'n must be a number', path: [{ key: 'n' }] }] },
  },
};

/** A function-shaped schema, as arktype's types are. */
const functionShaped = Object.assign(() => undefined, {
  '~standard': {
    version: 1 as const,
    vendor: 'fn',
    validate: (value: unknown) =>
      (value as { flag?: unknown }).flag === true
        ? { value: value as { flag: true } }
        : { issues: [{ message: 'flag must be true', path: ['flag'] }] },
  },
});

const asyncSchema = z.object({ id: z.string() }).refine(async () => true);

declare module '../src/index' {
  interface EventMap {
    'test.zod_deploy': PayloadOf<typeof zodDeploy>;
    'test.valibot_deploy': PayloadOf<typeof valibotDeploy>;
    'test.hand_written': PayloadOf<typeof handWritten>;
    'test.function_shaped': PayloadOf<typeof functionShaped>;
    'test.async_schema': { id: string };
    'test.string_schema': Record<string, never>;
    'test.transform_to_string': Record<string, never>;
    'test.throwing_schema': { n: number };
  }
}

registerEventType('test.zod_deploy', zodDeploy);
registerEventType('test.valibot_deploy', valibotDeploy);
registerEventType('test.hand_written', handWritten);
registerEventType('test.function_shaped', functionShaped);
registerEventType('test.async_schema', asyncSchema);
registerEventType('test.string_schema', z.string() as never);
// zod turns a throwing refinement into an asynchronous retry, so this one is hand-written.
registerEventType('test.throwing_schema', {
  '~standard': {
    version: 1,
    vendor: 'test',
    validate: () => {
      throw new RangeError('refinement bug');
    },
  },
});
registerEventType('test.transform_to_string', z.object({}).transform(() => 'flat') as never);

const wire = (type: string, payload: unknown) => ({ id: 'evt-1', type, ts: 1, payload });
const rejection = (fn: () => unknown) => thrown(EventValidationError, fn);

describe('registerEventType with a Standard Schema', () => {
  it('recognises Standard Schemas, objects and functions alike', () => {
    for (const schema of [zodDeploy, valibotDeploy, handWritten, functionShaped])
      expect(isStandardSchema(schema)).toBe(true);
    for (const other of [null, {}, { '~standard': { version: 2, validate() {} } }, { '~standard': 1 }, 'z'])
      expect(isStandardSchema(other)).toBe(false);
  });

  it('infers the payload type from the schema output', () => {
    type Zod = PayloadOf<typeof zodDeploy>;
    expectTypeOf<Zod['ok']>().toEqualTypeOf<boolean>();
    expectTypeOf<Zod['stage']>().toEqualTypeOf<'build' | 'release'>();
    expectTypeOf<Zod['url']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<Zod['retries']>().toEqualTypeOf<number>();
    type Valibot = PayloadOf<typeof valibotDeploy>;
    expectTypeOf<Valibot['duration_ms']>().toEqualTypeOf<number>();
    expectTypeOf<Valibot['tags']>().toEqualTypeOf<string[] | undefined>();
    expectTypeOf<EnvelopeOf<'test.hand_written'>['payload']>().toEqualTypeOf<{ n: number }>();
    expectTypeOf<PayloadOf<typeof zodDeploy>>().toEqualTypeOf<
      StandardSchemaV1.InferOutput<typeof zodDeploy>
    >();
    if (Date.now() < 0) {
      // @ts-expect-error the schema's output must fit the EventMap entry
      registerEventType('test.hand_written', z.object({ n: z.string() }));
      // @ts-expect-error stage must be one of the enum values
      createEvent('test.zod_deploy', { ok: true, duration_ms: 1, stage: 'deploy', retries: 0 });
    }
  });

  it.each([
    ['zod', 'test.zod_deploy'],
    ['valibot', 'test.valibot_deploy'],
  ] as const)('accepts valid payloads (%s)', (_lib, type) => {
    const payload = { ok: true, duration_ms: 12, stage: 'release' as const, tags: ['a'], retries: 1 };
    const event = createEvent(type, payload, { repo_id: 7 });
    expect(event.payload).toMatchObject({ ok: true, duration_ms: 12, stage: 'release', tags: ['a'] });
    expect(parseEnvelope(JSON.parse(JSON.stringify(event)))).toEqual(event);
  });

  it('keeps the schema output as the payload (zod defaults applied)', () => {
    const event = createEvent('test.zod_deploy', { ok: true, duration_ms: 1, stage: 'build' } as never);
    expect(event.payload.retries).toBe(0);
    // The output validates again unchanged, as it must at the next hop.
    expect(parseEnvelope(event)).toEqual(event);
  });

  it.each([
    ['zod', 'test.zod_deploy', { duration_ms: 1, stage: 'build' }, 'payload.ok'],
    ['zod', 'test.zod_deploy', { ok: true, duration_ms: -1, stage: 'build' }, 'payload.duration_ms'],
    ['zod', 'test.zod_deploy', { ok: true, duration_ms: 1, stage: 'ship' }, 'payload.stage'],
    [
      'zod',
      'test.zod_deploy',
      { ok: true, duration_ms: 1, stage: 'build', tags: ['a', 2] },
      'payload.tags.1',
    ],
    [
      'zod',
      'test.zod_deploy',
      { ok: true, duration_ms: 1, stage: 'build', runner: {} },
      'payload.runner.name',
    ],
    ['valibot', 'test.valibot_deploy', { duration_ms: 1, stage: 'build' }, 'payload.ok'],
    ['valibot', 'test.valibot_deploy', { ok: true, duration_ms: -1, stage: 'build' }, 'payload.duration_ms'],
    ['valibot', 'test.valibot_deploy', { ok: true, duration_ms: 1, stage: 'ship' }, 'payload.stage'],
    [
      'valibot',
      'test.valibot_deploy',
      { ok: true, duration_ms: 1, stage: 'build', tags: [1] },
      'payload.tags.0',
    ],
    ['hand-written', 'test.hand_written', { n: 'one' }, 'payload.n'],
    ['function-shaped', 'test.function_shaped', { flag: 1 }, 'payload.flag'],
  ])(
    'rejects an invalid payload with invalid_payload naming the field (%s, %j → %s)',
    (_lib, type, payload, field) => {
      const error = rejection(() => parseEnvelope(wire(type, payload)));
      expect(error.code).toBe('invalid_payload');
      expect(error.field).toBe(field);
      expect(error.message).toMatch(
        new RegExp(`^\\[repopulse\\] ${field.replaceAll('.', '\\.')} is invalid: \\S`),
      );
    },
  );

  it('quotes the library message and counts the other issues', () => {
    const error = rejection(() => parseEnvelope(wire('test.zod_deploy', {})));
    expect(error.field).toBe('payload.ok');
    expect(error.message).toContain('expected boolean');
    expect(error.message).toMatch(/\(and 2 more issues\)$/);
    const one = rejection(() => parseEnvelope(wire('test.hand_written', {})));
    expect(one.message).toBe('[repopulse] payload.n is invalid: n must be a number');
  });

  it('names the payload itself for an issue without a path or an output that is not an object', () => {
    expect(rejection(() => parseEnvelope(wire('test.string_schema', {})))).toMatchObject({
      code: 'invalid_payload',
      field: 'payload',
    });
    const error = rejection(() => parseEnvelope(wire('test.transform_to_string', {})));
    expect(error).toMatchObject({ code: 'invalid_payload', field: 'payload' });
    expect(error.message).toContain('must output an object');
  });

  it('turns a schema that throws into invalid_payload, keeping the cause', () => {
    const error = rejection(() => createEvent('test.throwing_schema', { n: 1 }));
    expect(error).toMatchObject({ code: 'invalid_payload', field: 'payload' });
    expect(error.message).toContain('"test.throwing_schema" threw (refinement bug)');
    expect(error.cause).toBeInstanceOf(RangeError);
  });

  it('still checks the envelope and the payload shape before the schema', () => {
    expect(rejection(() => parseEnvelope(wire('test.zod_deploy', [1]))).code).toBe('invalid_payload');
    expect(rejection(() => parseEnvelope({ ...wire('test.zod_deploy', {}), ts: -1 })).code).toBe(
      'invalid_field',
    );
  });

  it('fails an asynchronous schema with async_schema when an event is validated', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const error = rejection(() => createEvent('test.async_schema', { id: 'a' }));
      expect(error.code).toBe('async_schema');
      expect(error.field).toBe('payload');
      expect(error.message).toContain('"test.async_schema"');
      expect(error.message).toContain('synchronously');
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it.each([
    ['a number', 42, 'schema'],
    ['an array', [], 'schema'],
    [
      'a ~standard of another version',
      { '~standard': { version: 2, validate: () => ({ value: {} }) } },
      'schema.~standard',
    ],
    ['a function without ~standard', () => ({}), 'schema'],
  ])('rejects a schema that is %s with invalid_field', (_what, schema, where) => {
    const error = rejection(() => registerEventType('test.not_a_schema' as never, schema as never));
    expect(error).toMatchObject({ code: 'invalid_field', field: where });
    expect(error.message).toContain('Standard Schema');
  });

  it('refuses a Standard Schema for an existing type with already_registered', () => {
    expect(rejection(() => registerEventType('task.progress', z.object({}) as never)).code).toBe(
      'already_registered',
    );
    expect(rejection(() => registerEventType('test.zod_deploy', zodDeploy)).code).toBe('already_registered');
  });
});
