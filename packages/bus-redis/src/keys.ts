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

/**
 * The keys holding the event ids a topic's stream retains, next to its stream key (same hash tag,
 * so the same Cluster slot): a hash from event id to position, and a list of the ids in stream
 * order that tells which ids to forget when the stream is trimmed.
 *
 * @example
 * ```ts
 * idKeysOf('repopulse:{repo:42}'); // ['repopulse:{repo:42}:ids', 'repopulse:{repo:42}:idlog']
 * ```
 */
export function idKeysOf(streamKey: string): [ids: string, idLog: string] {
  return [`${streamKey}:ids`, `${streamKey}:idlog`];
}
