import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryBus } from '@repopulse/bus-memory';
import { createRedisBus } from '@repopulse/bus-redis';
import type { EventBus } from '@repopulse/events-core';
import { compare, type VariantResult } from './harness';
import { type ReferenceAppTasks, referenceAppTasks } from './outbox/reference-app-tasks';

/** How a variant's OpenTelemetry set-up is switched on, and how a request handler runs under it. */
export interface OtelSwitch<Mode extends string> {
  /** Puts `mode` in force (the global API, the SDK, `registerOpenTelemetry`). */
  enter(mode: Mode): void;
  /** Runs `fn` as a request handler: inside its request's SERVER span when the SDK is on. */
  inRequest<T>(mode: Mode, fn: () => Promise<T>): Promise<T>;
}

/** One row of the app workload: a mode on a bus. */
export interface AppVariant<Mode extends string> {
  mode: Mode;
  transport: 'memory' | 'redis';
  name: string;
}

/** Options of {@link appTaskUpdates}. */
export interface AppWorkloadOptions<Mode extends string> extends OtelSwitch<Mode> {
  variants: readonly AppVariant<Mode>[];
  /** Task updates per round. */
  updates: number;
  rounds: number;
  redisUrl: string;
  /** Key prefix of the Redis buses (deleted by the caller). */
  keyPrefix: string;
}

/**
 * What instrumentation costs on the reference app's own publish path: each request is one task
 * status change, as the app's task runner makes it (`TaskService.setStatus` on the app's SQLite
 * schema: the task row, the repository recompute, and `task.status_changed` (plus
 * `repo.status_changed` on three topics when the repository changes) enqueued in the same
 * transaction, each a fresh `createEvent`), and the app's outbox relay publishing the events to the
 * bus after the commit. A round is `updates` requests one after the other, then the relay drained;
 * timed by the process's CPU time (SQLite, the relay and the SDK all run in it). Each variant has
 * a database, an outbox and a bus of its own, made while its mode is in force.
 */
export async function appTaskUpdates<Mode extends string>(
  options: AppWorkloadOptions<Mode>,
): Promise<VariantResult[]> {
  const { variants, enter, inRequest } = options;
  const dir = mkdtempSync(join(tmpdir(), 'repopulse-bench-otel-app-'));
  const apps = new Map<AppVariant<Mode>, { app: ReferenceAppTasks; bus: EventBus }>();
  try {
    for (const [at, variant] of variants.entries()) {
      enter(variant.mode);
      const bus =
        variant.transport === 'memory'
          ? createMemoryBus()
          : createRedisBus({ url: options.redisUrl, keyPrefix: `${options.keyPrefix}app${at}:` });
      apps.set(variant, { app: referenceAppTasks(join(dir, String(at)), bus), bus });
    }
    return await compare(
      variants.map((variant) => ({
        name: variant.name,
        run: async (ops: number) => {
          enter(variant.mode);
          const { app } = apps.get(variant) as { app: ReferenceAppTasks };
          // A request handler is async: the relay, woken by each commit, runs between requests.
          for (let i = 0; i < ops; i++)
            await inRequest(variant.mode, async () => {
              app.update();
            });
          await app.outbox?.drained(120_000);
        },
      })),
      { ops: options.updates, rounds: options.rounds, clock: 'cpu' },
    );
  } finally {
    for (const { app, bus } of apps.values()) {
      await app.outbox?.close();
      await bus.close();
      app.db.close();
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
