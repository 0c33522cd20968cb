import { BUILTIN_SCHEMAS, type EventMap, type EventType } from './catalog';
import { EventValidationError } from './errors';
import { checkSchema, type FieldsPayloadOf, type PayloadSchema } from './schema';
import { isStandardSchema, type StandardSchemaV1 } from './standard-schema';
import { checkControlChars } from './text';

/**
 * What a payload can be described with: a Standard Schema (zod, valibot, arktype, …) or a
 * {@link PayloadSchema} of `field.*()` builders.
 *
 * @example
 * ```ts
 * const withZod: EventSchema = z.object({ ok: z.boolean() });
 * const withFields: EventSchema = { ok: field.boolean() };
 * ```
 */
export type EventSchema = StandardSchemaV1 | PayloadSchema;

/**
 * The TypeScript payload type an {@link EventSchema} describes: a Standard Schema's output type, or
 * the type a `field.*()` schema spells out.
 *
 * @example
 * ```ts
 * const buildFinished = z.object({ ok: z.boolean(), url: z.string().optional() });
 * type BuildFinished = PayloadOf<typeof buildFinished>; // { ok: boolean; url?: string | undefined }
 * ```
 */
export type PayloadOf<S extends EventSchema> = S extends StandardSchemaV1
  ? StandardSchemaV1.InferOutput<S>
  : S extends PayloadSchema
    ? FieldsPayloadOf<S>
    : never;

/** The outcome of validating one payload: the payload to keep, or what is wrong with it. */
export type PayloadVerdict =
  | { readonly ok: true; readonly value: Record<string, unknown> }
  | {
      readonly ok: false;
      readonly code: 'invalid_payload' | 'async_schema';
      /** Dotted path of the field at fault, below `payload` (`''` for the payload itself). */
      readonly path: string;
      /** What is wrong, to follow the path in a message: `is required (a string)`. */
      readonly problem: string;
    };

/** One registered event type, as every copy of events-core sees it. */
interface RegisteredType {
  validate(payload: Record<string, unknown>): PayloadVerdict;
}

/**
 * The registry shared by every copy of events-core in one JavaScript realm (the ESM and the CJS
 * build side by side, or two installed versions): custom types registered through one copy are
 * known to all. Its shape is versioned; a copy that finds a registry of another version refuses
 * to use it (`incompatible_registry`) rather than misread it.
 */
interface SharedRegistry {
  readonly version: typeof REGISTRY_VERSION;
  readonly types: Map<string, RegisteredType>;
}

const REGISTRY_KEY = Symbol.for('repopulse.events-core.registry');
const REGISTRY_VERSION = 1;
const TYPE_RE = /^[A-Za-z0-9_.:-]{1,128}$/;

let shared: SharedRegistry | undefined;

function sharedRegistry(): SharedRegistry {
  if (shared) return shared;
  const existing: unknown = (globalThis as Record<symbol, unknown>)[REGISTRY_KEY];
  if (existing === undefined) {
    const created: SharedRegistry = { version: REGISTRY_VERSION, types: new Map() };
    Object.defineProperty(globalThis, REGISTRY_KEY, { value: created });
    shared = created;
    return created;
  }
  const { version, types } = (existing ?? {}) as Partial<SharedRegistry>;
  if (version !== REGISTRY_VERSION || !(types instanceof Map)) {
    throw new EventValidationError(
      'incompatible_registry',
      `another copy of @repopulse/events-core set up an event-type registry of version ${String(version)}; ` +
        `this copy understands version ${REGISTRY_VERSION}. Install one version of @repopulse/events-core ` +
        '(`npm ls @repopulse/events-core` shows them)',
      'type',
    );
  }
  shared = existing as SharedRegistry;
  return shared;
}

function fieldsType(schema: PayloadSchema): RegisteredType {
  const fields = Object.entries(schema);
  return {
    validate(payload) {
      const problem = checkSchema(fields, payload);
      return problem
        ? { ok: false, code: 'invalid_payload', path: problem.field, problem: problem.problem }
        : { ok: true, value: payload };
    },
  };
}

function issuePath(issue: StandardSchemaV1.Issue): string {
  return (issue.path ?? [])
    .map((segment) => String(typeof segment === 'object' && segment !== null ? segment.key : segment))
    .join('.');
}

function standardType(type: string, schema: StandardSchemaV1): RegisteredType {
  return {
    validate(payload) {
      let result: StandardSchemaV1.Result<unknown> | Promise<StandardSchemaV1.Result<unknown>>;
      try {
        result = schema['~standard'].validate(payload);
      } catch (cause) {
        const reason = cause instanceof Error ? cause.message : String(cause);
        throw new EventValidationError(
          'invalid_payload',
          `payload could not be validated: the schema of "${type}" threw (${reason})`,
          'payload',
          { cause },
        );
      }
      if (result instanceof Promise || typeof (result as { then?: unknown }).then === 'function') {
        Promise.resolve(result).then(undefined, () => {}); // nobody awaits it; its outcome is unused
        return {
          ok: false,
          code: 'async_schema',
          path: '',
          problem:
            `cannot be validated: the schema of "${type}" validates asynchronously (it returned a Promise). ` +
            'Payloads are validated synchronously; remove async refinements or transforms from the schema',
        };
      }
      const [first, ...more] = result.issues ?? [];
      if (first) {
        const others =
          more.length === 0 ? '' : ` (and ${more.length} more issue${more.length > 1 ? 's' : ''})`;
        return {
          ok: false,
          code: 'invalid_payload',
          path: issuePath(first),
          problem: `is invalid: ${first.message}${others}`,
        };
      }
      const value = (result as StandardSchemaV1.SuccessResult<unknown>).value;
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        return {
          ok: false,
          code: 'invalid_payload',
          path: '',
          problem: `is invalid: the schema of "${type}" must output an object`,
        };
      }
      return { ok: true, value: value as Record<string, unknown> };
    },
  };
}

const builtins = new Map<string, RegisteredType>(
  Object.entries(BUILTIN_SCHEMAS).map(([type, schema]) => [type, fieldsType(schema)]),
);

function isFieldsSchema(schema: unknown): string | undefined {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return 'schema';
  const bad = Object.keys(schema).find(
    (name) => typeof (schema as Record<string, { check?: unknown } | null>)[name]?.check !== 'function',
  );
  return bad === undefined ? undefined : `schema.${bad}`;
}

/**
 * Registers a custom event type and the schema its payload must satisfy: any Standard Schema
 * (zod 3.24+ and 4, valibot 1, arktype 2, …) or a schema of `field.*()` builders. Pair it with an
 * `EventMap` augmentation (`PayloadOf<typeof schema>`) so the payload is typed too; a Standard
 * Schema's output must then fit that type.
 *
 * The registry is shared by every copy of events-core in the process (ESM and CJS builds, two
 * installed versions), so a type registered through one is known to all. A Standard Schema's output
 * becomes the payload (defaults applied, unknown keys dropped if the schema drops them); it must be
 * JSON and validate again unchanged, since the payload is validated at every hop. Validation is
 * synchronous: a schema that returns a Promise fails with `async_schema` when an event is validated.
 *
 * Throws {@link EventValidationError}: `already_registered` (the type exists, built-in or custom),
 * `invalid_field` (a malformed name; a schema that is neither a Standard Schema nor built with
 * `field.*()`), `incompatible_registry` (another, incompatible copy of events-core owns the registry).
 *
 * @example
 * ```ts
 * import { z } from 'zod';
 *
 * const buildFinished = z.object({ ok: z.boolean(), url: z.url().optional() });
 * declare module '@repopulse/events-core' {
 *   interface EventMap { 'build.finished': PayloadOf<typeof buildFinished> }
 * }
 * registerEventType('build.finished', buildFinished);
 * createEvent('build.finished', { ok: true });
 * ```
 * @example
 * ```ts
 * registerEventType('build.finished', { ok: field.boolean(), url: field.optional(field.string()) });
 * ```
 */
export function registerEventType<K extends EventType>(
  type: K,
  schema: PayloadSchema | StandardSchemaV1<unknown, EventMap[K]>,
): void {
  if (typeof type === 'string') checkControlChars(type, 'type');
  if (typeof type !== 'string' || !TYPE_RE.test(type)) {
    throw new EventValidationError(
      'invalid_field',
      `type "${String(type)}" must be 1-128 of A-Z a-z 0-9 _ . : -`,
      'type',
    );
  }
  const standard = isStandardSchema(schema);
  const where = standard ? undefined : isFieldsSchema(schema);
  if (where !== undefined) {
    throw new EventValidationError(
      'invalid_field',
      `${where} must be a Standard Schema (zod, valibot, arktype, …) or built with field.*()`,
      where,
    );
  }
  const registry = sharedRegistry();
  if (builtins.has(type) || registry.types.has(type))
    throw new EventValidationError('already_registered', `type "${type}" is already registered`, 'type');
  registry.types.set(
    type,
    standard ? standardType(type, schema as StandardSchemaV1) : fieldsType(schema as PayloadSchema),
  );
}

/**
 * True when `type` is in the catalog or was registered (through any copy of events-core). For a
 * type outside the catalog it consults the shared registry, so it throws `incompatible_registry`
 * when another, incompatible copy of events-core set that up.
 *
 * @example
 * ```ts
 * if (!isKnownEventType(body.type)) return res.status(400).json({ error: 'unknown event type' });
 * ```
 */
export function isKnownEventType(type: unknown): type is EventType {
  return typeof type === 'string' && (builtins.has(type) || sharedRegistry().types.has(type));
}

/** The registered validator of a known type, or `undefined`. */
export function registeredType(type: string): RegisteredType | undefined {
  return builtins.get(type) ?? sharedRegistry().types.get(type);
}
