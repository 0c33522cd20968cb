import {
  type AnyEnvelope,
  createEvent,
  EventValidationError,
  field,
  parseEnvelope,
  registerEventType,
} from '@repopulse/events-core';
import {
  type BusTransport,
  defineBus,
  resolveBusOptions,
  validatedEnvelopeFromJson,
  validatedEnvelopeJson,
} from '@repopulse/events-core/bus-kit';
import { describe, expect, it } from 'vitest';
import { sealedEnvelopeJson } from '../../src/sealed-envelope';

/** A bus whose transport records what `publish` hands it (the envelope and its JSON text). */
function recordingBus(options: { maxEventBytes?: number } = {}) {
  const appended: { event: AnyEnvelope; json: string }[] = [];
  const transport: BusTransport = {
    append: async (_topic, event, json) => {
      appended.push({ event, json });
      return `1-${appended.length}`;
    },
    drop: async () => {},
    read: async () => ({
      entries: [],
      head: '0-0',
      oldest: undefined,
      trimmed: false,
      floor: undefined,
      holdsCursor: false,
    }),
    head: async () => '0-0',
    listen: async () => {},
    unlisten: async () => {},
    isLive: () => true,
    close: async () => {},
  };
  const bus = defineBus(resolveBusOptions('recordingBus', options), () => transport);
  return { bus, appended };
}

describe('createEvent envelopes are validated once', () => {
  it('are deeply frozen, and their JSON is the text validation produced', () => {
    const event = createEvent('task.progress', { phase: 'llm', percent: 40, message: 'ü' }, { repo_id: 7 });
    expect(Object.isFrozen(event)).toBe(true);
    expect(Object.isFrozen(event.payload)).toBe(true);
    expect(() => {
      (event.payload as { phase: string }).phase = 'changed';
    }).toThrow(TypeError);
    expect(sealedEnvelopeJson(event)).toBe(JSON.stringify(event));
    // Nested payload data is frozen too.
    registerEventType('test.sealed_nested' as never, { data: field.json() });
    const nested = createEvent('test.sealed_nested' as never, { data: { list: [{ a: 1 }] } } as never) as {
      payload: { data: { list: { a: number }[] } };
    };
    expect(Object.isFrozen(nested.payload.data)).toBe(true);
    expect(Object.isFrozen(nested.payload.data.list)).toBe(true);
    expect(Object.isFrozen(nested.payload.data.list[0])).toBe(true);
  });

  it('leave parseEnvelope results, copies and hand-made envelopes unsealed and unfrozen', () => {
    const event = createEvent('log.append', { level: 'info', message: 'hi' });
    const parsed = parseEnvelope(event);
    expect(Object.isFrozen(parsed)).toBe(false);
    expect(sealedEnvelopeJson(parsed)).toBeUndefined();
    expect(sealedEnvelopeJson({ ...event })).toBeUndefined();
    expect(sealedEnvelopeJson(JSON.parse(JSON.stringify(event)))).toBeUndefined();
    expect(sealedEnvelopeJson(new Proxy(event, {}))).toBeUndefined();
  });

  it('are stored by publish as made, with the JSON validation produced', async () => {
    const { bus, appended } = recordingBus();
    const event = createEvent('log.append', { level: 'info', message: 'once' }, { task_id: 3 });
    const result = await bus.publish('t', event);
    expect(appended).toHaveLength(1);
    expect(appended[0]!.event).toBe(event);
    expect(appended[0]!.json).toBe(sealedEnvelopeJson(event));
    expect(JSON.parse(appended[0]!.json)).toEqual(event);
    expect(result.event).toBe(event);
  });

  it('a changed copy or a hand-made envelope is validated and copied by publish', async () => {
    const { bus, appended } = recordingBus();
    const event = createEvent('log.append', { level: 'info', message: 'x' });
    await expect(bus.publish('t', { ...event, ts: -1 })).rejects.toMatchObject({
      code: 'invalid_field',
      field: 'ts',
    });
    await expect(
      bus.publish('t', { ...event, payload: { level: 'loud', message: 'x' } } as never),
    ).rejects.toBeInstanceOf(EventValidationError);
    expect(appended).toHaveLength(0);
    const copy = { ...event, payload: { level: 'warn' as const, message: 'y' }, extra: 1 };
    await bus.publish('t', copy);
    expect(appended[0]!.event).not.toBe(copy);
    expect(appended[0]!.event).toEqual({ ...event, payload: { level: 'warn', message: 'y' } });
    expect(appended[0]!.json).toBe(JSON.stringify(appended[0]!.event));
  });

  it("still meets the bus's own size limit: too_large, nothing stored", async () => {
    const { bus, appended } = recordingBus({ maxEventBytes: 200 });
    const event = createEvent('log.append', { level: 'info', message: 'é'.repeat(100) });
    await expect(bus.publish('t', event)).rejects.toMatchObject({ code: 'too_large' });
    expect(appended).toHaveLength(0);
    await bus.publish('t', createEvent('log.append', { level: 'info', message: 'short' }));
    expect(appended).toHaveLength(1);
  });
});

describe('validatedEnvelopeFromJson', () => {
  it('seals the envelope of a stored validated text: publish stores that object and text as they are', async () => {
    const { json } = validatedEnvelopeJson(
      { ...createEvent('task.progress', { phase: 'llm', percent: 40 }, { repo_id: 7 }) },
      65_536,
    );
    const envelope = validatedEnvelopeFromJson(json);
    expect(envelope).toStrictEqual(JSON.parse(json));
    expect(sealedEnvelopeJson(envelope)).toBe(json);
    expect(Object.isFrozen(envelope) && Object.isFrozen(envelope.payload)).toBe(true);
    const { bus, appended } = recordingBus();
    const result = await bus.publish('t', envelope);
    expect(appended[0]?.event).toBe(envelope); // not validated and copied again
    expect(appended[0]?.json).toBe(json);
    expect(result.event).toBe(envelope);
  });

  it('refuses text that is not a JSON object or whose type this process does not know', () => {
    for (const text of ['{"id":', '[1]', 'null']) {
      expect(() => validatedEnvelopeFromJson(text)).toThrow(
        expect.objectContaining({ name: 'EventValidationError', code: 'invalid_envelope' }),
      );
    }
    const unknown = JSON.stringify({ id: '01J', type: 'nobody.knows', ts: 1, payload: {} });
    expect(() => validatedEnvelopeFromJson(unknown)).toThrow(
      expect.objectContaining({ code: 'unknown_type' }),
    );
  });
});
