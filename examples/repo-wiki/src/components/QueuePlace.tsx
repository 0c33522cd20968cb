import type { Task } from '../types';

/**
 * "· 2 ahead" next to a queued task: its place from the latest `task.queue_changed` event, or,
 * before one arrived (a page opened mid-run), the number of queued tasks before it in run order.
 */
export function QueuePlace(props: { task: Task; tasks: Task[] }) {
  const { task } = props;
  const ahead =
    task.queue_ahead ?? props.tasks.filter((t) => t.status === 'queued' && t.ord < task.ord).length;
  return (
    <span className="muted small queue-place" data-testid={`queue-${task.id}`} data-ahead={ahead}>
      · {ahead === 0 ? 'next' : `${ahead} ahead`}
    </span>
  );
}
