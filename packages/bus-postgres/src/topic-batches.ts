import type { Topic } from '@repopulse/events-core';

/** One publish waiting for its topic's next statement. */
export interface QueuedAppend {
  id: string;
  json: string;
  /** When the publish was made: its time bound counts from here. */
  startedAt: number;
}

/** What a {@link TopicBatches} runs: one statement per batch of a topic, or per drop. */
export interface TopicStatements<R> {
  /** Appends `items` (in order) to `topic` in one statement; resolves with one result per item. */
  append(topic: Topic, items: QueuedAppend[]): Promise<R[]>;
  /** Drops `topic`. */
  drop(topic: Topic, startedAt: number): Promise<void>;
}

type Entry<R> =
  | { kind: 'append'; item: QueuedAppend; resolve: (result: R) => void; reject: (error: unknown) => void }
  | { kind: 'drop'; startedAt: number; resolve: () => void; reject: (error: unknown) => void };

/**
 * The publishes and drops this process makes through the pool, per topic: one statement at a time
 * per topic, in call order, and the publishes that queued up meanwhile go together in the next
 * statement (up to `maxBatch`), so a busy topic costs one transaction per batch instead of one per
 * event. Positions are issued in the order the publishes were made; different topics run in
 * parallel. A statement that fails rejects every publish of its batch.
 */
export class TopicBatches<R> {
  private readonly queues = new Map<Topic, Entry<R>[]>();

  constructor(
    private readonly statements: TopicStatements<R>,
    private readonly maxBatch: number,
  ) {}

  /** Queues one publish; resolves with its result from the batch it went out in. */
  append(topic: Topic, item: QueuedAppend): Promise<R> {
    return new Promise<R>((resolve, reject) =>
      this.enqueue(topic, { kind: 'append', item, resolve, reject }),
    );
  }

  /** Queues a drop after the publishes queued before it. */
  drop(topic: Topic): Promise<void> {
    return new Promise<void>((resolve, reject) =>
      this.enqueue(topic, { kind: 'drop', startedAt: Date.now(), resolve, reject }),
    );
  }

  private enqueue(topic: Topic, entry: Entry<R>): void {
    const queue = this.queues.get(topic);
    if (queue) {
      queue.push(entry);
      return;
    }
    this.queues.set(topic, [entry]);
    void this.drain(topic);
  }

  /** Runs the topic's queue until it is empty, one statement at a time. */
  private async drain(topic: Topic): Promise<void> {
    const queue = this.queues.get(topic);
    while (queue && queue.length > 0) {
      const first = queue[0] as Entry<R>;
      if (first.kind === 'drop') {
        queue.shift();
        await this.statements.drop(topic, first.startedAt).then(first.resolve, first.reject);
        continue;
      }
      let count = 1;
      while (count < queue.length && count < this.maxBatch && queue[count]?.kind === 'append') count++;
      const batch = queue.splice(0, count) as Extract<Entry<R>, { kind: 'append' }>[];
      try {
        const results = await this.statements.append(
          topic,
          batch.map((entry) => entry.item),
        );
        for (const [i, entry] of batch.entries()) entry.resolve(results[i] as R);
      } catch (error) {
        for (const entry of batch) entry.reject(error);
      }
    }
    this.queues.delete(topic);
  }
}
