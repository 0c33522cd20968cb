import { type AnyEnvelope, createEvent } from '@repopulse/events-core';
import { describe, expect, it } from 'vitest';
import { applyListEvent } from '../src/pages/Home';
import { applyRepoEvent, type RepoDetailState } from '../src/pages/RepoDetail';
import type { Repository, Task } from '../src/types';

const repo: Repository = {
  id: 1,
  name: 'r',
  url: 'https://x/r',
  status: 'ready',
  error_msg: null,
  owner: 'demo',
  created_at: 0,
};
const task = (id: number): Task => ({
  id,
  repo_id: 1,
  kind: 'k',
  title: `T${id}`,
  ord: id,
  status: 'pending',
  error_msg: null,
  phase: null,
  percent: 0,
  started_at: null,
  completed_at: null,
});
const initial: RepoDetailState = {
  repository: repo,
  tasks: [task(1), task(2)],
  documents: [],
  logs: [],
  deleted: false,
};

const apply = (events: AnyEnvelope[], state = initial) => events.reduce(applyRepoEvent, state);

describe('applying events to the detail page state', () => {
  const events: AnyEnvelope[] = [
    createEvent(
      'task.status_changed',
      { from: 'pending', to: 'running', started_at: 10 },
      { repo_id: 1, task_id: 1 },
    ),
    createEvent('task.progress', { phase: 'llm', percent: 40 }, { repo_id: 1, task_id: 1 }),
    createEvent('log.append', { level: 'info', message: 'hello' }, { repo_id: 1, task_id: 1 }),
    createEvent('doc.created', { doc_id: '7', title: 'D', filename: 'd.md' }, { repo_id: 1, task_id: 1 }),
    createEvent('repo.status_changed', { from: 'ready', to: 'analyzing' }, { repo_id: 1 }),
  ];

  it('applies payloads without touching other tasks', () => {
    const s = apply(events);
    expect(s.tasks[0]).toMatchObject({ status: 'running', started_at: 10, phase: 'llm', percent: 40 });
    expect(s.tasks[1]).toEqual(task(2));
    expect(s.documents.map((d) => d.id)).toEqual([7]);
    expect(s.logs.map((l) => l.message)).toEqual(['hello']);
    expect(s.repository.status).toBe('analyzing');
  });

  it('is idempotent: an event in both the snapshot and the replay is applied once', () => {
    const once = apply(events);
    expect(apply(events, once)).toEqual(once);
  });

  it('a reset to pending clears progress; completed fills the bar', () => {
    const done = apply([
      ...events,
      createEvent(
        'task.status_changed',
        { from: 'running', to: 'completed', started_at: 10, completed_at: 20 },
        { repo_id: 1, task_id: 1 },
      ),
    ]);
    expect(done.tasks[0]).toMatchObject({ status: 'completed', percent: 100, completed_at: 20 });
    const reset = apply(
      [createEvent('task.status_changed', { from: 'completed', to: 'pending' }, { repo_id: 1, task_id: 1 })],
      done,
    );
    expect(reset.tasks[0]).toMatchObject({ status: 'pending', percent: 0, phase: null, started_at: null });
  });

  it('a snapshot newer than its position: the replayed events it already shows change nothing', () => {
    // The relay had not delivered these when the snapshot was read: they are in it, and replayed.
    const run = [
      ...events,
      createEvent('task.progress', { phase: 'llm', percent: 80 }, { repo_id: 1, task_id: 1 }),
      createEvent(
        'task.status_changed',
        { from: 'running', to: 'completed', started_at: 10, completed_at: 20 },
        { repo_id: 1, task_id: 1 },
      ),
      createEvent('repo.status_changed', { from: 'analyzing', to: 'completed' }, { repo_id: 1 }),
    ];
    const snapshot = apply(run);
    expect(snapshot.tasks[0]).toMatchObject({ status: 'completed', percent: 100 });
    const seen: RepoDetailState[] = [];
    run.reduce((state, e) => {
      const next = applyRepoEvent(state, e);
      seen.push(next);
      return next;
    }, snapshot);
    // Never back to running, never a lower percent, on the way through the replay.
    expect(seen.every((s) => s === snapshot)).toBe(true);
  });

  it('after a replayed cycle (run, reset, run again) the state still ends where the events end', () => {
    const again = [
      createEvent(
        'task.status_changed',
        { from: 'pending', to: 'running', started_at: 30 },
        { repo_id: 1, task_id: 1 },
      ),
      createEvent('task.progress', { phase: 'static_analysis', percent: 10 }, { repo_id: 1, task_id: 1 }),
    ];
    const cycle = [
      events[0] as AnyEnvelope,
      createEvent(
        'task.status_changed',
        { from: 'running', to: 'failed', error_msg: 'x' },
        { repo_id: 1, task_id: 1 },
      ),
      createEvent('task.status_changed', { from: 'failed', to: 'pending' }, { repo_id: 1, task_id: 1 }),
      ...again,
    ];
    const snapshot = apply(cycle);
    expect(apply(cycle, snapshot).tasks[0]).toEqual(snapshot.tasks[0]);
    expect(snapshot.tasks[0]).toMatchObject({ status: 'running', percent: 10, started_at: 30 });
  });

  it('a replayed older log line goes where its time puts it', () => {
    const early = createEvent('log.append', { level: 'info', message: 'early' }, { repo_id: 1 });
    const late = {
      ...createEvent('log.append', { level: 'info', message: 'late' }, { repo_id: 1 }),
      ts: early.ts + 5,
    };
    const s = apply([late, early]);
    expect(s.logs.map((l) => l.message)).toEqual(['early', 'late']);
  });

  it('marks the page deleted on repo.deleted', () => {
    expect(apply([createEvent('repo.deleted', {}, { repo_id: 1 })]).deleted).toBe(true);
  });
});

describe('applying events to the repository list', () => {
  it('adds, updates and removes rows idempotently, newest first', () => {
    const created = createEvent('repo.created', { name: 'n', url: 'https://x/n' }, { repo_id: 2 });
    let list = applyListEvent([repo], created);
    list = applyListEvent(list, created);
    expect(list.map((r) => r.id)).toEqual([2, 1]);
    list = applyListEvent(
      list,
      createEvent('repo.status_changed', { from: 'pending', to: 'cloning' }, { repo_id: 2 }),
    );
    expect(list[0]?.status).toBe('cloning');
    // Replayed after a list that already shows it: skipped, the row stays where the list is.
    const ready = createEvent('repo.status_changed', { from: 'cloning', to: 'ready' }, { repo_id: 2 });
    list = applyListEvent(list, ready);
    expect(
      applyListEvent(
        list,
        createEvent('repo.status_changed', { from: 'pending', to: 'cloning' }, { repo_id: 2 }),
      ),
    ).toBe(list);
    expect(list[0]?.status).toBe('ready');
    list = applyListEvent(list, createEvent('repo.deleted', {}, { repo_id: 2 }));
    expect(list).toEqual([repo]);
  });
});
