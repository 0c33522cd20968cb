// docs/migrating-from-polling.md ("after"), compiled by the root typecheck;
// docs-snippets.test.ts checks the doc shows exactly this.
import { createEventStream } from '@repopulse/client';

interface TaskRow {
  id: string;
  status: string;
  percent: number;
}
declare function render(tasks: TaskRow[]): void;
declare function renderTask(id: string, change: Partial<TaskRow>): void;

// After: one snapshot with its position, then every change from that position on.
const load = async () => (await fetch('/api/repositories/42')).json();
const snapshot = await load();
render(snapshot.tasks);

const stream = createEventStream('/api/repositories/42/events', {
  lastEventId: snapshot.position,
  onReset: async () => render((await load()).tasks), // history gone: re-read, keep streaming
});
stream.on('task.status_changed', (e) => renderTask(e.task_id ?? '', { status: e.payload.to }));
stream.on('task.progress', (e) => renderTask(e.task_id ?? '', { percent: e.payload.percent ?? 0 }));
