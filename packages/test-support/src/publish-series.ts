/** What {@link publishSeries} needs of a bus: its `publish`. */
export interface SeriesBus<E> {
  publish(topic: string, event: E): Promise<{ position: string }>;
}

/**
 * Publishes `make(n)` for `n` = `from` … `from + count - 1` to `topic`, one after the other, and
 * resolves with their positions in order.
 *
 * @example
 * ```ts
 * const positions = await publishSeries(bus, 'repo:1', 0, 5, (n) => createEvent('log.append', { level: 'info', message: `m${n}` }));
 * ```
 */
export async function publishSeries<E>(
  bus: SeriesBus<E>,
  topic: string,
  from: number,
  count: number,
  make: (n: number) => E,
): Promise<string[]> {
  const positions: string[] = [];
  for (let n = from; n < from + count; n++) positions.push((await bus.publish(topic, make(n))).position);
  return positions;
}
