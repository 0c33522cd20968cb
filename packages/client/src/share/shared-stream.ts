import type { AnyEnvelope } from '@repopulse/events-core';
import { EventStreamError } from '../errors';
import { isAfter } from '../position-order';
import { createEventStream } from '../stream';
import type { EventHandler, EventStream, EventStreamState } from '../types';
import { channelName } from './channel-name';
import type { SharedEventStreamOptions } from './types';

/** One SSE frame (event or reset) with its position. */
type Entry = [position: string, frame: string];

/** An {@link EventStreamError} as it crosses the channel (structured clone drops its class). */
type PackedError = [EventStreamError['code'], boolean, number | undefined, string, string | undefined];

const pack = (error: EventStreamError | undefined): PackedError | undefined =>
  error && [error.code, error.fatal, error.status, error.message, error.url];

const unpack = (packed: PackedError | undefined) =>
  packed &&
  Object.assign(new EventStreamError(packed[0], packed[1], packed[2]), {
    message: packed[3],
    url: packed[4],
  });

/**
 * What tabs post on the channel: a frame (`f`, position `p`, `r` when a reset), the leader's state
 * `s` with its reason `w`, an error `x`, a join `j` (the joiner's position) from connection `c`, its answer `to` with
 * catch-up entries `e`, and `l` when a tab became leader.
 */
interface Message {
  f?: string;
  p?: string;
  r?: 1;
  s?: EventStreamState;
  w?: PackedError;
  x?: PackedError;
  j?: string;
  c?: string;
  to?: string;
  e?: Entry[];
  l?: 1;
}

const resetFrame = (position: string) =>
  `id: ${position}\nevent: reset\ndata: ${JSON.stringify({ reason: 'expired', position })}\n\n`;

/**
 * An event stream shared by every tab of this origin that opens the same URL with the same
 * credentials: one tab (the leader, elected with Web Locks) holds the only network connection and
 * relays every event, reset, state and error over a `BroadcastChannel`. When the leader closes or
 * crashes, another tab takes over from the last position it has seen; every tab drops positions it
 * already has, so no tab sees a gap or a duplicate. A tab that joins later catches up from the
 * others' recent history (`share.history`), or gets a `reset` beyond it.
 *
 * Without Web Locks, `BroadcastChannel` or `crypto.subtle` (old browsers, insecure origins, Node),
 * it is a plain {@link createEventStream}. Same options and same {@link EventStream} interface.
 *
 * @example
 * ```ts
 * import { createSharedEventStream } from '@repopulse/client/share';
 *
 * const stream = createSharedEventStream('/api/events', {
 *   lastEventId: snapshot.position,
 *   share: { key: `user:${me.id}` },
 * });
 * stream.on('repo.status_changed', (event) => badge(event.repo_id, event.payload.to));
 * ```
 */
export function createSharedEventStream(
  url: string | URL,
  options: SharedEventStreamOptions = {},
): EventStream {
  const { share, signal, ...rest } = options;
  const { history: limit = 500, ...settings } = share === true || !share ? {} : share;
  const unknown = Object.keys(settings).find((name) => name !== 'key');
  if (unknown || !(limit >= 0))
    throw new EventStreamError('invalid_argument', true, 0, `share.${unknown ?? 'history'}`);
  const locks = globalThis.navigator?.locks;
  if (!locks || !globalThis.BroadcastChannel || !globalThis.crypto?.subtle)
    return createEventStream(url, { ...rest, signal });
  let href: string;
  try {
    href = String(new URL(url, globalThis.location?.href));
  } catch {
    return createEventStream(url, rest); // throws its typed invalid_argument
  }

  const me = Math.random().toString(36).slice(2);
  const encoder = new TextEncoder();
  const listeners = new Set<(state: EventStreamState, reason?: EventStreamError) => void>();
  const release = new AbortController(); // aborts the lock request, or ends the leadership
  let channel: BroadcastChannel | undefined;
  let uplink: EventStream | undefined; // the network stream, while this tab leads
  let state: EventStreamState = 'connecting';
  let reason: EventStreamError | undefined;
  let failure: EventStreamError | undefined;
  let closed = false;
  // What this tab has seen: every frame after `start` up to `last`, at most `limit` of them.
  let last = rest.lastEventId ?? '';
  let start = last;
  let history: Entry[] = [];
  // The local stream's current connection: its body, whether it caught up, and from where.
  let sink: ReadableStreamDefaultController<Uint8Array> | undefined;
  let synced = false;
  let from = '';
  let connection = '';
  let count = 0;

  const post = (message: Message) => channel?.postMessage(message);
  const enqueue = (frame: string) => sink?.enqueue(encoder.encode(frame));

  const setState = (next: EventStreamState, why?: EventStreamError) => {
    if (closed || (state === next && reason === why)) return;
    state = next;
    reason = why;
    for (const listener of listeners) listener(next, why);
  };

  // A frame from the leader (or this tab's own uplink): keep it once, hand it to the local stream.
  const ingest = (frame: string, position: string, reset?: 1) => {
    if (!synced && !uplink) return; // the join answer carries it
    if (reset) {
      history = [];
      start = last = position;
    } else if (isAfter(position, last)) {
      start ||= position;
      if (history.push([position, frame]) > limit) start = history.shift()![0];
      last = position;
    } else return;
    if (synced) enqueue(frame);
  };

  // What a tab joining after `after` needs: the frames it lacks, or a reset if they are gone.
  const answer = (after: string): Message =>
    !after || (start && !isAfter(start, after))
      ? { p: last, e: after ? history.filter(([position]) => isAfter(position, after)) : [] }
      : { p: last || after, r: 1, e: [[last || after, resetFrame(last || after)]] };

  const join = () => post({ j: from, c: connection });

  const relayError = (error: EventStreamError) => {
    post({ x: pack(error) });
    onError(error);
  };
  const onError = (error: EventStreamError) => {
    if (rest.onError) rest.onError(error);
    else if (error.fatal) console.error(error);
    if (error.fatal) {
      failure = error;
      close();
    }
  };

  const lead = () => {
    if (!synced) {
      history = [];
      start = last = sink ? from : last;
      synced = !!sink;
    }
    post({ l: 1 });
    const stream = createEventStream(url, {
      ...rest,
      lastEventId: last,
      pauseWhenHidden: false, // the other tabs may be visible
      onReset: ({ position }) => {
        post({ f: resetFrame(position), p: position, r: 1 });
        ingest(resetFrame(position), position, 1);
      },
      onError: relayError,
    });
    uplink = stream;
    stream.on('*', (event: AnyEnvelope, position: string) => {
      const frame = `id: ${position}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
      post({ f: frame, p: position });
      ingest(frame, position);
    });
    const relayState = (next: EventStreamState, why?: EventStreamError) => {
      // `closed` is the end of this leadership (or a fatal error, relayed as such): not the others'.
      if (next === 'closed') return;
      post({ s: next, w: pack(why) });
      setState(next, why);
    };
    relayState(stream.state, stream.reason);
    stream.onState(relayState);
    return new Promise<void>((resolve) => {
      release.signal.addEventListener('abort', () => {
        stream.close();
        resolve();
      });
    });
  };

  const onMessage = ({ data: m }: MessageEvent<Message>) => {
    if (m.s) setState(m.s, unpack(m.w));
    if (m.x) onError(unpack(m.x)!);
    if (m.j !== undefined) {
      if (uplink) post({ ...answer(m.j), to: m.c, s: state, w: pack(reason) });
    } else if (m.to !== undefined) {
      if (m.to !== connection || synced) return;
      synced = true;
      history = [];
      start = last = m.r ? m.p! : from || m.p!;
      for (const [position, frame] of m.e!) m.r ? enqueue(frame) : ingest(frame, position);
    } else if (m.l) {
      if (sink && !synced) join();
    } else if (m.f) ingest(m.f, m.p!, m.r);
  };

  const ready = channelName(href, rest, settings)
    .catch(() => me) // headers() threw: a name of this tab alone, so nothing is shared
    .then((name) => {
      if (closed) return;
      channel = new BroadcastChannel(name);
      channel.onmessage = onMessage;
      locks.request(name, { signal: release.signal }, lead).catch(() => {});
    });

  // The local stream reads SSE frames from the channel: this "fetch" answers with a body fed by
  // `ingest`, after catching up from `from` (its resume position).
  const local = createEventStream(url, {
    onReset: rest.onReset,
    onError: rest.onError,
    pauseWhenHidden: rest.pauseWhenHidden,
    lastEventId: rest.lastEventId,
    fallback: false,
    backoff: { initialMs: 0 },
    heartbeatTimeoutMs: 2 ** 31 - 1, // the channel has no heartbeat; a dead leader frees the lock
    fetch: async (_url, init) => {
      await ready;
      init.signal!.throwIfAborted();
      return new Response(
        new ReadableStream<Uint8Array>({
          start(controller) {
            init.signal!.addEventListener('abort', () => {
              if (sink === controller) sink = undefined;
              synced &&= !!sink;
              controller.error(init.signal!.reason);
            });
            sink = controller;
            synced = false;
            from = local.lastEventId;
            connection = `${me}.${++count}`;
            controller.enqueue(encoder.encode(':\n\n'));
            if (uplink) {
              synced = true;
              for (const [, frame] of answer(from).e!) enqueue(frame);
            } else join();
          },
        }),
        { headers: { 'Content-Type': 'text/event-stream' } },
      );
    },
  });

  const close = () => {
    if (closed) return;
    closed = true;
    release.abort();
    local.close();
    channel?.close();
    signal?.removeEventListener('abort', close);
    state = 'closed';
    reason = failure;
    for (const listener of listeners) listener('closed', failure);
  };

  if (signal?.aborted) close();
  signal?.addEventListener('abort', close);

  return {
    on: ((type: '*', handler: EventHandler) => local.on(type, handler)) as EventStream['on'],
    onState(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    get state() {
      return state;
    },
    get reason() {
      return reason;
    },
    get lastEventId() {
      return local.lastEventId;
    },
    get error() {
      return failure;
    },
    close,
    async *[Symbol.asyncIterator]() {
      try {
        yield* local;
        if (failure) throw failure;
      } finally {
        close();
      }
    },
  };
}
