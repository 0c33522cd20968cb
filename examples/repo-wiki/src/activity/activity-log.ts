import { type AnyEnvelope, traceIdOf } from '@repopulse/events-core';

/** One row of the Activity panel: an event with its stream position, or a reset notice. */
export type ActivityItem =
  | { kind: 'event'; position: string; event: AnyEnvelope }
  | {
      kind: 'reset';
      position: string;
      reason: string;
      at: number;
      /** Where the retained history starts (its events come after it), when any is retained. */
      retainedAfter?: string;
    };

/** The events of one user action (one `request_id`), or of background work without one. */
export interface ActivityGroup {
  /** The request id; `''` for events that carry none (startup cleanup, …). */
  requestId: string;
  /** The trace id of the action (from its events' `traceparent`), when the server traces. */
  traceId?: string;
  /** What the action was (from its `action.started` event), when known. */
  action: string | undefined;
  /** Who asked (from its `action.started` event), when known. */
  user: string | undefined;
  /** Its events in stream order. */
  events: { position: string; event: AnyEnvelope }[];
  /** Time of its first and last event (ms since epoch). */
  first: number;
  last: number;
  /** The last repository status it produced, e.g. `completed`. */
  repoOutcome: string | undefined;
  /** The last task status it produced (the outcome of a one-task action). */
  taskOutcome: string | undefined;
}

/** What the panel shows: groups newest first, resets, and how far back the record goes. */
export interface ActivityView {
  /** Groups, newest (by first event) first. A group object changes only when it got events. */
  groups: ActivityGroup[];
  /** Resets seen (history gone before `position`). */
  resets: Extract<ActivityItem, { kind: 'reset' }>[];
  /** Events held. */
  total: number;
  /** Time of the oldest event held, if any. */
  oldest: number | undefined;
}

/**
 * Accumulates the stream into groups by `request_id`. `add` takes a batch (one animation frame's
 * worth) and returns a new view in which only the groups that got events are new objects, so
 * memoized group components re-render only when they changed. Idempotent by event id.
 */
export function createActivityLog() {
  const byId = new Map<string, ActivityGroup>();
  const seen = new Set<string>();
  let order: ActivityGroup[] = []; // oldest first
  let resets: ActivityView['resets'] = [];
  let total = 0;
  let oldest: number | undefined;

  const view = (): ActivityView => ({ groups: order.slice().reverse(), resets, total, oldest });

  return {
    add(items: readonly ActivityItem[]): ActivityView {
      const touched = new Map<string, ActivityGroup>();
      for (const item of items) {
        if (item.kind === 'reset') {
          resets = [...resets, item];
          continue;
        }
        const { event } = item;
        if (seen.has(event.id)) continue;
        seen.add(event.id);
        total++;
        oldest = oldest === undefined ? event.ts : Math.min(oldest, event.ts);
        const key = event.request_id ?? '';
        let group = touched.get(key);
        if (!group) {
          const before = byId.get(key);
          group = before
            ? { ...before, events: before.events.slice() }
            : {
                requestId: key,
                action: undefined,
                user: undefined,
                events: [],
                first: event.ts,
                last: event.ts,
                repoOutcome: undefined,
                taskOutcome: undefined,
              };
          touched.set(key, group);
        }
        group.events.push(item);
        group.last = Math.max(group.last, event.ts);
        group.traceId ??= traceIdOf(event.traceparent);
        if (event.type === 'action.started') {
          group.action = String(event.payload.action);
          group.user = String(event.payload.user);
        } else if (event.type === 'repo.status_changed') {
          group.repoOutcome = event.payload.to;
        } else if (event.type === 'task.status_changed') {
          group.taskOutcome = event.payload.to;
        }
      }
      if (touched.size === 0 && items.every((i) => i.kind !== 'reset')) return view();
      for (const [key, group] of touched) {
        const known = byId.has(key);
        byId.set(key, group);
        if (known) order = order.map((g) => (g.requestId === key ? group : g));
        else order.push(group);
      }
      return view();
    },
    view,
  };
}
