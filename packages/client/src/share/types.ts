import type { EventStreamOptions } from '../types';

/** Tab-sharing settings (see the README's "One connection for all tabs"). */
export interface ShareOptions {
  /**
   * Names the credentials the stream is opened with: tabs share one connection only when URL and
   * key are equal. Pass it when the credentials rotate (short-lived tokens from a `headers`
   * function) or live in a cookie that can change user (e.g. the user id). Hashed, never sent.
   * @default a SHA-256 hash of the `headers` (the first result of a `headers` function) and `credentials`
   * @example `user:${session.userId}`
   */
  key?: string;
  /**
   * How many recent events every tab keeps, so a tab that joins later with a `lastEventId` inside
   * that window catches up from the others; further back, it gets a `reset`.
   * @default 500
   */
  history?: number;
}

/** Options of `createSharedEventStream`: the stream's options plus the tab-sharing settings. */
export interface SharedEventStreamOptions extends EventStreamOptions {
  /**
   * Tab-sharing settings; `true` (or omitted) uses the defaults.
   * @default true
   * @example { key: `user:${session.userId}`, history: 1000 }
   */
  share?: ShareOptions | boolean;
}
