import { describe, expect, it } from 'vitest';
import { type QueuedAppend, TopicBatches } from '../src/topic-batches';

/** Statements that record what they were asked to run and finish when the test says so. */
function recorder() {
  const calls: string[] = [];
  const pending: (() => void)[] = [];
  const step = () => new Promise<void>((resolve) => pending.push(resolve));
  const statements = {
    async append(topic: string, items: QueuedAppend[]) {
      calls.push(`${topic}: append ${items.map((i) => i.id).join(',')}`);
      await step();
      return items.map((item) => `${topic}/${item.id}`);
    },
    async drop(topic: string) {
      calls.push(`${topic}: drop`);
      await step();
    },
  };
  const release = async () => {
    await new Promise((resolve) => setImmediate(resolve));
    pending.splice(0).forEach((resolve) => void resolve());
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { calls, statements, release };
}

const item = (id: string): QueuedAppend => ({ id, json: '{}', startedAt: Date.now() });

describe('TopicBatches', () => {
  it('sends one statement at a time per topic; publishes that queued meanwhile go together, in order', async () => {
    const { calls, statements, release } = recorder();
    const batches = new TopicBatches(statements, 3);
    const results = ['a', 'b', 'c', 'd', 'e'].map((id) => batches.append('t', item(id)));
    const other = batches.append('u', item('x'));
    await release();
    await release();
    await release();
    expect(await Promise.all(results)).toEqual(['t/a', 't/b', 't/c', 't/d', 't/e']);
    expect(await other).toBe('u/x');
    expect(calls).toEqual(['t: append a', 'u: append x', 't: append b,c,d', 't: append e']);
  });

  it('keeps a drop between the publishes made before and after it', async () => {
    const { calls, statements, release } = recorder();
    const batches = new TopicBatches(statements, 10);
    const done = [
      batches.append('t', item('a')),
      batches.append('t', item('b')),
      batches.drop('t'),
      batches.append('t', item('c')),
    ];
    for (let i = 0; i < 4; i++) await release();
    await Promise.all(done);
    expect(calls).toEqual(['t: append a', 't: append b', 't: drop', 't: append c']);
  });

  it('rejects every publish of a failed statement, and goes on with the next', async () => {
    let fail = true;
    const batches = new TopicBatches(
      {
        async append(_topic, items) {
          if (fail) {
            fail = false;
            throw new Error('boom');
          }
          return items.map((i) => i.id);
        },
        async drop() {},
      },
      10,
    );
    const first = batches.append('t', item('a'));
    const second = batches.append('t', item('b'));
    await expect(first).rejects.toThrow('boom');
    expect(await second).toBe('b');
  });
});
