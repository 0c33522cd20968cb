import { describe, expect, it } from 'vitest';
import {
  assertRepoTransition,
  assertTaskTransition,
  canTransitionRepo,
  canTransitionTask,
  InvalidTransitionError,
  isRepositoryStatus,
  isTaskStatus,
  REPOSITORY_STATUSES,
  RepoPulseError,
  type RepositoryStatus,
  TASK_STATUSES,
  type TaskStatus,
} from '../src/index';
import { thrown } from './helpers/thrown';

/** The repository state machine, spelled out: every pair not listed is illegal. */
const REPO_LEGAL: Record<RepositoryStatus, RepositoryStatus[]> = {
  pending: ['cloning', 'error'],
  cloning: ['ready', 'error'],
  ready: ['analyzing', 'completed', 'error'],
  analyzing: ['ready', 'completed', 'error'],
  completed: ['analyzing', 'ready', 'error'],
  error: ['cloning', 'ready', 'analyzing', 'completed'],
};

/** The task state machine, spelled out: every pair not listed is illegal. */
const TASK_LEGAL: Record<TaskStatus, TaskStatus[]> = {
  pending: ['queued', 'running', 'canceled'],
  queued: ['pending', 'running', 'failed', 'canceled'],
  running: ['completed', 'failed', 'canceled'],
  completed: ['pending'],
  failed: ['pending'],
  canceled: ['pending'],
};

const repoPairs = REPOSITORY_STATUSES.flatMap((from) =>
  REPOSITORY_STATUSES.map((to) => [from, to, REPO_LEGAL[from].includes(to)] as const),
);
const taskPairs = TASK_STATUSES.flatMap((from) =>
  TASK_STATUSES.map((to) => [from, to, TASK_LEGAL[from].includes(to)] as const),
);

/** Runs `fn`, expects an InvalidTransitionError, returns it. */
const transitionError = (fn: () => unknown): InvalidTransitionError => thrown(InvalidTransitionError, fn);

describe('status lists', () => {
  it('are the statuses of DESIGN.md, in lifecycle order', () => {
    expect(REPOSITORY_STATUSES).toEqual(['pending', 'cloning', 'ready', 'analyzing', 'completed', 'error']);
    expect(TASK_STATUSES).toEqual(['pending', 'queued', 'running', 'completed', 'failed', 'canceled']);
  });

  it('have guards that accept exactly them', () => {
    for (const s of REPOSITORY_STATUSES) expect(isRepositoryStatus(s)).toBe(true);
    for (const s of TASK_STATUSES) expect(isTaskStatus(s)).toBe(true);
    for (const s of ['running', 'Ready', '', 'toString', '__proto__', null, 1, undefined]) {
      expect(isRepositoryStatus(s)).toBe(false);
    }
    for (const s of ['ready', 'Pending', '', 'constructor', null, 1, undefined])
      expect(isTaskStatus(s)).toBe(false);
  });
});

describe('repository state machine', () => {
  it.each(repoPairs)('%s → %s legal: %s', (from, to, legal) => {
    expect(canTransitionRepo(from, to)).toBe(legal);
    if (legal) {
      expect(() => assertRepoTransition(from, to)).not.toThrow();
    } else {
      const error = transitionError(() => assertRepoTransition(from, to));
      expect(error).toBeInstanceOf(RepoPulseError);
      expect(error.code).toBe('invalid_transition');
      expect(error.machine).toBe('repository');
      expect(error.from).toBe(from);
      expect(error.to).toBe(to);
      expect(error.message).toBe(`[repopulse] repository status cannot change from "${from}" to "${to}"`);
    }
  });

  it('never allows staying in place', () => {
    for (const s of REPOSITORY_STATUSES) expect(canTransitionRepo(s, s)).toBe(false);
  });

  it.each(['archived', 'toString', 'constructor', '__proto__', 'hasOwnProperty'])(
    'answers false (never throws a TypeError) for an unknown status %j',
    (bad) => {
      expect(canTransitionRepo(bad as RepositoryStatus, 'ready')).toBe(false);
      expect(canTransitionRepo('ready', bad as RepositoryStatus)).toBe(false);
      expect(transitionError(() => assertRepoTransition(bad as RepositoryStatus, 'ready')).from).toBe(bad);
    },
  );
});

describe('task state machine', () => {
  it.each(taskPairs)('%s → %s legal: %s', (from, to, legal) => {
    expect(canTransitionTask(from, to)).toBe(legal);
    if (legal) {
      expect(() => assertTaskTransition(from, to)).not.toThrow();
    } else {
      const error = transitionError(() => assertTaskTransition(from, to));
      expect(error.code).toBe('invalid_transition');
      expect(error.machine).toBe('task');
      expect(error.from).toBe(from);
      expect(error.to).toBe(to);
      expect(error.message).toContain(`"${from}"`);
      expect(error.message).toContain(`"${to}"`);
    }
  });

  it('lets force reset any status back to pending, and nothing else', () => {
    for (const from of TASK_STATUSES) {
      for (const to of TASK_STATUSES) {
        const expected = from === to ? false : to === 'pending' ? true : TASK_LEGAL[from].includes(to);
        expect(canTransitionTask(from, to, { force: true }), `${from} → ${to} forced`).toBe(expected);
      }
    }
    // Without force, a running task cannot be reset.
    expect(canTransitionTask('running', 'pending')).toBe(false);
    expect(() => assertTaskTransition('running', 'pending')).toThrow(InvalidTransitionError);
    expect(() => assertTaskTransition('running', 'pending', { force: true })).not.toThrow();
    expect(() => assertTaskTransition('running', 'completed', { force: true })).not.toThrow();
    expect(() => assertTaskTransition('completed', 'running', { force: true })).toThrow(
      InvalidTransitionError,
    );
    expect(canTransitionTask('pending', 'pending', { force: true })).toBe(false);
  });

  it.each(['archived', 'toString', 'constructor', '__proto__'])(
    'answers false for an unknown status %j, even forced',
    (bad) => {
      expect(canTransitionTask(bad as TaskStatus, 'pending')).toBe(false);
      expect(canTransitionTask(bad as TaskStatus, 'pending', { force: true })).toBe(false);
      expect(canTransitionTask('pending', bad as TaskStatus)).toBe(false);
      expect(transitionError(() => assertTaskTransition(bad as TaskStatus, 'running')).machine).toBe('task');
    },
  );
});
