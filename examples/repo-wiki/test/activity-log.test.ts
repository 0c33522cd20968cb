import { type AnyEnvelope, createEvent } from '@repopulse/events-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerActionEvent } from '../server/action-event';
import { type ActivityItem, createActivityLog } from '../src/activity/activity-log';
import { describeEvent, groupOutcome, groupTitle } from '../src/activity/describe-event';
import { applyRepoEvent, type RepoDetailState } from '../src/pages/RepoDetail';
import type { Task } from '../src/types';

let n = 0;
const item = (event: AnyEnvelope): ActivityItem => ({ kind: 'event', position: `${1000 + n++}-0`, event });
const status = (to: 'queued' | 'running' | 'completed', task: number, request_id?: string, ts = 1000 + n) =>
  item(
    createEvent(
      'task.status_changed',
      { from: 'pending', to },
      { repo_id: 1, task_id: task, ts, ...(request_id ? { request_id } : {}) },
    ),
  );

beforeAll(registerActionEvent);

describe('the Activity panel model', () => {
  it('groups by request id, titles a group from its action.started, tracks span and outcome', () => {
    const log = createActivityLog();
    log.add([
      status('queued', 1, 'r1', 1000),
      item(
        createEvent(
          'action.started',
          { action: 'run_all', user: 'demo' },
          { repo_id: 1, request_id: 'r1', ts: 1001 },
        ),
      ),
      status('running', 1, 'r1', 1002),
    ]);
    const view = log.add([
      item(
        createEvent(
          'repo.status_changed',
          { from: 'analyzing', to: 'completed' },
          { repo_id: 1, request_id: 'r1', ts: 37_000 },
        ),
      ),
      status('completed', 1, undefined, 38_000),
    ]);
    expect(view.total).toBe(5);
    expect(view.oldest).toBe(1000);
    expect(view.groups.map((g) => [g.requestId, g.events.length])).toEqual([
      ['', 1], // newest first
      ['r1', 4],
    ]);
    const run = view.groups[1]!;
    expect([groupTitle(run), run.user, run.first, run.last, groupOutcome(run)]).toEqual([
      'Run all',
      'demo',
      1000,
      37_000,
      'completed',
    ]);
    expect(groupTitle(view.groups[0]!)).toBe('Background');
    expect(groupOutcome(view.groups[0]!)).toBe('completed');
  });

  it('is idempotent by event id and only replaces the groups that changed', () => {
    const log = createActivityLog();
    const a = status('queued', 1, 'a');
    const first = log.add([a, status('queued', 2, 'b')]);
    const second = log.add([a, status('running', 2, 'b')]);
    expect(second.total).toBe(3);
    const [b1, a1] = first.groups;
    const [b2, a2] = second.groups;
    expect(a2).toBe(a1); // untouched group: same object, memoized rows do not re-render
    expect(b2).not.toBe(b1);
    expect(b1!.events).toHaveLength(1); // earlier views are not mutated
  });

  it("takes a group's trace id from its events' traceparent", () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const log = createActivityLog();
    const view = log.add([
      item(createEvent('log.append', { level: 'info', message: 'a' }, { request_id: 'traced', traceparent })),
      status('queued', 3, 'untraced'),
    ]);
    const byId = new Map(view.groups.map((g) => [g.requestId, g]));
    expect(byId.get('traced')?.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(byId.get('untraced')?.traceId).toBeUndefined();
  });

  it('keeps resets', () => {
    const log = createActivityLog();
    const view = log.add([{ kind: 'reset', position: '5-0', reason: 'expired', at: 1 }]);
    expect(view.resets).toEqual([{ kind: 'reset', position: '5-0', reason: 'expired', at: 1 }]);
  });

  it('describes events in one line', () => {
    expect(describeEvent(createEvent('task.queue_changed', { ahead: 2, queued: 3 }))).toBe(
      '2 ahead in queue',
    );
    expect(describeEvent(createEvent('task.queue_changed', { ahead: 0 }))).toBe('next in queue');
    expect(
      describeEvent(createEvent('task.status_changed', { from: 'running', to: 'failed', error_msg: 'boom' })),
    ).toBe('running → failed: boom');
    expect(describeEvent(createEvent('action.started', { action: 'run_all', user: 'demo' }))).toBe(
      'Run all by demo',
    );
  });
});

describe('queue places on the detail page', () => {
  const task = (id: number, status: Task['status']): Task => ({
    id,
    repo_id: 1,
    kind: 'k',
    title: `T${id}`,
    ord: id,
    status,
    error_msg: null,
    phase: null,
    percent: 0,
    started_at: null,
    completed_at: null,
  });
  const state: RepoDetailState = {
    repository: {
      id: 1,
      name: 'r',
      url: 'u',
      status: 'analyzing',
      error_msg: null,
      owner: 'demo',
      created_at: 0,
    },
    tasks: [task(1, 'running'), task(2, 'queued')],
    documents: [],
    logs: [],
    deleted: false,
  };
  it('sets the place of a queued task, ignores it for others, clears it when the task leaves the queue', () => {
    const placed = [
      createEvent('task.queue_changed', { ahead: 0 }, { task_id: 2 }),
      createEvent('task.queue_changed', { ahead: 5 }, { task_id: 1 }),
    ].reduce(applyRepoEvent, state);
    expect(placed.tasks.map((t) => t.queue_ahead)).toEqual([undefined, 0]);
    const started = applyRepoEvent(
      placed,
      createEvent('task.status_changed', { from: 'queued', to: 'running' }, { task_id: 2 }),
    );
    expect(started.tasks[1]!.queue_ahead).toBeUndefined();
  });
});
