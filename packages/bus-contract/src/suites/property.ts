import type { EventBus, StreamPosition } from '@repopulse/events-core';
import { comparePositions } from '@repopulse/events-core/wire';
import { describe, expect, it, vi } from 'vitest';
import { type Collector, type ContractContext, collect, numbered, prng } from '../harness';

interface Subscriber {
  topic: string;
  after: StreamPosition | undefined;
  sub: Collector;
  active: boolean;
}

/**
 * Property-style runs: seeded random interleavings of publish (awaited or racing),
 * subscribe (live, after a random delivered point, after the head) and unsubscribe. Every
 * subscriber must see a gap-free, duplicate-free, ordered run of its topic's log that starts
 * right after its `after` point and, while still subscribed, reaches the end of the log.
 */
export function propertySuite(ctx: ContractContext): void {
  describe('random interleavings', () => {
    const seeds = [1, 2, 3, 4, 5, 6, 7, 8];
    it.each(seeds)(
      'seed %i: every subscriber sees a contiguous, ordered, duplicate-free run',
      async (seed) => {
        const random = prng(seed);
        const pick = <T>(items: readonly T[]): T | undefined => items[Math.floor(random() * items.length)];
        const bus: EventBus = await ctx.create();
        const topics = [ctx.topic(`p${seed}a`), ctx.topic(`p${seed}b`)];
        const logs = new Map<string, { position: StreamPosition; n: number }[]>(topics.map((t) => [t, []]));
        const subscribers: Subscriber[] = [];
        const racing: Promise<unknown>[] = [];
        let counter = 0;

        const publish = (topic: string) => {
          const n = counter++;
          return bus
            .publish(topic, numbered(n))
            .then((r) => logs.get(topic)!.push({ position: r.position, n }));
        };

        for (let step = 0; step < 80; step++) {
          const topic = pick(topics)!;
          const roll = random();
          if (roll < 0.35) await publish(topic);
          else if (roll < 0.6) racing.push(publish(topic));
          else if (roll < 0.85) {
            const known = logs.get(topic)!;
            const choice = random();
            let after: StreamPosition | undefined;
            if (choice < 0.3) after = undefined;
            else if (choice < 0.5) after = await bus.head(topic);
            else after = pick(known)?.position ?? '0-0';
            subscribers.push({
              topic,
              after,
              sub: await collect(bus, topic, after ? { after } : {}),
              active: true,
            });
          } else {
            const victim = pick(subscribers.filter((s) => s.active));
            if (victim) {
              victim.active = false;
              await victim.sub.subscription.unsubscribe();
            }
          }
          if (random() < 0.2) await new Promise((r) => setImmediate(r));
        }
        await Promise.all(racing);
        for (const log of logs.values()) log.sort((a, b) => comparePositions(a.position, b.position));

        await vi.waitFor(
          () => {
            for (const s of subscribers.filter((x) => x.active)) {
              const last = logs.get(s.topic)!.at(-1);
              const got = s.sub.events().at(-1);
              if (last && (s.after === undefined || comparePositions(last.position, s.after) > 0)) {
                expect(got?.position).toBe(last.position);
              }
            }
          },
          { timeout: ctx.options.deliveryTimeoutMs, interval: 10 },
        );

        for (const s of subscribers) {
          const log = logs.get(s.topic)!;
          const got = s.sub.events().map((e) => e.position);
          expect(s.sub.resets(), `seed ${seed}: unexpected reset`).toEqual([]);
          expect(new Set(got).size, `seed ${seed}: duplicate`).toBe(got.length);
          if (got.length === 0) continue;
          const start = log.findIndex((e) => e.position === got[0]);
          expect(start, `seed ${seed}: delivered an unknown position`).toBeGreaterThanOrEqual(0);
          expect(got, `seed ${seed}: gap or disorder`).toEqual(
            log.slice(start, start + got.length).map((e) => e.position),
          );
          if (s.after !== undefined) {
            const expectedStart = log.findIndex((e) => comparePositions(e.position, s.after!) > 0);
            expect(start, `seed ${seed}: replay did not start right after ${s.after}`).toBe(expectedStart);
          }
          if (s.active) expect(start + got.length, `seed ${seed}: stopped early`).toBe(log.length);
          expect(s.sub.numbers(), `seed ${seed}: payloads must match positions`).toEqual(
            log.slice(start, start + got.length).map((e) => e.n),
          );
        }
      },
    );
  });
}
