import type { Topic } from '@repopulse/events-core';

/**
 * The Redis key of a topic's stream, also used as its Pub/Sub channel name:
 * `<keyPrefix>{<topic>}`. The braces are a Redis Cluster hash tag, so every key of one topic
 * lands in one slot.
 *
 * @example
 * ```ts
 * topicKey('repopulse:', 'repo:42'); // 'repopulse:{repo:42}'
 * ```
 */
export function topicKey(keyPrefix: string, topic: Topic): string {
  return `${keyPrefix}{${topic}}`;
}
