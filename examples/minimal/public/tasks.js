import { createEventStream } from '@repopulse/client';

const repoId = new URLSearchParams(location.search).get('repo') ?? '42';
const list = document.getElementById('tasks');

/** Shows one task: creates its row on first sight, then updates it. */
function show(id, change) {
  let row = document.getElementById(`task-${id}`);
  if (!row) {
    row = list.appendChild(document.createElement('li'));
    row.id = `task-${id}`;
    Object.assign(row.dataset, { status: 'pending', percent: '0' });
  }
  Object.assign(row.dataset, change);
  row.textContent = `task ${id}: ${row.dataset.status} (${row.dataset.percent} %)`;
}

// 1. The snapshot, with the position it was taken at.
const snapshot = await (await fetch(`/api/repositories/${repoId}`)).json();
for (const task of snapshot.tasks) show(task.id, { status: task.status, percent: String(task.percent) });

// 2. Every change after that position, live.
const stream = createEventStream(`/api/repositories/${repoId}/events`, {
  lastEventId: snapshot.position,
  onReset: () => location.reload(), // the position is too old: start again from a fresh snapshot
});
stream.on('task.status_changed', (event) => show(event.task_id, { status: event.payload.to }));
stream.on('task.progress', (event) => show(event.task_id, { percent: String(event.payload.percent ?? 0) }));
stream.onState((state) => {
  document.getElementById('connection').textContent = state;
});

document.getElementById('repo').textContent = repoId;
document.getElementById('start').onclick = () =>
  fetch(`/api/repositories/${repoId}/tasks`, { method: 'POST' });
