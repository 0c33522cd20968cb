import { createEvent, type EventBus, type TaskStatus } from '@repopulse/events-core';

/** A task as the page shows it. */
export interface Task {
  id: string;
  repoId: string;
  status: TaskStatus;
  percent: number;
}

/** The service layer: changes tasks, then publishes what changed on the repository's topic. */
export function createTaskService(bus: EventBus, stepMs = 500) {
  const tasks = new Map<string, Task>(); // stands in for your database
  let lastId = 0;

  async function setStatus(task: Task, to: TaskStatus): Promise<void> {
    const from = task.status;
    task.status = to; // 1. write (commit) the change…
    await bus.publish(
      `repo:${task.repoId}`, // 2. …then publish it
      createEvent('task.status_changed', { from, to }, { repo_id: task.repoId, task_id: task.id }),
    );
  }

  async function setProgress(task: Task, percent: number): Promise<void> {
    task.percent = percent;
    await bus.publish(
      `repo:${task.repoId}`,
      createEvent(
        'task.progress',
        { phase: 'analysis', percent },
        { repo_id: task.repoId, task_id: task.id },
      ),
    );
  }

  async function run(task: Task): Promise<void> {
    await setStatus(task, 'running');
    for (const percent of [25, 50, 75, 100]) {
      await new Promise((resolve) => setTimeout(resolve, stepMs)); // the real work goes here
      await setProgress(task, percent);
    }
    await setStatus(task, 'completed');
  }

  return {
    list: (repoId: string): Task[] => [...tasks.values()].filter((task) => task.repoId === repoId),

    /** Creates a task and runs it in the background. */
    start(repoId: string): Task {
      const task: Task = { id: String(++lastId), repoId, status: 'pending', percent: 0 };
      tasks.set(task.id, task);
      run(task).catch((error: unknown) => console.error(`task ${task.id} failed`, error));
      return task;
    },
  };
}

/** What {@link createTaskService} returns. */
export type TaskService = ReturnType<typeof createTaskService>;
