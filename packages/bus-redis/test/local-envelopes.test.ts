import { numbered } from '@repopulse/bus-contract';
import { describe, expect, it } from 'vitest';
import { LOCAL_ENVELOPES_LIMIT, LocalEnvelopes } from '../src/local-envelopes';

describe('LocalEnvelopes', () => {
  it('gives back an envelope once per add of its JSON, and nothing for JSON it was not given', () => {
    const local = new LocalEnvelopes();
    const event = numbered(1);
    const json = JSON.stringify(event);
    local.add(json, event);
    local.add(json, event); // the same envelope published twice
    expect(local.take(`${json} `.trim())).toBe(event); // equal text, another string
    expect(local.take(json)).toBe(event);
    expect(local.take(json)).toBeUndefined();
    expect(local.take(JSON.stringify(numbered(2)))).toBeUndefined();
  });

  it('tells apart envelopes with one id and different JSON, and ids holding quotes', () => {
    const local = new LocalEnvelopes();
    const first = numbered(1);
    const again = { ...first, payload: { level: 'info', message: 'changed' } } as typeof first;
    local.add(JSON.stringify(first), first);
    local.add(JSON.stringify(again), again); // same id, other content: replaces the first
    expect(local.take(JSON.stringify(first))).toBeUndefined(); // parsed instead: still correct
    expect(local.take(JSON.stringify(again))).toBe(again);
    const quoted = { ...first, id: 'a"b' } as typeof first;
    const other = { ...first, id: 'a"c' } as typeof first;
    local.add(JSON.stringify(quoted), quoted);
    local.add(JSON.stringify(other), other);
    expect(local.take(JSON.stringify(other))).toBe(other);
    expect(local.take('not an envelope')).toBeUndefined();
  });

  it('stays bounded: past its limit it starts over', () => {
    const local = new LocalEnvelopes();
    const first = numbered(0);
    local.add(JSON.stringify(first), first);
    for (let i = 1; i <= LOCAL_ENVELOPES_LIMIT; i++) {
      const event = numbered(i);
      local.add(JSON.stringify(event), event);
    }
    expect(local.take(JSON.stringify(first))).toBeUndefined();
  });
});
