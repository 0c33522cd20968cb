import { FrameCache } from './frame-cache';
import type { SseConnection } from './sse-connection';

/** Everything one handler holds for one topic: its open streams and its serialized events. */
export class TopicGroup {
  /** Open (or opening) SSE connections. */
  readonly connections = new Set<SseConnection>();
  /** Events of this topic serialized once for all connections and long-polls. */
  readonly cache = new FrameCache();
  /** Streams plus long-polls using this group; it is dropped at 0. */
  users = 0;

  constructor(readonly topic: string) {}
}

/** Topic → {@link TopicGroup}, reference-counted: a group lives while a stream or long-poll uses it. */
export class TopicRegistry {
  private readonly groups = new Map<string, TopicGroup>();

  /** Number of topics in use. */
  get size(): number {
    return this.groups.size;
  }

  /** The group of `topic`, created on first use; pair with {@link release}. */
  acquire(topic: string): TopicGroup {
    let group = this.groups.get(topic);
    if (!group) {
      group = new TopicGroup(topic);
      this.groups.set(topic, group);
    }
    group.users++;
    return group;
  }

  /** Gives back a group from {@link acquire}; the last user drops it. */
  release(group: TopicGroup): void {
    group.users--;
    if (group.users <= 0 && this.groups.get(group.topic) === group) this.groups.delete(group.topic);
  }

  /** Every group in use. */
  values(): IterableIterator<TopicGroup> {
    return this.groups.values();
  }
}
