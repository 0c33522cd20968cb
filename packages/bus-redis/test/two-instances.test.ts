import { collect, numbered } from '@repopulse/bus-contract';
import { comparePositions } from '@repopulse/events-core/wire';
import { afterEach, expect, it } from 'vitest';
import { createRedisBus, type RedisBus } from '../src/index';
import { describeWithRedis, redisServerPerSuite } from './redis-server';

// Two bus instances on one Redis model two server processes behind a load balancer.
describeWithRedis('bus-redis: two instances on one Redis', () => {
  const server = redisServerPerSuite();
  const buses: RedisBus[] = [];
  const bus = () => {
    const created = createRedisBus({ url: server().url });
    buses.push(created);
    return created;
  };
  let n = 0;
  const topic = () => `repo:${++n}`;

  afterEach(async () => {
    await Promise.all(buses.splice(0).map((b) => b.close()));
  });

  it('delivers live to B what A publishes, at the positions A was given', async () => {
    const [a, b] = [bus(), bus()];
    const t = topic();
    const sub = await collect(b, t);
    const results = [];
    for (let i = 0; i < 20; i++) results.push(await a.publish(t, numbered(i)));
    await sub.waitForEvents(20, 5000);
    expect(sub.numbers()).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(sub.events().map((e) => e.position)).toEqual(results.map((r) => r.position));
    expect(await b.head(t)).toBe(results.at(-1)!.position);
  });

  it('resumes on B from a position delivered by A: the rest, no gap, no duplicate, no reset', async () => {
    const [a, b] = [bus(), bus()];
    const t = topic();
    const onA = await collect(a, t);
    for (let i = 0; i < 10; i++) await a.publish(t, numbered(i));
    await onA.waitForEvents(10, 5000);
    const resumeAt = onA.events()[5]!.position; // the client saw 0..5 on A, then A died
    await onA.subscription.unsubscribe();
    const racing = (async () => {
      for (let i = 10; i < 40; i++) await b.publish(t, numbered(i));
    })();
    const onB = await collect(b, t, { after: resumeAt });
    await racing;
    await onB.waitForEvents(34, 5000);
    expect(onB.numbers()).toEqual(Array.from({ length: 34 }, (_, i) => i + 6));
    expect(onB.resets()).toEqual([]);
  });

  it('publishes from both instances interleave into one ordered log seen the same by all', async () => {
    const [a, b, c] = [bus(), bus(), bus()];
    const t = topic();
    const subs = await Promise.all([collect(a, t), collect(b, t), collect(c, t)]);
    await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).publish(t, numbered(i))));
    for (const sub of subs) await sub.waitForEvents(100, 5000);
    const reference = subs[0]!.events().map((e) => e.position);
    expect(new Set(reference).size).toBe(100);
    for (const sub of subs) expect(sub.events().map((e) => e.position)).toEqual(reference);
    expect(reference).toEqual([...reference].sort(comparePositions));
  });
});
