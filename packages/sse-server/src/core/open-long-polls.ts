import type { Grant } from './authenticate';
import { LongPoll, type LongPollEnd, type LongPollHost } from './long-poll';
import { ReaderHost } from './reader-host';
import type { ResponseSink } from './response-sink';
import { durationEnd, type ServerParts } from './server-parts';

/** What {@link OpenLongPolls.open} needs to know about one long-poll. */
export interface LongPollRequest {
  readonly sink: ResponseSink;
  readonly topic: string;
  /** `?after=`; `undefined` for the hub's head. */
  readonly after: string | undefined;
  /** `?wait=`, capped at `longPollWaitMs`. */
  readonly waitMs: number;
  readonly grant: Grant;
  /** The key it counts against for `maxConnectionsPerKey`. */
  readonly key: string | undefined;
}

/** One handler's long-polls: placed on their topic's hub, answered on events or at their deadline. */
export class OpenLongPolls<Req> extends ReaderHost<Req> implements LongPollHost {
  /** Every long-poll of the handler (subscribing or waiting). */
  readonly polls = new Set<LongPoll>();
  readonly maxEvents: number;
  readonly maxBytes: number;

  constructor(parts: ServerParts<Req>) {
    super(parts);
    this.maxEvents = parts.options.longPollMaxEvents;
    this.maxBytes = parts.options.longPollMaxBytes;
  }

  /**
   * Places a long-poll on its topic's hub and starts its wait, capped at the credentials' expiry and
   * at `maxDurationMs`. Rejects with a 503 `StreamHttpError` when the hub could not subscribe.
   */
  async open(request: LongPollRequest, closing: () => boolean): Promise<void> {
    const hub = this.hubOf(request.topic);
    const poll = new LongPoll(request.sink, hub, this);
    poll.connectionKey = request.key;
    this.polls.add(poll);
    const receivedAt = Date.now();
    const ended = () => poll.done;
    if (!(await this.place(hub, poll, request.after, ended, () => poll.abandon())) || ended()) return;
    if (closing()) {
      poll.answer('shutdown');
      return;
    }
    const now = Date.now();
    const until = Math.min(
      request.grant.expiresAt,
      durationEnd(this.parts.options.maxDurationMs, receivedAt),
    );
    if (poll.start(now, Math.min(request.waitMs, until - now))) this.parts.deadlines.add(poll);
  }

  /** {@link LongPollHost}: counts the end and gives the poll's place back. */
  longPollDone(poll: LongPoll, end: LongPollEnd): void {
    this.polls.delete(poll);
    this.parts.deadlines.remove(poll);
    if (end === 'answered' || end === 'timeout' || end === 'shutdown') this.parts.counters.totalLongPolls++;
    this.parts.admission.leave(poll.connectionKey, poll.hub.topic);
  }

  /** Answers every waiting long-poll now (those still subscribing answer once placed). */
  answerAll(): void {
    for (const poll of [...this.polls]) if (poll.started) poll.answer('shutdown');
  }
}
