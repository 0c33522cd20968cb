import type { BusDelivery, ResetFrameData, Subscription } from '@repopulse/events-core';
import type { Deadline } from './deadline-queue';
import type { Flushable } from './flush-queue';
import type { NodeResponse } from './node-response';
import type { TopicGroup } from './topic-registry';

/** The JSON body of a long-poll answer. */
export interface LongPollResponse {
  /** Events after the requested point, in order (empty on timeout). */
  events: {
    /** The event's position in the topic. */
    position: string;
    /** The envelope, exactly as the SSE `data:` line carries it. */
    event: unknown;
  }[];
  /** Pass it as `after` in the next poll: the last event's position, or the point asked for. */
  position: string;
  /**
   * Present when the requested point could not be replayed (same data as the SSE `reset`
   * event): re-read the snapshot; `events` then holds what came after the head.
   */
  reset?: ResetFrameData;
}

/** How a long-poll ended. */
export type LongPollEnd = 'answered' | 'timeout' | 'client' | 'shutdown' | 'error';

/** What a long-poll needs from the handler that owns it. */
export interface LongPollHost {
  /** Queues an answer at the end of this tick (so a burst of events goes in one answer). */
  schedule(item: Flushable): void;
  /** Called exactly once when the poll is done (subscription already released). */
  longPollDone(poll: LongPoll, end: LongPollEnd): void;
}

const JSON_HEADERS = {
  'Content-Type': 'application/json; charset=utf-8',
  'Cache-Control': 'no-store',
};

/**
 * One JSON long-poll: subscribes after `after`, answers at the end of the tick in which the
 * first delivery arrives (at once when events are already there), or with no events at its
 * deadline. Events are built from the topic's shared serialized JSON.
 */
export class LongPoll implements Flushable, Deadline {
  /** @internal flush-queue state */
  queued = false;
  /** @internal deadline-queue state: when to give up waiting */
  deadline = Number.POSITIVE_INFINITY;
  /** @internal deadline-queue state */
  heapIndex = -1;
  /** The bus subscription, once active. */
  subscription: Subscription | undefined;
  /** True once answered or abandoned. */
  done = false;

  private readonly items: string[] = [];
  private position = '';
  private reset: ResetFrameData | undefined;
  private ready = false;

  constructor(
    private readonly res: NodeResponse,
    readonly group: TopicGroup,
    private readonly host: LongPollHost,
  ) {
    res.on('close', this.onResponseClose);
  }

  /** The bus handler. */
  readonly deliver = (delivery: BusDelivery): void => {
    if (this.done) return;
    if (delivery.reset) {
      this.reset = { reason: delivery.reason, position: delivery.position };
      if (delivery.retainedAfter) this.reset.retained_after = delivery.retainedAfter;
      this.items.length = 0;
    } else {
      const { json } = this.group.cache.get(delivery);
      this.items.push(`{"position":${JSON.stringify(delivery.position)},"event":${json}}`);
    }
    this.position = delivery.position;
    if (this.ready) this.host.schedule(this);
  };

  /** True once subscribed and waiting (or about to answer). */
  get started(): boolean {
    return this.ready;
  }

  /** Sets the point the poll resumes from (before subscribing). */
  resumeFrom(position: string): void {
    this.position = position;
  }

  /** Gives up without answering (the subscribe failed; the caller answers with an error). */
  abandon(): void {
    if (this.done) return;
    this.done = true;
    this.host.longPollDone(this, 'error');
  }

  /**
   * The subscription is active: answer at once when something arrived (or `waitMs` is 0),
   * else wait until `now + waitMs`. Returns true when it has to wait.
   */
  start(now: number, waitMs: number): boolean {
    if (this.done) return false;
    this.ready = true;
    if (this.items.length > 0 || this.reset || waitMs <= 0) {
      this.host.schedule(this);
      return false;
    }
    this.deadline = now + waitMs;
    return true;
  }

  /** @internal answers with what arrived this tick */
  flush(): void {
    this.answer('answered');
  }

  /** @internal the wait is over */
  onDeadline(): void {
    this.answer('timeout');
  }

  /** Answers now with whatever arrived (used at shutdown too). */
  answer(end: LongPollEnd): void {
    if (this.done) return;
    this.done = true;
    const reset = this.reset ? `,"reset":${JSON.stringify(this.reset)}` : '';
    const body = Buffer.from(
      `{"events":[${this.items.join(',')}],"position":${JSON.stringify(this.position)}${reset}}`,
      'utf8',
    );
    this.host.longPollDone(this, end);
    this.res.writeHead(200, { ...JSON_HEADERS, 'Content-Length': String(body.length) });
    this.res.end(body);
  }

  private readonly onResponseClose = (): void => {
    if (this.done) return;
    this.done = true;
    this.host.longPollDone(this, 'client');
  };
}
