import type { AnyEnvelope } from '@repopulse/events-core';
import {
  encodeSseFrame,
  encodeSseReset,
  isAfter,
  type ResetDelivery,
  type StreamPosition,
} from '@repopulse/events-core/wire';
import { EventStreamError } from '../errors';
import { createEventStream } from '../stream';
import type { EventHandler, EventStream, EventStreamState } from '../types';
import { channelName } from './channel-name';
import type { SharedEventStreamOptions } from './types';

/** One SSE frame (an event, or a reset when `reset` is set) with its position. */
interface Entry {
  position: string;
  frame: string;
  reset?: true;
}

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
 * What tabs post on the channel:
 * - `entry`: the leader relays a frame it received;
 * - `state`: the leader's connection state and its reason;
 * - `error`: an error the leader's stream reported;
 * - `join`: a tab's local connection `connection` asks to catch up after `after`;
 * - `catch-up`: the leader's answer to that join, with the leader's position and state;
 * - `leader`: a tab became leader (tabs not caught up yet join again).
 */
type Message =
  | { type: 'entry'; entry: Entry }
  | { type: 'state'; state: EventStreamState; reason: PackedError | undefined }
  | { type: 'error'; error: PackedError }
  | { type: 'join'; after: string; connection: string }
  | {
      type: 'catch-up';
      connection: string;
      position: string;
      entries: Entry[];
      state: EventStreamState;
      reason: PackedError | undefined;
    }
  | { type: 'leader' };

/** A reset as the entry of its SSE frame, the frame the server wrote. */
const resetEntry = (reset: ResetDelivery): Entry => ({
  position: reset.position,
  frame: encodeSseReset(reset),
  reset: true,
});

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

  const tabId = Math.random().toString(36).slice(2);
  const encoder = new TextEncoder();
  const listeners = new Set<(state: EventStreamState, reason?: EventStreamError) => void>();
  const release = new AbortController(); // aborts the lock request, or ends the leadership
  let channel: BroadcastChannel | undefined;
  let uplink: EventStream | undefined; // the network stream, while this tab leads
  let state: EventStreamState = 'connecting';
  let reason: EventStreamError | undefined;
  let failure: EventStreamError | undefined;
  let closed = false;
  // What this tab has seen, up to `last`: at most `limit` entries. Every frame after `complete`
  // is among them; a reset entry first answers for every position before it.
  let last = rest.lastEventId ?? '';
  let complete = last;
  let history: Entry[] = [];
  // The local stream's current connection: its body, whether it caught up, and from where.
  let body: ReadableStreamDefaultController<Uint8Array> | undefined;
  let caughtUp = false;
  let resumeFrom = '';
  let connectionId = '';
  let connections = 0;

  const post = (message: Message) => channel?.postMessage(message);
  const enqueue = (frame: string) => body?.enqueue(encoder.encode(frame));

  const setState = (next: EventStreamState, why?: EventStreamError) => {
    if (closed || (state === next && reason === why)) return;
    state = next;
    reason = why;
    for (const listener of listeners) listener(next, why);
  };

  // An entry from the leader (or this tab's own uplink): keep it once, hand it to the local stream.
  const keep = (entry: Entry) => {
    if (!caughtUp && !uplink) return; // the catch-up answer carries it
    if (entry.reset) {
      history = [entry];
      complete = last = entry.position;
    } else if (isAfter(entry.position, last)) {
      complete ||= entry.position;
      if (history.push(entry) > limit) complete = history.shift()!.position;
      last = entry.position;
    } else return;
    if (caughtUp) enqueue(entry.frame);
  };

  // What a tab resuming after `after` lacks: the entries after it, or a reset when they are gone
  // (the reset the tabs received, when the history starts with it; else `expired` at `last`).
  const catchUp = (after: string): Entry[] => {
    if (!after) return []; // no position: it starts live
    if (history[0]?.reset || after === complete || (complete && !isAfter(complete, after)))
      return history.filter((entry) => isAfter(entry.position, after));
    return [resetEntry({ reset: true, reason: 'expired', position: (last || after) as StreamPosition })];
  };

  const join = () => post({ type: 'join', after: resumeFrom, connection: connectionId });

  const relayError = (error: EventStreamError) => {
    post({ type: 'error', error: pack(error)! });
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
    if (!caughtUp) {
      history = [];
      complete = last = body ? resumeFrom : last;
      caughtUp = !!body;
    }
    post({ type: 'leader' });
    const relay = (entry: Entry) => {
      post({ type: 'entry', entry });
      keep(entry);
    };
    const stream = createEventStream(url, {
      ...rest,
      lastEventId: last,
      pauseWhenHidden: false, // the other tabs may be visible
      onReset: (reset) => relay(resetEntry(reset)),
      onError: relayError,
    });
    uplink = stream;
    stream.on('*', (event: AnyEnvelope, position: string) =>
      relay({ position, frame: encodeSseFrame(position, event) }),
    );
    const relayState = (next: EventStreamState, why?: EventStreamError) => {
      // `closed` is the end of this leadership (or a fatal error, relayed as such): not the others'.
      if (next === 'closed') return;
      post({ type: 'state', state: next, reason: pack(why) });
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

  const onMessage = ({ data: message }: MessageEvent<Message>) => {
    switch (message.type) {
      case 'state':
        return setState(message.state, unpack(message.reason));
      case 'error':
        return onError(unpack(message.error)!);
      case 'join':
        if (uplink)
          post({
            type: 'catch-up',
            connection: message.connection,
            position: last,
            entries: catchUp(message.after),
            state,
            reason: pack(reason),
          });
        return;
      case 'catch-up':
        setState(message.state, unpack(message.reason));
        if (message.connection !== connectionId || caughtUp) return;
        caughtUp = true;
        history = [];
        complete = last = resumeFrom || message.position;
        for (const entry of message.entries) keep(entry);
        return;
      case 'leader':
        if (body && !caughtUp) join();
        return;
      case 'entry':
        keep(message.entry);
    }
  };

  const ready = channelName(href, rest, settings)
    .catch(() => tabId) // headers() threw: a name of this tab alone, so nothing is shared
    .then((name) => {
      if (closed) return;
      channel = new BroadcastChannel(name);
      channel.onmessage = onMessage;
      locks.request(name, { signal: release.signal }, lead).catch(() => {});
    });

  // The local stream reads SSE frames from the channel: this "fetch" answers with a body fed by
  // `keep`, after catching up from `resumeFrom` (its resume position).
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
              if (body === controller) body = undefined;
              caughtUp &&= !!body;
              controller.error(init.signal!.reason);
            });
            body = controller;
            caughtUp = false;
            resumeFrom = local.lastEventId;
            connectionId = `${tabId}.${++connections}`;
            controller.enqueue(encoder.encode(':\n\n'));
            if (uplink) {
              caughtUp = true;
              for (const entry of catchUp(resumeFrom)) enqueue(entry.frame);
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
