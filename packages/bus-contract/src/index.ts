import type { EventBus } from '@repopulse/events-core';
import { afterEach, describe } from 'vitest';
import type { BusFactory, BusFactoryOptions, ContractContext, ContractOptions } from './harness';
import { dropSuite } from './suites/drop';
import { idempotenceSuite } from './suites/idempotence';
import { isolationSuite } from './suites/isolation';
import { lifecycleSuite } from './suites/lifecycle';
import { propertySuite } from './suites/property';
import { publishSuite } from './suites/publish';
import { retentionSuite } from './suites/retention';
import { subscribeSuite } from './suites/subscribe';

export type { BusFactory, BusFactoryOptions, Collector, ContractOptions } from './harness';
export { collect, numbered, numberOf, prng, settle } from './harness';

/**
 * Registers the whole EventBus contract as a vitest suite named `name`. Every bus must pass it.
 * `factory` makes a fresh bus for the given options; the suite closes every bus it made after
 * each test.
 *
 * @example
 * ```ts
 * testBus('memory', (options) => createMemoryBus(options), { sharedHistory: false });
 * ```
 */
export function testBus(name: string, factory: BusFactory, options: ContractOptions): void {
  const resolved: Required<ContractOptions> = { trimSlack: 0, deliveryTimeoutMs: 5000, ...options };
  const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  let topicCounter = 0;
  const open: EventBus[] = [];

  const ctx: ContractContext = {
    async create(busOptions: BusFactoryOptions = {}) {
      const bus = await factory(busOptions);
      open.push(bus);
      return bus;
    },
    topic: (label = 't') => `contract:${run}:${label}:${topicCounter++}`,
    async fresh(busOptions: BusFactoryOptions = {}) {
      return { bus: await ctx.create(busOptions), topic: ctx.topic() };
    },
    options: resolved,
  };

  describe(`EventBus contract: ${name}`, () => {
    afterEach(async () => {
      await Promise.all(open.splice(0).map((bus) => bus.close()));
    });
    publishSuite(ctx);
    idempotenceSuite(ctx);
    dropSuite(ctx);
    subscribeSuite(ctx);
    retentionSuite(ctx);
    isolationSuite(ctx);
    lifecycleSuite(ctx);
    propertySuite(ctx);
  });
}
