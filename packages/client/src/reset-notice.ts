import type { ResetFrameData } from '@repopulse/events-core/wire';
import type { ResetNotice } from './types';

/**
 * Turns a reset as the server sends it (the SSE `reset` frame's data, or the long-poll `reset`
 * field: `{ reason, position, retained_after? }`) into the notice handlers receive, with
 * `retained_after` as `retainedAfter`.
 */
export function resetNotice({ reason, position, retained_after }: ResetFrameData): ResetNotice {
  const notice: ResetNotice = { reset: true, reason, position };
  if (retained_after) notice.retainedAfter = retained_after;
  return notice;
}
