/** Counters of one handler: what is open now and what happened since it was created. */
export interface EventStreamStats {
  /** Open SSE streams plus waiting long-polls plus requests still subscribing. */
  connections: number;
  /** Open SSE streams. */
  streams: number;
  /** Long-polls waiting for events. */
  longPolls: number;
  /** Topics with at least one stream or long-poll. */
  topics: number;
  /** Bytes accepted for open streams but not yet handed to the kernel, summed. */
  bufferedBytes: number;
  /** SSE streams opened since creation. */
  totalStreams: number;
  /** Long-polls answered (with events or on timeout) since creation. */
  totalLongPolls: number;
  /** Streams closed because their unsent bytes exceeded `maxBufferedBytes`. */
  closedForBackpressure: number;
  /** Streams closed because their socket accepted nothing for `writeTimeoutMs`. */
  closedForWriteTimeout: number;
  /** Streams closed because their token (or `authorize` deadline) expired. */
  closedForTokenExpiry: number;
  /** Streams ended by the client. */
  closedByClient: number;
  /** Streams ended by `close()`. */
  closedForShutdown: number;
  /** Streams ended cleanly (with `retry:`) on reaching `maxDurationMs`. */
  closedForMaxDuration: number;
  /** Requests refused with an HTTP error before any stream byte. */
  rejected: number;
  /** Heartbeat comments written. */
  heartbeats: number;
  /**
   * Bus catch-up reads made for connections resuming from before their hub's window (one read
   * serves every connection resuming older in the same tick).
   */
  catchUpReads: number;
  /** SSE requests answered during `close()` with `retry:` and a clean end. */
  drained: number;
  /** True once `close()` was called. */
  closing: boolean;
}

/** The mutable counters behind {@link EventStreamStats}. */
export class StatsCounters {
  totalStreams = 0;
  totalLongPolls = 0;
  closedForBackpressure = 0;
  closedForWriteTimeout = 0;
  closedForTokenExpiry = 0;
  closedByClient = 0;
  closedForShutdown = 0;
  closedForMaxDuration = 0;
  rejected = 0;
  heartbeats = 0;
  catchUpReads = 0;
  drained = 0;
}
