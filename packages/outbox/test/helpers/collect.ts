import type { AnyEnvelope, EventBus, StreamPosition } from '@repopulse/events-core';

/** Every event a topic holds, replayed from its start, with its position. */
export async function replayTopic(
  bus: EventBus,
  topic: string,
): Promise<{ position: StreamPosition; event: AnyEnvelope }[]> {
  const head = await bus.head(topic);
  const got: { position: StreamPosition; event: AnyEnvelope }[] = [];
  if (head === '0-0') return got;
  let reached!: () => void;
  let failed!: (error: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    reached = resolve;
    failed = reject;
  });
  const sub = await bus.subscribe(
    topic,
    (delivery) => {
      if (delivery.reset) {
        failed(new Error(`replaying ${topic} from its start got a ${delivery.reason} reset`));
        return;
      }
      got.push({ position: delivery.position, event: delivery.event });
      if (delivery.position === head) reached();
    },
    { after: '0-0' },
  );
  try {
    await done;
  } finally {
    await sub.unsubscribe();
  }
  return got;
}

/** Resolves once `check` returns true, polling every 20 ms; rejects after `timeoutMs`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
