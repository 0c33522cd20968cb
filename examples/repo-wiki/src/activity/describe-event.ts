import type { AnyEnvelope } from '@repopulse/events-core';
import type { ActivityGroup } from './activity-log';

const ACTION_LABELS: Record<string, string> = {
  create_repo: 'Add repository',
  delete_repo: 'Delete repository',
  run_all: 'Run all',
  run_task: 'Run task',
  reset_task: 'Reset task',
  force_reset_task: 'Force reset',
};

/** The title of a group: "Run all", "Add repository", "Background" (no request id), … */
export function groupTitle(group: ActivityGroup): string {
  if (!group.requestId) return 'Background';
  if (group.action) return ACTION_LABELS[group.action] ?? group.action;
  return `Request ${group.requestId.slice(0, 12)}`;
}

/** A group's outcome: the repository status it left, else the last task status. */
export function groupOutcome(group: ActivityGroup): string {
  return group.repoOutcome ?? group.taskOutcome ?? '';
}

/** One line about an event's payload: `queued → running`, `llm 40%`, `[info] started`. */
export function describeEvent(event: AnyEnvelope): string {
  const p = event.payload as Record<string, unknown>;
  switch (event.type) {
    case 'repo.status_changed':
    case 'task.status_changed':
      return `${p.from} → ${p.to}${p.error_msg ? `: ${p.error_msg}` : ''}`;
    case 'task.progress':
      return `${p.phase}${p.percent === undefined ? '' : ` ${p.percent}%`}`;
    case 'task.queue_changed':
      return p.ahead === 0 ? 'next in queue' : `${p.ahead} ahead in queue`;
    case 'log.append':
      return `[${p.level}] ${p.message}`;
    case 'doc.created':
      return `${p.title} (${p.filename})`;
    case 'repo.created':
      return `${p.name}`;
    case 'action.started':
      return `${ACTION_LABELS[String(p.action)] ?? p.action} by ${p.user}`;
    default:
      return JSON.stringify(p).slice(0, 120);
  }
}
