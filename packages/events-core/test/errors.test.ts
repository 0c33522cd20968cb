import { assertTopic } from '@repopulse/events-core/bus-kit';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  assertRepoTransition,
  BusClosedError,
  BusError,
  type BusErrorCode,
  BusUnavailableError,
  EventValidationError,
  type EventValidationErrorCode,
  InvalidTransitionError,
  parseEnvelope,
  RepoPulseError,
} from '../src/index';

const cause = new Error('socket hang up');

/** One instance of every error class, with what it must look like. */
const CASES: Array<
  [name: string, error: RepoPulseError, code: string, parents: Array<abstract new (...a: never[]) => Error>]
> = [
  ['RepoPulseError', new RepoPulseError('custom_code', 'something broke', { cause }), 'custom_code', []],
  [
    'EventValidationError',
    new EventValidationError('invalid_payload', 'payload.to must be …', 'payload.to', { cause }),
    'invalid_payload',
    [],
  ],
  [
    'InvalidTransitionError',
    new InvalidTransitionError('task', 'completed', 'running'),
    'invalid_transition',
    [],
  ],
  ['BusError', new BusError('invalid_topic', 'topic must be …', { cause }), 'invalid_topic', []],
  [
    'BusUnavailableError',
    new BusUnavailableError('redis unreachable for 5000 ms', { cause }),
    'bus_unavailable',
    [BusError],
  ],
  ['BusClosedError', new BusClosedError(), 'bus_closed', [BusError]],
];

describe('errors', () => {
  it.each(CASES)(
    '%s is a RepoPulseError with code, prefixed message and name',
    (name, error, code, parents) => {
      expect(error).toBeInstanceOf(Error);
      expect(error).toBeInstanceOf(RepoPulseError);
      for (const parent of parents) expect(error).toBeInstanceOf(parent);
      expect(error.code).toBe(code);
      expect(error.name).toBe(name);
      expect(error.message.startsWith('[repopulse] ')).toBe(true);
      expect(error.message.startsWith('[repopulse] [repopulse]')).toBe(false);
      expect(String(error)).toBe(`${name}: ${error.message}`);
      expect(error.stack).toContain(name);
    },
  );

  it('keep the cause when given one, and have none otherwise', () => {
    for (const [, error] of CASES) {
      if (error instanceof InvalidTransitionError || error instanceof BusClosedError) {
        expect(error.cause).toBeUndefined();
        expect('cause' in error).toBe(false);
      } else {
        expect(error.cause).toBe(cause);
      }
    }
    expect(new RepoPulseError('x', 'y').cause).toBeUndefined();
    // A falsy cause is still a cause.
    expect(new RepoPulseError('x', 'y', { cause: 0 }).cause).toBe(0);
  });

  it('carry their extra fields', () => {
    const validation = new EventValidationError('invalid_field', 'repo_id must …', 'repo_id');
    expect(validation.field).toBe('repo_id');
    expect(new EventValidationError('too_large', 'too big').field).toBeUndefined();
    const transition = new InvalidTransitionError('repository', 'pending', 'completed');
    expect([transition.machine, transition.from, transition.to]).toEqual([
      'repository',
      'pending',
      'completed',
    ]);
    expect(transition.message).toBe(
      '[repopulse] repository status cannot change from "pending" to "completed"',
    );
    expect(new BusClosedError().message).toBe('[repopulse] the bus is closed');
    expect(new BusClosedError('closed while publishing').message).toBe('[repopulse] closed while publishing');
  });

  it('are what the library actually throws', () => {
    expect(() => parseEnvelope(null)).toThrow(EventValidationError);
    expect(() => assertRepoTransition('pending', 'completed')).toThrow(InvalidTransitionError);
    for (const topic of ['', 'a\nb', 'x'.repeat(257), 42, null]) {
      let caught: unknown;
      try {
        assertTopic(topic);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(BusError);
      expect(caught).toMatchObject({ code: 'invalid_topic' });
      expect((caught as Error).message.startsWith('[repopulse] ')).toBe(true);
    }
    expect(() => assertTopic('repo:42')).not.toThrow();
    expect(() => assertTopic('x'.repeat(256))).not.toThrow();
  });

  it('have typed codes', () => {
    expectTypeOf<EventValidationError['code']>().toEqualTypeOf<EventValidationErrorCode>();
    expectTypeOf<InvalidTransitionError['code']>().toEqualTypeOf<'invalid_transition'>();
    expectTypeOf<BusError['code']>().toEqualTypeOf<BusErrorCode>();
    expectTypeOf<BusErrorCode>().toEqualTypeOf<
      'bus_closed' | 'bus_unavailable' | 'invalid_topic' | 'invalid_position'
    >();
    expectTypeOf<EventValidationErrorCode>().toEqualTypeOf<
      | 'unknown_type'
      | 'invalid_envelope'
      | 'invalid_field'
      | 'invalid_payload'
      | 'too_large'
      | 'already_registered'
      | 'async_schema'
      | 'incompatible_registry'
    >();
    expect(new BusClosedError().code).toBe('bus_closed');
  });
});
