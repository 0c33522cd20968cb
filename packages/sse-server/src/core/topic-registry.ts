import type { EventBus, Subscription } from '@repopulse/events-core';
import { FlushQueue } from './flush-queue';
import type { WindowLimits } from './frame-window';
import { type HubTelemetry, hubTelemetry } from './metrics';
import { TopicHub } from './topic-hub';

/**
 * Topic → {@link TopicHub} for one bus, shared by every handler of the process serving that bus
 * (whichever adapter): one hub, one bus subscription and one window per topic. A hub lives while a
 * reader is in it. Handlers also share its flush queue, so one tick's writes go out together.
 */
export class TopicRegistry {
  private readonly hubs = new Map<string, TopicHub>();
  /** The largest window any handler of the bus asked for (see {@link register}). */
  private readonly limits: WindowLimits = { events: 0, bytes: 0 };
  private telemetry: HubTelemetry | undefined;
  /** One coalescing queue for every stream, long-poll and hub of the bus. */
  readonly flushQueue = new FlushQueue();

  constructor(readonly bus: EventBus) {}

  /** Number of topics in use (by every handler). */
  get size(): number {
    return this.hubs.size;
  }

  /**
   * A handler starts using the bus: windows grow to its limits if they are larger, and hubs report
   * to OpenTelemetry once it is registered.
   */
  register(limits: WindowLimits): void {
    this.limits.events = Math.max(this.limits.events, limits.events);
    this.limits.bytes = Math.max(this.limits.bytes, limits.bytes);
    this.telemetry ??= hubTelemetry();
  }

  /**
   * The hub of `topic`, created (and subscribing) on first use. A reader enters it itself; the
   * last one out closes it. `onError` receives a failed unsubscribe of a hub created here.
   */
  acquire(topic: string, onError: (error: unknown) => void): TopicHub {
    let hub = this.hubs.get(topic);
    if (!hub) {
      hub = new TopicHub(topic, {
        bus: this.bus,
        limits: this.limits,
        telemetry: this.telemetry,
        schedule: (item) => this.flushQueue.add(item),
        release: (subscription: Subscription) => {
          subscription.unsubscribe().catch(onError);
        },
        forget: this.forget,
      });
      this.hubs.set(topic, hub);
    }
    return hub;
  }

  private readonly forget = (hub: TopicHub): void => {
    if (this.hubs.get(hub.topic) === hub) this.hubs.delete(hub.topic);
  };
}

const registries = new WeakMap<EventBus, TopicRegistry>();

/** The process's registry for `bus`, created on first use. */
export function registryOf(bus: EventBus): TopicRegistry {
  let registry = registries.get(bus);
  if (!registry) {
    registry = new TopicRegistry(bus);
    registries.set(bus, registry);
  }
  return registry;
}
