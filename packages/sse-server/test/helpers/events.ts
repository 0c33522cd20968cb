import { type AnyEnvelope, createEvent, type EventBus } from '@repopulse/events-core';

let counter = 0;

/** A small valid event: `log.append` with message `m<n>`. */
export function logEvent(n: number, repoId = '1'): AnyEnvelope {
  return createEvent('log.append', { level: 'info', message: `m${n}` }, { repo_id: repoId });
}

/** The `n` of an event made by {@link logEvent}. */
export function numberOf(event: { payload: unknown }): number {
  return Number((event.payload as { message: string }).message.slice(1));
}

/** Publishes `count` numbered events in order, returning their positions. */
export async function publishNumbered(
  bus: EventBus,
  topic: string,
  from: number,
  count: number,
): Promise<string[]> {
  const positions: string[] = [];
  for (let i = from; i < from + count; i++) positions.push((await bus.publish(topic, logEvent(i))).position);
  return positions;
}

/** A unique topic name for one test. */
export function uniqueTopic(label = 't'): string {
  return `repo:${label}-${process.pid}-${Date.now().toString(36)}-${counter++}`;
}
