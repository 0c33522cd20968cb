import { StreamHttpError } from '../errors';

/**
 * What one handler has open: connections (streams, long-polls, requests past the limit check),
 * per connection key and per topic. Enforces `maxConnections` and `maxConnectionsPerKey`.
 */
export class Admission {
  /** Streams + long-polls + requests between the limit check and their end. */
  active = 0;
  /** The same, per connection key (see `connectionKey`); keys at 0 are deleted. */
  private readonly byKey = new Map<string, number>();
  /** Readers per topic; topics at 0 are deleted. */
  private readonly byTopic = new Map<string, number>();

  constructor(
    private readonly maxConnections: number,
    private readonly maxConnectionsPerKey: number,
    private readonly retryAfter: string,
    /** Called whenever {@link active} drops (the handler resolves `close()` at 0). */
    private readonly settled: () => void,
  ) {}

  /** Topics this handler has a stream or long-poll on. */
  get topics(): number {
    return this.byTopic.size;
  }

  /** Throws 503 `too_many_connections` / 429 `too_many_connections_per_key` when full. */
  check(key: string | undefined): void {
    if (this.active >= this.maxConnections) {
      throw new StreamHttpError(503, 'too_many_connections', 'too many connections, retry later', {
        headers: { 'Retry-After': this.retryAfter },
      });
    }
    if (key !== undefined && (this.byKey.get(key) ?? 0) >= this.maxConnectionsPerKey) {
      throw new StreamHttpError(
        429,
        'too_many_connections_per_key',
        'too many connections for this user, retry later',
        { headers: { 'Retry-After': this.retryAfter } },
      );
    }
  }

  /** Counts a connection in; give it back with {@link leave}. */
  enter(key: string | undefined, topic: string | undefined): void {
    this.active++;
    if (key !== undefined) this.byKey.set(key, (this.byKey.get(key) ?? 0) + 1);
    if (topic !== undefined) this.byTopic.set(topic, (this.byTopic.get(topic) ?? 0) + 1);
  }

  /** Counts a connection out. */
  leave(key: string | undefined, topic: string | undefined): void {
    if (key !== undefined) decrement(this.byKey, key);
    if (topic !== undefined) decrement(this.byTopic, topic);
    this.active--;
    this.settled();
  }
}

function decrement(map: Map<string, number>, key: string): void {
  const left = (map.get(key) ?? 1) - 1;
  if (left > 0) map.set(key, left);
  else map.delete(key);
}
