// Typed handlers, checked by the repository's `tsc` run (this file is type-checked with the rest):
// event names and payloads come from the events-core catalog, so mistakes fail to compile.
import type { Envelope } from '@repopulse/events-core';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { EventStream, EventStreamOptions } from '../src/index';

/** Never called: its body is the type test. */
function typeOnly(stream: EventStream) {
  stream.on('task.progress', (event, position) => {
    expectTypeOf(event).toEqualTypeOf<Envelope<'task.progress'>>();
    expectTypeOf(event.payload.percent).toEqualTypeOf<number | undefined>();
    expectTypeOf(position).toEqualTypeOf<string>();
  });
  stream.on('*', (event) => expectTypeOf(event.type).toBeString());
  // @ts-expect-error a misspelled event type does not compile
  stream.on('task.progres', () => {});
  // @ts-expect-error the payload is typed: percent is a number
  stream.on('task.progress', (event) => event.payload.percent?.toUpperCase());
  // @ts-expect-error unknown option names do not compile
  const options: EventStreamOptions = { lastEventID: '1-0' };
  return options;
}

describe('typed handlers', () => {
  it('types events and payloads from the catalog (see the @ts-expect-error lines above)', () => {
    expectTypeOf(typeOnly).parameter(0).toEqualTypeOf<EventStream>();
    expect(typeOnly).toBeTypeOf('function');
  });
});
