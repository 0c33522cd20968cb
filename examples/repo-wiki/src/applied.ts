import type { AnyEnvelope } from '@repopulse/events-core';
import { useLayoutEffect } from 'react';

/** One applied event, as the e2e tests read it from `window.__repopulseApplied`. */
export interface AppliedRecord {
  /** Envelope id. */
  id: string;
  /** Event type. */
  type: string;
  /** The envelope's publish time (ms since epoch, server clock). */
  ts: number;
  /** When the DOM showed it (ms since epoch, browser clock). */
  appliedAt: number;
}

declare global {
  interface Window {
    /** Every event the page applied to its DOM, in order (read by the e2e tests). */
    __repopulseApplied?: AppliedRecord[];
  }
}

/** Records that `events` are now in the DOM (call from a layout effect, after React committed). */
export function reportApplied(events: readonly AnyEnvelope[]): void {
  if (events.length === 0) return;
  const appliedAt = performance.timeOrigin + performance.now();
  window.__repopulseApplied ??= [];
  for (const e of events) window.__repopulseApplied.push({ id: e.id, type: e.type, ts: e.ts, appliedAt });
}

const pending: AnyEnvelope[] = [];

/** Wraps a reducer so that every event it applies is reported by {@link useReportApplied}. */
export function recordApplied<S>(
  apply: (state: S, event: AnyEnvelope) => S,
): (state: S, event: AnyEnvelope) => S {
  return (state, event) => {
    pending.push(event);
    return apply(state, event);
  };
}

/** Reports the events applied so far once React committed the DOM that shows them. */
export function useReportApplied(): void {
  useLayoutEffect(() => reportApplied(pending.splice(0)));
}
