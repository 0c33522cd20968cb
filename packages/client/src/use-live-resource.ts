import { useCallback, useEffect, useRef, useState } from 'react';
import {
  createLiveResource,
  type LiveResource,
  type LiveResourceOptions,
  type LiveResourceValue,
} from './live-resource';

/** What {@link useLiveResource} returns: the resource's current value, and `reload`. */
export interface UseLiveResourceResult<S> extends LiveResourceValue<S> {
  /** Loads the snapshot again and streams from its position (e.g. a retry button after `error`). */
  reload(): void;
}

const IDLE: LiveResourceValue<never> = {
  data: undefined,
  position: '',
  loading: true,
  state: 'connecting',
  error: undefined,
};

/**
 * {@link createLiveResource} for the component's lifetime: loads the snapshot, streams from its
 * position, applies every event, re-loads on `reset`. A new resource starts when `url` changes;
 * unmounting (mid-load included) closes it and leaves nothing running. `load`, `apply` and
 * `onError` always call the latest ones you passed; the other options are read when it starts.
 *
 * @example
 * ```tsx
 * import { tabSharing } from '@repopulse/client/share';
 *
 * function Repo({ id }: { id: string }) {
 *   const { data, state, error } = useLiveResource({
 *     url: `/api/repositories/${id}/events`,
 *     load: (signal) => fetch(`/api/repositories/${id}`, { signal }).then((res) => res.json()),
 *     apply: (repo, event) =>
 *       event.type === 'repo.status_changed' ? { ...repo, status: event.payload.to } : repo,
 *     share: tabSharing(),
 *   });
 *   if (error) return <p>Could not load: {String(error)}</p>;
 *   return data ? <h1 className={state}>{data.name}: {data.status}</h1> : <p>Loading…</p>;
 * }
 * ```
 */
export function useLiveResource<S>(options: LiveResourceOptions<S>): UseLiveResourceResult<S> {
  const latest = useRef(options);
  latest.current = options;
  const resource = useRef<LiveResource<S>>(undefined);
  const [value, setValue] = useState<LiveResourceValue<S>>(IDLE);
  const href = String(options.url);

  useEffect(() => {
    const current = createLiveResource<S>({
      ...latest.current,
      url: href,
      load: (signal) => latest.current.load(signal),
      apply: (state, event, position) => latest.current.apply(state, event, position),
      // Only when given: without it, the stream's default error logging applies.
      ...(latest.current.onError && { onError: (error) => latest.current.onError?.(error) }),
    });
    resource.current = current;
    const update = () => setValue(current.current);
    update();
    const off = current.subscribe(update);
    return () => {
      off();
      current.close();
    };
  }, [href]);

  const reload = useCallback(() => resource.current?.reload(), []);
  return { ...value, reload };
}
