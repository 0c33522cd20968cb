import { type HubHost, TopicHub } from './topic-hub';

/** Topic → {@link TopicHub}, reference-counted: a hub lives while a stream or long-poll uses it. */
export class TopicRegistry {
  private readonly hubs = new Map<string, TopicHub>();

  constructor(private readonly host: Omit<HubHost, 'hubFailed'>) {}

  /** Number of topics in use. */
  get size(): number {
    return this.hubs.size;
  }

  /** The hub of `topic`, created (and subscribing) on first use; pair with {@link release}. */
  acquire(topic: string): TopicHub {
    let hub = this.hubs.get(topic);
    if (!hub) {
      hub = new TopicHub(topic, { ...this.host, hubFailed: this.forget });
      this.hubs.set(topic, hub);
    }
    hub.users++;
    return hub;
  }

  /** Gives back a hub from {@link acquire}; the last user closes it. */
  release(hub: TopicHub): void {
    hub.users--;
    if (hub.users > 0) return;
    hub.close();
    this.forget(hub);
  }

  /** Every hub in use. */
  values(): IterableIterator<TopicHub> {
    return this.hubs.values();
  }

  private readonly forget = (hub: TopicHub): void => {
    if (this.hubs.get(hub.topic) === hub) this.hubs.delete(hub.topic);
  };
}
