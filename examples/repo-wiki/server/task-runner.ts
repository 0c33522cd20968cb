import { setTimeout as sleep } from 'node:timers/promises';
import type { RepositoryRow, TaskRow } from './db';
import type { Logger } from './logger';
import { type ActionContext, currentAction, runInAction } from './request-context';
import type { DocumentService } from './services/document-service';
import type { RepositoryService } from './services/repository-service';
import type { TaskScheduler, TaskService } from './services/task-service';
import { renderDocument } from './task-documents';

/** Options of {@link createTaskRunner}. */
export interface TaskRunnerOptions {
  tasks: TaskService;
  repos: RepositoryService;
  documents: DocumentService;
  log: Logger;
  /** Speed factor: 1 → a task takes about 6 s; 20 → about 0.3 s. */
  simSpeed: number;
  /** Task kinds that always fail (from `FAIL_TASKS`). */
  failTasks: readonly string[];
}

/** The simulated analysis runner; also the {@link TaskScheduler} of the task service. */
export interface TaskRunner extends TaskScheduler {
  /** Stops a repository's worker (before the repository is deleted). */
  cancelRepo(repoId: number): Promise<void>;
  /** Stops every worker; resolves once they have stopped. */
  close(): Promise<void>;
  /** Resolves once every queue has drained (tests). */
  idle(): Promise<void>;
}

/** The phases a task goes through, with their share of the progress bar. */
const PHASES = [
  { name: 'static_analysis', from: 0, to: 30, steps: 3 },
  { name: 'llm', from: 30, to: 85, steps: 5 },
  { name: 'save_document', from: 85, to: 100, steps: 2 },
] as const;

/** Milliseconds of one step at speed 1. */
const STEP_MS = 600;

class TaskCanceled extends Error {}

/** True when `task` must fail: its kind is in `FAIL_TASKS`, or the repository URL holds `fail-<kind>`. */
export function shouldFail(
  repo: Pick<RepositoryRow, 'url'>,
  task: Pick<TaskRow, 'kind'>,
  failTasks: readonly string[],
) {
  return failTasks.includes(task.kind.toLowerCase()) || repo.url.toLowerCase().includes(`fail-${task.kind}`);
}

interface Worker {
  /** Task ids waiting, in run order. */
  queue: number[];
  /** The action each waiting or running task was queued by: its work runs as part of it. */
  actions: Map<number, ActionContext | undefined>;
  current: number | undefined;
  abort: AbortController;
  done: Promise<void>;
}

/**
 * One worker per repository runs its queued tasks in order through `static_analysis → llm →
 * save_document`, recording `task.progress` and `log.append` along the way (each a transaction with its event), then recomputes the
 * repository status once more after the last task. Each task runs inside the action (request
 * id) that queued it, so its events and log lines carry that action's `request_id`. Whenever the
 * queue moves, each waiting task's place is enqueued as `task.queue_changed`.
 */
export function createTaskRunner(options: TaskRunnerOptions): TaskRunner {
  const { tasks, repos, documents, log } = options;
  const stepMs = Math.max(1, Math.round(STEP_MS / options.simSpeed));
  const workers = new Map<number, Worker>();
  let closed = false;

  async function runTask(repoId: number, taskId: number, signal: AbortSignal): Promise<void> {
    const task = tasks.find(taskId);
    const repo = repos.find(repoId);
    if (!task || !repo || task.status !== 'queued') return;
    tasks.setStatus(taskId, 'running');
    tasks.log(repo, taskId, 'info', `${task.title}: started`);
    const fail = shouldFail(repo, task, options.failTasks);
    for (const phase of PHASES) {
      for (let step = 1; step <= phase.steps; step++) {
        await sleep(stepMs, undefined, { signal }).catch(() => {
          throw new TaskCanceled();
        });
        if (fail && phase.name === 'llm' && step === 3) {
          throw new Error(`${task.title}: the model returned an invalid answer (injected failure)`);
        }
        const percent = Math.round(phase.from + ((phase.to - phase.from) * step) / phase.steps);
        tasks.progress(repo, taskId, phase.name, percent, `${phase.name} ${step}/${phase.steps}`);
        if (step === 1) tasks.log(repo, taskId, 'info', `${task.title}: ${phase.name}`);
      }
    }
    const doc = renderDocument(repo, task);
    documents.create(repo, taskId, doc);
    tasks.log(repo, taskId, 'info', `${task.title}: wrote ${doc.filename}`);
    tasks.setStatus(taskId, 'completed');
  }

  /** Enqueues the place of each waiting task from index `from` on (each as part of its own action). */
  function announceQueue(repoId: number, worker: Worker, from = 0): void {
    const repo = repos.find(repoId);
    if (!repo) return;
    const waiting = worker.queue.slice();
    for (let ahead = from; ahead < waiting.length; ahead++) {
      const taskId = waiting[ahead] as number;
      try {
        runInAction(worker.actions.get(taskId), () =>
          tasks.queuePosition(repo, taskId, ahead, waiting.length),
        );
      } catch (error) {
        log.error('queue position not recorded', { repo_id: repoId, task_id: taskId, error });
      }
    }
  }

  async function drain(repoId: number, worker: Worker): Promise<void> {
    let last: ActionContext | undefined;
    for (;;) {
      const taskId = worker.queue.shift();
      if (taskId === undefined) break;
      worker.current = taskId;
      last = worker.actions.get(taskId);
      worker.actions.delete(taskId);
      announceQueue(repoId, worker);
      try {
        await runInAction(last, () => runTask(repoId, taskId, worker.abort.signal));
      } catch (error) {
        if (error instanceof TaskCanceled) {
          if (worker.abort.signal.aborted) break;
          continue;
        }
        runInAction(last, () => recordFailure(repoId, taskId, error));
      } finally {
        worker.current = undefined;
      }
    }
    if (!worker.abort.signal.aborted) {
      // The run-all loop recomputes once more after its last task.
      runInAction(last, () => {
        try {
          tasks.recompute(repoId);
        } catch (error) {
          log.error('recompute failed', { repo_id: repoId, error });
        }
      });
    }
  }

  function recordFailure(repoId: number, taskId: number, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    log.warn('task failed', { repo_id: repoId, task_id: taskId, error });
    const repo = repos.find(repoId);
    try {
      if (repo) tasks.log(repo, taskId, 'error', message);
      tasks.setStatus(taskId, 'failed', { errorMsg: message });
    } catch (inner) {
      log.error('could not record task failure', { repo_id: repoId, task_id: taskId, error: inner });
    }
  }

  function start(repoId: number, first: number): Worker {
    const worker: Worker = {
      queue: [first],
      actions: new Map([[first, currentAction()]]),
      current: undefined,
      abort: new AbortController(),
      done: Promise.resolve(),
    };
    workers.set(repoId, worker);
    worker.done = drain(repoId, worker)
      .catch((error) => log.error('worker crashed', { repo_id: repoId, error }))
      .finally(() => {
        if (workers.get(repoId) === worker) workers.delete(repoId);
      });
    return worker;
  }

  return {
    enqueue(repoId, taskId) {
      if (closed) return;
      const worker = workers.get(repoId);
      if (worker && !worker.abort.signal.aborted) {
        worker.queue.push(taskId);
        worker.actions.set(taskId, currentAction());
        announceQueue(repoId, worker, worker.queue.length - 1);
      } else start(repoId, taskId);
    },
    async cancelTask(taskId) {
      for (const [repoId, worker] of workers) {
        const index = worker.queue.indexOf(taskId);
        if (index >= 0) {
          worker.queue.splice(index, 1);
          worker.actions.delete(taskId);
          announceQueue(repoId, worker, index);
        }
        if (worker.current === taskId) {
          // Restart the worker without the current task: abort it, keep the rest queued (each
          // still part of the action that queued it).
          const rest = worker.queue.splice(0).map((id) => [id, worker.actions.get(id)] as const);
          worker.abort.abort();
          await worker.done;
          for (const [next, action] of rest) runInAction(action, () => this.enqueue(repoId, next));
        }
      }
    },
    async cancelRepo(repoId) {
      const worker = workers.get(repoId);
      if (!worker) return;
      worker.queue.length = 0;
      worker.abort.abort();
      await worker.done;
    },
    async close() {
      closed = true;
      const all = [...workers.values()];
      for (const worker of all) worker.abort.abort();
      await Promise.all(all.map((w) => w.done));
    },
    async idle() {
      while (workers.size > 0) await Promise.all([...workers.values()].map((w) => w.done));
    },
  };
}
