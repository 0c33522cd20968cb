import { describe, expect, it } from 'vitest';
import {
  aggregateRepositoryStatus,
  canTransitionRepo,
  REPOSITORY_STATUSES,
  type RepositoryStatus,
  TASK_STATUSES,
  type TaskStatus,
} from '../src/index';

const tasks = (...statuses: TaskStatus[]) => statuses.map((status) => ({ status }));

type Row = [rule: string, current: RepositoryStatus, statuses: TaskStatus[], expected: RepositoryStatus];

/** DESIGN.md "Aggregation", one block of rows per rule. */
const TABLE: Row[] = [
  // 1. current is pending or cloning → unchanged (the clone flow owns it).
  ['1', 'pending', [], 'pending'],
  ['1', 'pending', ['running'], 'pending'],
  ['1', 'pending', ['failed'], 'pending'],
  ['1', 'cloning', ['completed', 'completed'], 'cloning'],
  ['1', 'cloning', ['queued', 'pending'], 'cloning'],
  ['1', 'cloning', [], 'cloning'],
  // 2. any task running or queued → analyzing.
  ['2', 'ready', ['running'], 'analyzing'],
  ['2', 'ready', ['queued'], 'analyzing'],
  ['2', 'completed', ['completed', 'running'], 'analyzing'],
  ['2', 'error', ['failed', 'queued'], 'analyzing'],
  ['2', 'analyzing', ['running', 'failed', 'pending', 'completed', 'canceled'], 'analyzing'],
  ['2', 'ready', ['canceled', 'queued', 'completed'], 'analyzing'],
  // 3. else any failed: with a pending task left → analyzing, otherwise → error.
  ['3', 'analyzing', ['failed', 'pending'], 'analyzing'],
  ['3', 'error', ['pending', 'failed', 'completed'], 'analyzing'],
  ['3', 'analyzing', ['failed'], 'error'],
  ['3', 'analyzing', ['completed', 'failed'], 'error'],
  ['3', 'completed', ['failed', 'canceled'], 'error'],
  ['3', 'ready', ['failed', 'failed', 'completed'], 'error'],
  ['3', 'error', ['failed'], 'error'],
  // 4. else any pending: with a completed task → analyzing, otherwise → ready.
  ['4', 'analyzing', ['completed', 'pending'], 'analyzing'],
  ['4', 'completed', ['pending', 'completed', 'canceled'], 'analyzing'],
  ['4', 'ready', ['pending'], 'ready'],
  ['4', 'analyzing', ['pending', 'pending'], 'ready'],
  ['4', 'completed', ['pending', 'canceled'], 'ready'],
  ['4', 'error', ['pending'], 'ready'],
  // 5. else at least one task and all completed (ignoring canceled) → completed.
  ['5', 'analyzing', ['completed'], 'completed'],
  ['5', 'ready', ['completed', 'completed', 'completed'], 'completed'],
  ['5', 'analyzing', ['completed', 'canceled'], 'completed'],
  ['5', 'error', ['canceled', 'completed', 'canceled'], 'completed'],
  ['5', 'completed', ['completed'], 'completed'],
  // 6. no tasks → ready (the original said completed: that was the bug).
  ['6', 'ready', [], 'ready'],
  ['6', 'analyzing', [], 'ready'],
  ['6', 'completed', [], 'ready'],
  ['6', 'error', [], 'ready'],
  // Only canceled tasks: nothing was completed, so like rule 6 (see the note in aggregate.ts).
  ['6', 'analyzing', ['canceled'], 'ready'],
  ['6', 'completed', ['canceled', 'canceled'], 'ready'],
];

describe('aggregateRepositoryStatus', () => {
  it.each(TABLE)('rule %s: %s with [%s] → %s', (_rule, current, statuses, expected) => {
    expect(aggregateRepositoryStatus(current, tasks(...statuses))).toBe(expected);
  });

  it('covers every rule with several rows', () => {
    for (const rule of ['1', '2', '3', '4', '5', '6']) {
      expect(TABLE.filter(([r]) => r === rule).length).toBeGreaterThanOrEqual(4);
    }
  });

  it('reads only `status` and accepts richer task objects', () => {
    const rich = [
      { id: 1, status: 'completed' as const, name: 'a' },
      { id: 2, status: 'pending' as const, name: 'b' },
    ];
    expect(aggregateRepositoryStatus('ready', rich)).toBe('analyzing');
  });

  it('does not mutate its input', () => {
    const input = Object.freeze(tasks('failed', 'pending').map((t) => Object.freeze(t)));
    expect(aggregateRepositoryStatus('analyzing', input)).toBe('analyzing');
  });
});

/** Every multiset of `size` task statuses (order does not matter to the aggregation). */
function multisets(size: number, from = 0): TaskStatus[][] {
  if (size === 0) return [[]];
  const out: TaskStatus[][] = [];
  for (let i = from; i < TASK_STATUSES.length; i++) {
    for (const rest of multisets(size - 1, i)) out.push([TASK_STATUSES[i]!, ...rest]);
  }
  return out;
}

const ALL_COMBINATIONS = [0, 1, 2, 3].flatMap((n) => multisets(n));

/** DESIGN.md's rules, written independently of the implementation (by counting). */
function oracle(current: RepositoryStatus, statuses: TaskStatus[]): RepositoryStatus {
  const count = (s: TaskStatus) => statuses.filter((x) => x === s).length;
  if (current === 'pending' || current === 'cloning') return current;
  if (count('running') + count('queued') > 0) return 'analyzing';
  if (count('failed') > 0) return count('pending') > 0 ? 'analyzing' : 'error';
  if (count('pending') > 0) return count('completed') > 0 ? 'analyzing' : 'ready';
  const considered = statuses.filter((s) => s !== 'canceled');
  if (considered.length > 0 && considered.every((s) => s === 'completed')) return 'completed';
  return 'ready';
}

describe('aggregateRepositoryStatus over every combination', () => {
  it('enumerates all 84 multisets of 0–3 tasks over the 6 task statuses', () => {
    expect(ALL_COMBINATIONS).toHaveLength(1 + 6 + 21 + 56);
  });

  it('yields, for every current status, either no change or a legal repository transition', () => {
    const illegal: string[] = [];
    for (const current of REPOSITORY_STATUSES) {
      for (const statuses of ALL_COMBINATIONS) {
        const next = aggregateRepositoryStatus(current, tasks(...statuses));
        if (next !== current && !canTransitionRepo(current, next)) {
          illegal.push(`${current} [${statuses.join(',')}] → ${next}`);
        }
      }
    }
    expect(illegal).toEqual([]);
  });

  it('matches the rules of DESIGN.md and does not depend on task order', () => {
    for (const current of REPOSITORY_STATUSES) {
      for (const statuses of ALL_COMBINATIONS) {
        const expected = oracle(current, statuses);
        expect(aggregateRepositoryStatus(current, tasks(...statuses)), `${current} [${statuses}]`).toBe(
          expected,
        );
        expect(aggregateRepositoryStatus(current, tasks(...[...statuses].reverse()))).toBe(expected);
      }
    }
  });

  it('reaches every status it may produce from an aggregated state', () => {
    const produced = new Set<RepositoryStatus>();
    for (const statuses of ALL_COMBINATIONS)
      produced.add(aggregateRepositoryStatus('ready', tasks(...statuses)));
    expect([...produced].sort()).toEqual(['analyzing', 'completed', 'error', 'ready']);
  });
});
