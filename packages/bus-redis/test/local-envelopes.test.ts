import { numbered } from '@repopulse/bus-contract';
import { createEvent } from '@repopulse/events-core';
import { describe, expect, it } from 'vitest';
import { LOCAL_ENVELOPES_LIMIT, LocalEnvelopes } from '../src/local-envelopes';

const T = 'repo:1';

/** `text` as a Pub/Sub line holds it: UTF-8 bytes, after a position and a space. */
function line(text: string): [Buffer, number, number] {
  const bytes = Buffer.from(`1-0 ${text}\n`);
  return [bytes, 4, bytes.length - 1];
}

describe('LocalEnvelopes', () => {
  it('gives back an envelope once per add of its JSON on its topic, and nothing for JSON it was not given', () => {
    const local = new LocalEnvelopes();
    const event = numbered(1);
    const json = JSON.stringify(event);
    local.add(T, json, event);
    local.add(T, json, event); // the same envelope published twice
    expect(local.take('repo:2', ...line(json))).toBeUndefined(); // another topic
    expect(local.take(T, ...line(`${json} `.trim()))).toBe(event); // equal text, other bytes
    expect(local.take(T, ...line(json))).toBe(event);
    expect(local.take(T, ...line(json))).toBeUndefined();
    expect(local.take(T, ...line(JSON.stringify(numbered(2))))).toBeUndefined();
  });

  it('compares UTF-8 bytes: multi-byte text matches, text of the same byte length that differs does not', () => {
    const local = new LocalEnvelopes();
    const event = createEvent('log.append', { level: 'info', message: 'é € 💡 ü' });
    const json = JSON.stringify(event);
    local.add(T, json, event);
    expect(local.take(T, ...line(json.replace('ü', 'ö')))).toBeUndefined();
    expect(local.take(T, ...line(json.replace('€', 'abc')))).toBeUndefined();
    expect(local.take(T, ...line(json))).toBe(event);
  });

  it('compares a line with the bytes the JSON was written as, once it was written', () => {
    const local = new LocalEnvelopes();
    const event = createEvent('log.append', { level: 'info', message: 'é € 💡 ü' });
    const json = JSON.stringify(event);
    const sent = Buffer.from(`1\n${event.id}\n${json}`);
    local.add(T, json, event).written(sent, sent.length - Buffer.byteLength(json), sent.length);
    local.add(T, json, event).written(sent, sent.length - Buffer.byteLength(json), sent.length);
    expect(local.take(T, ...line(json.replace('ü', 'ö')))).toBeUndefined();
    expect(local.take(T, ...line(json))).toBe(event);
    // Bytes written for another event: the line does not match them.
    const other = createEvent('log.append', { level: 'info', message: 'è € 💡 ü' });
    const otherJson = JSON.stringify(other);
    local.add(T, otherJson, other).written(sent, sent.length - Buffer.byteLength(json), sent.length);
    expect(local.take(T, ...line(otherJson))).toBeUndefined();
  });

  it('tells apart envelopes with one id and different JSON', () => {
    const local = new LocalEnvelopes();
    const first = numbered(1);
    const again = { ...first, payload: { level: 'info', message: 'changed' } } as typeof first;
    local.add(T, JSON.stringify(again), again);
    expect(local.take(T, ...line(JSON.stringify(first)))).toBeUndefined(); // parsed instead: still correct
    expect(local.take(T, ...line(JSON.stringify(again)))).toBe(again);
    expect(local.take(T, ...line('not an envelope'))).toBeUndefined();
  });

  it('skips envelopes that were never announced: lines after them still find theirs', () => {
    const local = new LocalEnvelopes();
    const events = Array.from({ length: 200 }, (_, i) => numbered(i));
    const expected = events.map((event) => local.add(T, JSON.stringify(event), event));
    // A line of another process first: nothing is forgotten.
    expect(local.take(T, ...line(JSON.stringify(numbered(999))))).toBeUndefined();
    // The first three stored nothing (a duplicate, a refusal) or were never heard of: the fourth is found.
    expect(local.take(T, ...line(JSON.stringify(events[3])))).toBe(events[3]);
    // The next 100 were not announced and said so: the one after them is found, far past the lookahead.
    for (const e of expected.slice(4, 104)) e.notAnnounced();
    expect(local.take(T, ...line(JSON.stringify(numbered(998))))).toBeUndefined();
    expect(local.take(T, ...line(JSON.stringify(events[104])))).toBe(events[104]);
    // Forgotten once passed: an earlier one's line (out of order) is parsed instead.
    expect(local.take(T, ...line(JSON.stringify(events[2])))).toBeUndefined();
    expect(local.take(T, ...line(JSON.stringify(events[105])))).toBe(events[105]);
  });

  it('stays bounded: past its limit it starts over', () => {
    const local = new LocalEnvelopes();
    const first = numbered(0);
    local.add(T, JSON.stringify(first), first);
    for (let i = 1; i <= LOCAL_ENVELOPES_LIMIT; i++) {
      const event = numbered(i);
      local.add(`repo:${i % 7}`, JSON.stringify(event), event);
    }
    expect(local.take(T, ...line(JSON.stringify(first)))).toBeUndefined();
  });
});
