import type { AnyEnvelope } from '@repopulse/events-core';

const MAX = 160;

const clip = (text: string) => (text.length > MAX ? `${text.slice(0, MAX - 1)}…` : text);

/**
 * A one-line human summary of an event's payload: `queued → running`, `llm 40% thinking`,
 * `[warn] slow`. Types it does not know get their payload as compact JSON, clipped.
 *
 * @example
 * ```ts
 * summarizePayload(event); // 'running → completed'
 * ```
 */
export function summarizePayload(event: AnyEnvelope): string {
  const p = event.payload as Record<string, unknown>;
  const str = (key: string) =>
    typeof p[key] === 'string' || typeof p[key] === 'number' ? String(p[key]) : '';
  switch (event.type) {
    case 'repo.status_changed':
    case 'task.status_changed':
      return clip(`${str('from')} → ${str('to')}${p.error_msg ? `: ${str('error_msg')}` : ''}`);
    case 'task.progress':
      return clip(
        [str('phase'), p.percent === undefined ? '' : `${str('percent')}%`, str('message')]
          .filter(Boolean)
          .join(' '),
      );
    case 'log.append':
      return clip(`[${str('level')}] ${str('message')}`);
    case 'doc.created':
      return clip(`${str('title')} (${str('filename')})`);
    case 'repo.created':
      return clip([str('name'), str('url')].filter(Boolean).join(' '));
    case 'task.queue_changed':
      return p.ahead === 0 ? 'next in queue' : `${str('ahead')} ahead`;
    default:
      return Object.keys(p).length ? clip(JSON.stringify(p)) : '';
  }
}
