import type { EventBus, StreamPosition } from '@repopulse/events-core';
import { ZERO_POSITION } from '@repopulse/events-core/wire';
import type { DeliveredPositions } from './delivered-positions';

/** How long a snapshot waits for the bus's head when no delivered position is known. */
const HEAD_WAIT_MS = 300;

/**
 * The `position` a snapshot of `topic` carries, read before the snapshot's rows: the position of
 * the last event the relay delivered on the topic (no bus call, so pages load while the bus is
 * down). When none is known (a topic nothing was relayed to since the database recorded positions),
 * the bus's head if it answers within 300 ms, else `0-0`: the page then replays what the topic
 * retains (or gets a reset and loads again once the bus is back). Every choice is at or before
 * the first event the snapshot may lack, so the stream misses nothing; events the snapshot already
 * shows may be replayed, and the page's reducers skip them.
 */
export function createSnapshotPosition(
  positions: DeliveredPositions,
  bus: EventBus,
): (topic: string) => Promise<StreamPosition> {
  return async (topic) => {
    const delivered = positions.get(topic);
    if (delivered !== undefined) return delivered;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const waited = new Promise<StreamPosition>((resolve) => {
      timer = setTimeout(() => resolve(ZERO_POSITION), HEAD_WAIT_MS);
    });
    try {
      return await Promise.race([bus.head(topic).catch(() => ZERO_POSITION), waited]);
    } finally {
      clearTimeout(timer);
    }
  };
}
