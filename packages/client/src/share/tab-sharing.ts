import type { StreamOpener } from '../types';
import { createSharedEventStream } from './shared-stream';
import type { ShareOptions } from './types';

/**
 * One connection for all tabs, for `createLiveResource`, `useLiveResource` and `useEventStream`:
 * pass the result as their `share` option. The stream is a {@link createSharedEventStream} with
 * these settings (checked when it opens: a bad one stops the resource with `invalid_argument`).
 * Importing it is what brings the tab-sharing code into an app's bundle.
 *
 * @example
 * ```ts
 * import { tabSharing } from '@repopulse/client/share';
 *
 * const repo = createLiveResource({ url, load, apply, share: tabSharing({ key: `user:${me.id}` }) });
 * ```
 */
export function tabSharing(options: ShareOptions = {}): StreamOpener {
  return (url, streamOptions) => createSharedEventStream(url, { ...streamOptions, share: options });
}
