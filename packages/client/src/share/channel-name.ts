import type { EventStreamOptions } from '../types';
import type { ShareOptions } from './types';

/**
 * The lock and channel name of a shared stream: a SHA-256 hash of the URL and the credentials key
 * (the caller's `key`, else the resolved headers and credentials mode), so tabs meet only when
 * both are equal and no token appears in a name.
 */
export async function channelName(href: string, options: EventStreamOptions, share: ShareOptions) {
  const { headers } = options;
  const key = share.key ?? [
    ...new Headers(typeof headers === 'function' ? await headers({ refresh: false }) : headers),
    options.credentials,
  ];
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(JSON.stringify([href, key])));
  return `repopulse:${btoa(String.fromCharCode(...new Uint8Array(digest)))}`;
}
