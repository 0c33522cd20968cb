import { deferred, prng } from '@repopulse/test-support';
import { describe, expect, it } from 'vitest';
import {
  aggregateRepositoryStatus,
  canTransitionRepo,
  createRepositoryStatusTracker,
  InvalidTransitionError,
  type RepoStatusChangedPayload,
  type RepositoryStatus,
  type RepositoryStatusSnapshot,
  TASK_STATUSES,
  type TaskStatus,
} from '../src/index';

/**
 * An async delay of `n` microtask turns. Unlike timers it is deterministic, so each seed gives
 * one reproducible interleaving whatever the machine's load.
 */
async function yieldTimes(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await Promise.resolve();
}

/** An in-memory "database" of repositories, with call logs. */
function createStore(initial: Record<string, RepositoryStatusSnapshot>) {
  const repos = new Map(
    Object.entries(initial).map(([id, s]) => [
      id,
      { status: s.status, tasks: s.tasks.map((t) => ({ ...t })) },
    ]),
  );
  const saved: Array<[string, RepoStatusChangedPayload]> = [];
  const published: Array<[string, RepoStatusChangedPayload]> = [];
  return {
    repos,
    saved,
    published,
    snapshot(id: string): RepositoryStatusSnapshot {
      const repo = repos.get(id);
      if (!repo) throw new Error(`no repo ${id}`);
      return { status: repo.status, tasks: repo.tasks.map((t) => ({ ...t })) };
    },
    save(id: string, change: RepoStatusChangedPayload) {
      const repo = repos.get(id)!;
      repo.status = change.to;
      saved.push([id, { ...change }]);
    },
  };
}

/** Checks a published sequence is a consistent chain ending at `finalStatus`. */
function chainProblems(
  initial: RepositoryStatus,
  changes: RepoStatusChangedPayload[],
  finalStatus: RepositoryStatus,
): string[] {
  const problems: string[] = [];
  let previous = initial;
  for (const [i, change] of changes.entries()) {
    if (change.from !== previous) problems.push(`#${i}: from ${change.from}, but the status was ${previous}`);
    if (!canTransitionRepo(change.from, change.to))
      problems.push(`#${i}: illegal ${change.from} → ${change.to}`);
    previous = change.to;
  }
  if (previous !== finalStatus) problems.push(`last published ${previous}, final state is ${finalStatus}`);
  return problems;
}

describe('createRepositoryStatusTracker', () => {
  it('saves, then publishes, only on a real change, and resolves to the change', async () => {
    const store = createStore({ r1: { status: 'ready', tasks: [{ status: 'pending' }] } });
    const calls: string[] = [];
    const tracker = createRepositoryStatusTracker<string>({
      load: (id) => store.snapshot(id),
      save: async (id, change) => {
        calls.push(`save ${change.from}→${change.to}`);
        store.save(id, change);
      },
      publish: async (id, change) => {
        calls.push(`publish ${change.from}→${change.to}`);
        store.published.push([id, change]);
      },
    });

    expect(await tracker.recompute('r1')).toBeUndefined(); // ready + [pending] → ready
    expect(calls).toEqual([]);

    store.repos.get('r1')!.tasks[0]!.status = 'running';
    expect(await tracker.recompute('r1')).toEqual({ from: 'ready', to: 'analyzing' });
    expect(calls).toEqual(['save ready→analyzing', 'publish ready→analyzing']);

    // Nothing changed since: no save, no publish.
    expect(await tracker.recompute('r1')).toBeUndefined();
    expect(await tracker.recompute('r1')).toBeUndefined();
    expect(calls).toHaveLength(2);

    store.repos.get('r1')!.tasks[0]!.status = 'completed';
    expect(await tracker.recompute('r1')).toEqual({ from: 'analyzing', to: 'completed' });
    expect(store.repos.get('r1')!.status).toBe('completed');
    expect(store.published.map(([, c]) => c.to)).toEqual(['analyzing', 'completed']);
  });

  it('never calls save or publish when the aggregate equals the stored status', async () => {
    const unchanged: RepositoryStatusSnapshot[] = [
      { status: 'pending', tasks: [{ status: 'running' }] },
      { status: 'cloning', tasks: [] },
      { status: 'ready', tasks: [] },
      { status: 'analyzing', tasks: [{ status: 'queued' }] },
      { status: 'completed', tasks: [{ status: 'completed' }, { status: 'canceled' }] },
      { status: 'error', tasks: [{ status: 'failed' }] },
    ];
    let saves = 0;
    let publishes = 0;
    let i = 0;
    const tracker = createRepositoryStatusTracker<number>({
      load: () => unchanged[i]!,
      save: () => {
        saves++;
      },
      publish: () => {
        publishes++;
      },
    });
    for (i = 0; i < unchanged.length; i++) expect(await tracker.recompute(1)).toBeUndefined();
    expect({ saves, publishes }).toEqual({ saves: 0, publishes: 0 });
  });

  it('rejects an illegal transition with InvalidTransitionError and saves nothing', async () => {
    let status = 'archived' as RepositoryStatus; // e.g. a value a newer version wrote to the DB
    let saves = 0;
    let publishes = 0;
    const tracker = createRepositoryStatusTracker<string>({
      load: () => ({ status, tasks: [{ status: 'running' }] }),
      save: () => {
        saves++;
      },
      publish: () => {
        publishes++;
      },
    });
    const error = await tracker.recompute('r').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidTransitionError);
    expect(error).toMatchObject({
      code: 'invalid_transition',
      machine: 'repository',
      from: 'archived',
      to: 'analyzing',
    });
    expect({ saves, publishes }).toEqual({ saves: 0, publishes: 0 });
    // The queue is not stuck: the next recompute runs.
    status = 'ready';
    expect(await tracker.recompute('r')).toEqual({ from: 'ready', to: 'analyzing' });
    expect({ saves, publishes }).toEqual({ saves: 1, publishes: 1 });
  });

  it('does not publish when save fails, rejects with that error, and keeps going', async () => {
    const store = createStore({ r: { status: 'ready', tasks: [{ status: 'running' }] } });
    let failSave = true;
    const tracker = createRepositoryStatusTracker<string>({
      load: (id) => store.snapshot(id),
      save: (id, change) => {
        if (failSave) throw new Error('disk full');
        store.save(id, change);
      },
      publish: (id, change) => {
        store.published.push([id, change]);
      },
    });
    await expect(tracker.recompute('r')).rejects.toThrow('disk full');
    expect(store.published).toEqual([]);
    expect(store.repos.get('r')!.status).toBe('ready');
    failSave = false;
    await expect(tracker.recompute('r')).resolves.toEqual({ from: 'ready', to: 'analyzing' });
    expect(store.published).toEqual([['r', { from: 'ready', to: 'analyzing' }]]);
  });

  it('rejects when load fails, without blocking the calls queued behind it', async () => {
    let failures = 1;
    const tracker = createRepositoryStatusTracker<string>({
      load: async () => {
        if (failures-- > 0) throw new Error('db down');
        return { status: 'ready', tasks: [{ status: 'failed' }] };
      },
      save: () => {},
      publish: () => {},
    });
    const first = tracker.recompute('r');
    const second = tracker.recompute('r');
    await expect(first).rejects.toThrow('db down');
    await expect(second).resolves.toEqual({ from: 'ready', to: 'error' });
  });

  it('adds error_msg from errorMessage() only when the new status is error', async () => {
    const store = createStore({ r: { status: 'analyzing', tasks: [{ status: 'failed' }] } });
    const asked: RepositoryStatusSnapshot[] = [];
    const tracker = createRepositoryStatusTracker<string>({
      load: (id) => store.snapshot(id),
      save: (id, change) => store.save(id, change),
      publish: (id, change) => {
        store.published.push([id, change]);
      },
      errorMessage: (_id, snapshot) => {
        asked.push(snapshot);
        return 'task 7 failed: timeout';
      },
    });
    expect(await tracker.recompute('r')).toEqual({
      from: 'analyzing',
      to: 'error',
      error_msg: 'task 7 failed: timeout',
    });
    expect(asked).toHaveLength(1);
    expect(asked[0]!.tasks).toEqual([{ status: 'failed' }]);
    store.repos.get('r')!.tasks[0]!.status = 'pending';
    expect(await tracker.recompute('r')).toEqual({ from: 'error', to: 'ready' });
    expect(asked).toHaveLength(1);
  });

  it('runs the calls of one repository one at a time, in call order', async () => {
    let active = 0;
    let maxActive = 0;
    const order: number[] = [];
    let n = 0;
    const tick = () => new Promise<void>((r) => setTimeout(r, 1));
    const tracker = createRepositoryStatusTracker<string>({
      load: async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        order.push(n++);
        await tick();
        return { status: 'ready', tasks: n % 2 ? [{ status: 'running' }] : [] };
      },
      save: async () => {
        await tick();
      },
      publish: tick,
    });
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        tracker.recompute('r').finally(() => {
          active--;
          order.push(100 + i);
        }),
      ),
    );
    expect(maxActive).toBe(1);
    // Each call finished (100+i) before the next one loaded.
    expect(order).toEqual(Array.from({ length: 10 }, (_, i) => [i, 100 + i]).flat());
    expect(results.filter(Boolean)).toHaveLength(5);
  });

  it('publishes a consistent, ordered chain under 50 concurrent task updates of one repository', async () => {
    for (const seed of [1, 2, 3]) {
      const random = prng(seed);
      const delay = (max = 30) => yieldTimes(Math.floor(random() * max));
      const store = createStore({
        repo: {
          status: 'ready',
          tasks: Array.from({ length: 2 }, () => ({ status: 'pending' as TaskStatus })),
        },
      });
      const tracker = createRepositoryStatusTracker<string>({
        load: async (id) => {
          await delay();
          const snapshot = store.snapshot(id);
          await delay();
          return snapshot;
        },
        save: async (id, change) => {
          await delay();
          store.save(id, change);
          await delay();
        },
        publish: async (id, change) => {
          await delay();
          store.published.push([id, change]);
        },
      });

      const resolved: RepoStatusChangedPayload[] = [];
      let inFlight = 0;
      let maxInFlight = 0;
      const updates = Array.from({ length: 50 }, async (_, i) => {
        await delay(1500); // spread the updates: some overlap running recomputes, some queue up
        const task = store.repos.get('repo')!.tasks[i % 2]!;
        task.status = TASK_STATUSES[Math.floor(random() * TASK_STATUSES.length)]!;
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        const change = await tracker.recompute('repo');
        inFlight--;
        if (change) resolved.push(change);
      });
      await Promise.all(updates);
      await tracker.idle();

      const final = store.repos.get('repo')!;
      const expectedFinal = aggregateRepositoryStatus('ready', final.tasks);
      const changes = store.published.map(([, c]) => c);
      expect(changes.length, `seed ${seed}: some changes happened`).toBeGreaterThan(3);
      expect(maxInFlight, `seed ${seed}: calls really overlapped`).toBeGreaterThan(10);
      expect(chainProblems('ready', changes, expectedFinal), `seed ${seed}`).toEqual([]);
      expect(final.status).toBe(expectedFinal);
      // Published in exactly the order saved, and the calls resolved in that order too.
      expect(changes).toEqual(store.saved.map(([, c]) => c));
      expect(resolved).toEqual(changes);
      // One more recompute over the final state changes nothing.
      expect(await tracker.recompute('repo')).toBeUndefined();
    }
  });

  it('the chain check above does catch the race of an unserialized recompute', async () => {
    // The same scenario with load/aggregate/save/publish run without the tracker's queue.
    const random = prng(7);
    const delay = (max = 30) => yieldTimes(Math.floor(random() * max));
    const store = createStore({
      repo: {
        status: 'ready',
        tasks: Array.from({ length: 2 }, () => ({ status: 'pending' as TaskStatus })),
      },
    });
    async function naiveRecompute() {
      await delay();
      const snapshot = store.snapshot('repo');
      await delay();
      const to = aggregateRepositoryStatus(snapshot.status, snapshot.tasks);
      if (to === snapshot.status) return;
      await delay();
      store.save('repo', { from: snapshot.status, to });
      await delay();
      store.published.push(['repo', { from: snapshot.status, to }]);
    }
    await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        await delay(1500);
        store.repos.get('repo')!.tasks[i % 2]!.status = TASK_STATUSES[Math.floor(random() * 6)]!;
        await naiveRecompute();
      }),
    );
    const final = store.repos.get('repo')!;
    const problems = chainProblems(
      'ready',
      store.published.map(([, c]) => c),
      aggregateRepositoryStatus('ready', final.tasks),
    );
    expect(problems.length).toBeGreaterThan(0);
  });

  it('does not serialize different repositories against each other', async () => {
    const gate = deferred();
    const aLoading = deferred();
    const loads: string[] = [];
    const published: string[] = [];
    const tracker = createRepositoryStatusTracker<string>({
      load: async (id) => {
        loads.push(id);
        if (id === 'A' && loads.filter((l) => l === 'A').length === 1) {
          aLoading.resolve();
          await gate.promise;
        }
        return { status: 'ready', tasks: [{ status: 'running' }] };
      },
      save: () => {},
      publish: (id) => {
        published.push(id);
      },
    });

    const a1 = tracker.recompute('A');
    const a2 = tracker.recompute('A'); // queued behind the blocked a1
    await aLoading.promise;
    let idle = false;
    const idlePromise = tracker.idle().then(() => {
      idle = true;
    });

    // B completes while A's load is blocked.
    await expect(tracker.recompute('B')).resolves.toEqual({ from: 'ready', to: 'analyzing' });
    expect(published).toEqual(['B']);
    expect(loads).toEqual(['A', 'B']); // a2 has not started: A's calls stay serialized
    expect(idle).toBe(false);

    gate.resolve();
    await expect(a1).resolves.toEqual({ from: 'ready', to: 'analyzing' });
    await expect(a2).resolves.toEqual({ from: 'ready', to: 'analyzing' });
    await idlePromise;
    expect(idle).toBe(true);
    expect(published).toEqual(['B', 'A', 'A']);
  });

  it('accepts synchronous load/save/publish and any id type', async () => {
    const key = { id: 1 };
    const seen: unknown[] = [];
    const tracker = createRepositoryStatusTracker<{ id: number }>({
      load: (id) => {
        seen.push(id);
        return { status: 'completed', tasks: [] };
      },
      save: (id) => {
        seen.push(id);
      },
      publish: (id) => seen.push(id),
    });
    expect(await tracker.recompute(key)).toEqual({ from: 'completed', to: 'ready' });
    expect(seen).toEqual([key, key, key]);
    await tracker.idle();
  });
});
