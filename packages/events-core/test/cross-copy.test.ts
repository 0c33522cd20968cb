// Two copies of events-core in one process, as happens when one part of an app `import`s the
// package and another `require`s it (the ESM and the CJS build), or when two versions are
// installed: the source loaded through vitest as ESM, and the same source bundled as CommonJS and
// loaded with Node's own `require`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import * as esm from '../src/index';
import { thrown } from './helpers/thrown';

type Core = typeof esm;

declare module '../src/index' {
  interface EventMap {
    'test.copy_from_esm': { ok: boolean };
    'test.copy_from_cjs': { n: number };
  }
}

const dir = mkdtempSync(join(tmpdir(), 'repopulse-copies-'));
const bundle = join(dir, 'events-core.cjs');
let cjs: Core;

beforeAll(async () => {
  await build({
    entryPoints: [join(import.meta.dirname, '../src/index.ts')],
    bundle: true,
    format: 'cjs',
    platform: 'neutral',
    outfile: bundle,
    logLevel: 'silent',
  });
  cjs = createRequire(import.meta.url)(bundle) as Core;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const wire = (type: string, payload: unknown) => ({ id: 'evt-1', type, ts: 1, payload });

describe('two copies of events-core (ESM source and a CommonJS bundle)', () => {
  it('are really two copies', () => {
    expect(cjs.parseEnvelope).not.toBe(esm.parseEnvelope);
    expect(cjs.EventValidationError).not.toBe(esm.EventValidationError);
  });

  it('share the registry: registered through the ESM copy, published and validated through the CJS copy', () => {
    esm.registerEventType('test.copy_from_esm', { ok: esm.field.boolean() });
    expect(cjs.isKnownEventType('test.copy_from_esm')).toBe(true);
    const event = cjs.createEvent('test.copy_from_esm', { ok: true });
    expect(esm.parseEnvelope(event)).toEqual(event);
    const error = thrown(Error, () => cjs.parseEnvelope(wire('test.copy_from_esm', { ok: 'yes' })));
    expect(error).toMatchObject({ code: 'invalid_payload', field: 'payload.ok' });
    expect(error.message).toBe('[repopulse] payload.ok must be a boolean, got "yes"');
  });

  it('share the registry the other way round, with a Standard Schema', () => {
    cjs.registerEventType('test.copy_from_cjs', z.object({ n: z.number().int() }));
    expect(esm.createEvent('test.copy_from_cjs', { n: 3 }).payload).toEqual({ n: 3 });
    const error = thrown(esm.EventValidationError, () =>
      esm.parseEnvelope(wire('test.copy_from_cjs', { n: 1.5 })),
    );
    expect(error).toMatchObject({ code: 'invalid_payload', field: 'payload.n' });
  });

  it('refuse a second registration of the same type through the other copy', () => {
    const error = thrown(esm.EventValidationError, () =>
      cjs.registerEventType('test.copy_from_esm', { ok: cjs.field.string() }),
    );
    expect(error.code).toBe('already_registered');
    // The first registration still stands, in both copies.
    expect(() => esm.createEvent('test.copy_from_esm', { ok: false })).not.toThrow();
    expect(() => cjs.parseEnvelope(wire('test.copy_from_esm', { ok: 'text' }))).toThrow();
  });

  it('agree on instanceof for errors made by the other copy', () => {
    const fromCjs = thrown(Error, () => cjs.parseEnvelope(null));
    expect(fromCjs).not.toBeInstanceOf(cjs.BusError);
    expect(fromCjs).toBeInstanceOf(esm.EventValidationError);
    expect(fromCjs).toBeInstanceOf(esm.RepoPulseError);
    expect(fromCjs).not.toBeInstanceOf(esm.BusError);
    expect(fromCjs).not.toBeInstanceOf(esm.InvalidTransitionError);
    expect(fromCjs).not.toBeInstanceOf(esm.OptionsError);

    const closed = new cjs.BusClosedError();
    expect(closed).toBeInstanceOf(esm.BusClosedError);
    expect(closed).toBeInstanceOf(esm.BusError);
    expect(closed).toBeInstanceOf(esm.RepoPulseError);
    expect(closed).not.toBeInstanceOf(esm.BusUnavailableError);

    const fromEsm = thrown(Error, () => esm.assertTaskTransition('completed', 'running'));
    expect(fromEsm).toBeInstanceOf(cjs.InvalidTransitionError);
    expect(fromEsm).toBeInstanceOf(cjs.RepoPulseError);
    expect(fromEsm).not.toBeInstanceOf(cjs.EventValidationError);
    expect(cjs.isRepoPulseError(fromEsm, 'invalid_transition')).toBe(true);
    expect(esm.isRepoPulseError(closed, 'bus_closed')).toBe(true);
  });

  it('do not take look-alikes for RepoPulse errors', () => {
    class EventValidationError extends Error {
      code = 'invalid_payload';
    }
    const lookalike = new EventValidationError('payload.ok is wrong');
    expect(lookalike).not.toBeInstanceOf(esm.EventValidationError);
    expect(lookalike).not.toBeInstanceOf(esm.RepoPulseError);
    expect({ code: 'bus_closed', name: 'BusClosedError' }).not.toBeInstanceOf(esm.BusClosedError);
    expect(null).not.toBeInstanceOf(esm.RepoPulseError);
    expect('BusError').not.toBeInstanceOf(esm.BusError);
    // A user's own subclass still works with plain instanceof.
    class AppError extends esm.RepoPulseError<'app_failed'> {}
    expect(new AppError('app_failed', 'x')).toBeInstanceOf(AppError);
    expect(new AppError('app_failed', 'x')).toBeInstanceOf(cjs.RepoPulseError);
    expect(new AppError('app_failed', 'x')).not.toBeInstanceOf(esm.BusError);
  });

  it('also share the registry with a fresh module instance of the source', async () => {
    vi.resetModules();
    const fresh = (await import('../src/index')) as Core;
    expect(fresh.registerEventType).not.toBe(esm.registerEventType);
    expect(fresh.isKnownEventType('test.copy_from_cjs')).toBe(true);
    expect(thrown(fresh.EventValidationError, () => fresh.parseEnvelope(null))).toBeInstanceOf(
      esm.EventValidationError,
    );
  });
});

describe('a registry left by an incompatible copy', () => {
  /** Runs the CommonJS bundle in a fresh Node process where `setup` ran first. */
  function runWith(setup: string, body: string): unknown {
    const script = `${setup}
      const core = require(${JSON.stringify(bundle)});
      const out = {};
      const attempt = (name, fn) => { try { out[name] = fn(); } catch (e) { out[name] = { code: e.code, message: e.message, isError: e instanceof core.EventValidationError }; } };
      ${body}
      process.stdout.write(JSON.stringify(out));`;
    return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
  }

  it.each([
    ['a future version', `{ version: 2, types: new Map() }`, 'version 2'],
    ['something else', `{ hello: 'world' }`, 'version undefined'],
  ])('is refused with incompatible_registry when it is %s', (_what, value, says) => {
    const out = runWith(
      `globalThis[Symbol.for('repopulse.events-core.registry')] = ${value};`,
      `attempt('register', () => core.registerEventType('test.x', { ok: core.field.boolean() }));
       attempt('known', () => core.isKnownEventType('test.x'));
       attempt('builtin', () => core.createEvent('log.append', { level: 'info', message: 'still works' }).type);`,
    ) as Record<string, { code: string; message: string; isError: boolean } | string>;
    for (const name of ['register', 'known'] as const) {
      expect(out[name]).toMatchObject({ code: 'incompatible_registry', isError: true });
      expect((out[name] as { message: string }).message).toContain(says);
      expect((out[name] as { message: string }).message).toContain('npm ls @repopulse/events-core');
    }
    // Built-in types need no registry and keep working.
    expect(out.builtin).toBe('log.append');
  });

  it('cannot be replaced once a copy set it up', () => {
    const out = runWith(
      '',
      `core.registerEventType('test.kept', { ok: core.field.boolean() });
       attempt('overwrite', () => { 'use strict'; globalThis[Symbol.for('repopulse.events-core.registry')] = { version: 1, types: new Map() }; return 'overwritten'; });
       attempt('known', () => core.isKnownEventType('test.kept'));`,
    ) as Record<string, unknown>;
    expect((out.overwrite as { message: string }).message).toContain('read only');
    expect(out.known).toBe(true);
  });
});
