import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HTTP, CloudEvent as SdkCloudEvent } from 'cloudevents';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import {
  type AnyEnvelope,
  CLOUDEVENTS_CONTENT_TYPE,
  type CloudEvent,
  createEvent,
  DEFAULT_CLOUDEVENT_SOURCE,
  EventValidationError,
  fromCloudEvent,
  toCloudEvent,
} from '../src/index';
import { thrown } from './helpers/thrown';

const TS = Date.UTC(2026, 11, 1, 9, 30, 0, 123);
const full = createEvent(
  'task.progress',
  { phase: 'llm', percent: 40, message: 'thinking' },
  { repo_id: 42, task_id: 7, request_id: 'req-1', ts: TS },
);
const bare = createEvent('log.append', { level: 'info', message: 'hello' }, { ts: TS });

const rejection = (fn: () => unknown) => thrown(EventValidationError, fn);

describe('toCloudEvent', () => {
  it('maps every envelope field to its CloudEvents attribute', () => {
    const ce = toCloudEvent(full);
    expect(ce).toEqual({
      specversion: '1.0',
      id: full.id,
      source: '/repos/42',
      type: 'task.progress',
      time: '2026-12-01T09:30:00.123Z',
      datacontenttype: 'application/json',
      subject: '7',
      correlationid: 'req-1',
      repoid: '42',
      data: { phase: 'llm', percent: 40, message: 'thinking' },
    });
    expectTypeOf(ce).toEqualTypeOf<CloudEvent<'task.progress'>>();
    expectTypeOf(ce.data.percent).toEqualTypeOf<number | undefined>();
  });

  it('leaves out absent optional fields and uses the default source without a repo_id', () => {
    const ce = toCloudEvent(bare);
    expect(Object.keys(ce).sort()).toEqual(
      ['data', 'datacontenttype', 'id', 'source', 'specversion', 'time', 'type'].sort(),
    );
    expect(ce.source).toBe(DEFAULT_CLOUDEVENT_SOURCE);
    expect(ce.source).toBe('/repopulse');
  });

  it('URI-encodes the repo id in the default source', () => {
    const event = createEvent('repo.deleted', {}, { repo_id: 'acme/web app' });
    expect(toCloudEvent(event).source).toBe('/repos/acme%2Fweb%20app');
    expect(toCloudEvent(event).repoid).toBe('acme/web app');
  });

  it('takes the source from a string or a function of the event', () => {
    expect(toCloudEvent(full, { source: 'https://api.example.com' }).source).toBe('https://api.example.com');
    const source = (e: AnyEnvelope) => `urn:example:${e.type}:${e.repo_id ?? 'none'}`;
    expect(toCloudEvent(full, { source }).source).toBe('urn:example:task.progress:42');
    expect(toCloudEvent(bare, { source }).source).toBe('urn:example:log.append:none');
  });

  it.each([
    ['empty', ''],
    ['not a string', 42],
  ])('rejects a source that is %s with invalid_field', (_what, value) => {
    const error = rejection(() => toCloudEvent(full, { source: () => value as string }));
    expect(error).toMatchObject({ code: 'invalid_field', field: 'source' });
    expect(rejection(() => toCloudEvent(full, { source: value as string })).field).toBe('source');
  });

  it('validates the envelope first', () => {
    expect(rejection(() => toCloudEvent({ ...full, payload: { phase: 1 } } as never))).toMatchObject({
      code: 'invalid_payload',
      field: 'payload.phase',
    });
    expect(rejection(() => toCloudEvent({ ...full, type: 'nope' } as never)).code).toBe('unknown_type');
    expect(rejection(() => toCloudEvent({ ...full, ts: 9e15 }))).toMatchObject({
      code: 'invalid_field',
      field: 'ts',
    });
  });

  it('copies the payload, so later changes to the envelope do not alter it', () => {
    // A hand-made envelope: one from createEvent is frozen and cannot change.
    const event = { ...createEvent('task.progress', { phase: 'a' }), payload: { phase: 'a' } };
    const ce = toCloudEvent(event);
    event.payload.phase = 'changed';
    expect(ce.data.phase).toBe('a');
  });
});

describe('fromCloudEvent', () => {
  it.each([
    ['with every field', full],
    ['without the optional fields', bare],
  ])('round-trips an envelope %s', (_what, envelope) => {
    expect(fromCloudEvent(toCloudEvent(envelope))).toEqual(envelope);
    expect(fromCloudEvent(JSON.parse(JSON.stringify(toCloudEvent(envelope, { source: 'x:y' }))))).toEqual(
      envelope,
    );
  });

  it('accepts CloudEvents that other producers write: offsets, other JSON media types, extra extensions', () => {
    const event = fromCloudEvent({
      specversion: '1.0',
      id: 'ext-1',
      source: 'https://ci.example.com',
      type: 'log.append',
      time: '2026-12-01T10:30:00.5+01:00',
      datacontenttype: 'application/json; charset=utf-8',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      partitionkey: 'p-1',
      data: { level: 'warn', message: 'slow', extra: true },
    });
    expect(event).toEqual({
      id: 'ext-1',
      type: 'log.append',
      ts: Date.UTC(2026, 11, 1, 9, 30, 0, 500),
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      payload: { level: 'warn', message: 'slow', extra: true },
    });
    expect(fromCloudEvent({ ...toCloudEvent(bare), datacontenttype: undefined }).payload).toEqual(
      bare.payload,
    );
    expect(fromCloudEvent({ ...toCloudEvent(bare), datacontenttype: 'application/vnd.x+json' }).id).toBe(
      bare.id,
    );
  });

  const good = toCloudEvent(full);
  it.each([
    ['specversion 0.3', { ...good, specversion: '0.3' }, 'invalid_field', 'specversion'],
    ['no specversion', { ...good, specversion: undefined }, 'invalid_field', 'specversion'],
    ['no id', { ...good, id: undefined }, 'invalid_field', 'id'],
    ['an empty source', { ...good, source: '' }, 'invalid_field', 'source'],
    ['no type', { ...good, type: undefined }, 'invalid_field', 'type'],
    ['no time', { ...good, time: undefined }, 'invalid_field', 'time'],
    ['a time without a zone', { ...good, time: '2026-12-01T09:30:00' }, 'invalid_field', 'time'],
    ['a time that is a number', { ...good, time: TS }, 'invalid_field', 'time'],
    ['a time before 1970', { ...good, time: '1969-12-31T23:59:59Z' }, 'invalid_field', 'time'],
    ['XML data', { ...good, datacontenttype: 'application/xml' }, 'invalid_field', 'datacontenttype'],
    ['binary data', { ...good, data: undefined, data_base64: 'e30=' }, 'invalid_field', 'data_base64'],
    ['an unknown type', { ...good, type: 'com.example.other' }, 'unknown_type', 'type'],
    ['no data', { ...good, data: undefined }, 'invalid_payload', 'data'],
    ['data that is a string', { ...good, data: '{"phase":"llm"}' }, 'invalid_payload', 'data'],
    ['data missing a field', { ...good, data: { percent: 1 } }, 'invalid_payload', 'data.phase'],
    ['a subject with a newline', { ...good, subject: 'a\nb' }, 'invalid_field', 'subject'],
    ['an empty correlationid', { ...good, correlationid: '' }, 'invalid_field', 'correlationid'],
    ['a numeric repoid', { ...good, repoid: 42 }, 'invalid_field', 'repoid'],
  ])('rejects a CloudEvent with %s, naming the attribute', (_what, input, code, field) => {
    const error = rejection(() => fromCloudEvent(input));
    expect(error.code).toBe(code);
    expect(error.field).toBe(field);
    expect(error.message.startsWith(`[repopulse] ${field}`) || error.message.includes(`${field} "`)).toBe(
      true,
    );
  });

  it('names data fields in terms of the CloudEvent', () => {
    expect(rejection(() => fromCloudEvent({ ...good, data: { phase: 'p', percent: 'x' } })).message).toBe(
      '[repopulse] data.percent must be a number from 0 to 100, got "x"',
    );
  });

  it.each([null, 'x', [good], 42])('rejects %j with invalid_envelope', (input) => {
    expect(rejection(() => fromCloudEvent(input))).toMatchObject({
      code: 'invalid_envelope',
      field: 'cloudevent',
    });
  });

  it('applies maxBytes', () => {
    expect(rejection(() => fromCloudEvent(good, { maxBytes: 64 })).code).toBe('too_large');
  });
});

describe('forwarding to a CloudEvents consumer over HTTP', () => {
  const received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(202).end();
    });
  });
  let url = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('POSTs structured JSON that the official CloudEvents SDK reads as a valid 1.0 event', async () => {
    for (const event of [full, bare]) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': CLOUDEVENTS_CONTENT_TYPE },
        body: JSON.stringify(toCloudEvent(event)),
      });
      expect(response.status).toBe(202);
    }
    expect(received).toHaveLength(2);
    const [first, second] = received.map(
      ({ headers, body }) => HTTP.toEvent({ headers, body }) as SdkCloudEvent,
    );
    expect(first?.validate()).toBe(true);
    expect(first).toMatchObject({
      specversion: '1.0',
      id: full.id,
      type: 'task.progress',
      source: '/repos/42',
      subject: '7',
      correlationid: 'req-1',
      repoid: '42',
      datacontenttype: 'application/json',
      data: full.payload,
    });
    expect(Date.parse(String(first?.time))).toBe(TS);
    expect(second?.validate()).toBe(true);
    expect(second?.subject).toBeUndefined();
  });

  it('reads back what the SDK produces in structured mode', () => {
    const sdk = new SdkCloudEvent({
      id: 'sdk-1',
      source: '/repos/9',
      type: 'repo.created',
      time: new Date(TS).toISOString(),
      subject: '3',
      repoid: '9',
      datacontenttype: 'application/json',
      data: { name: 'web' },
    });
    const message = HTTP.structured(sdk);
    expect(String(message.headers['content-type'])).toContain(CLOUDEVENTS_CONTENT_TYPE);
    expect(fromCloudEvent(JSON.parse(String(message.body)))).toEqual({
      id: 'sdk-1',
      type: 'repo.created',
      ts: TS,
      repo_id: '9',
      task_id: '3',
      payload: { name: 'web' },
    });
  });
});
