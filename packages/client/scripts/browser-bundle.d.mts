/** True for a bundled module path that belongs to @repopulse/events-core (its sources or dist). */
export function isEventsCoreModule(path: string): boolean;
/** Entry points by name: the client, tab sharing, the React hooks. */
export const ENTRIES: { index: string; share: string; react: string };
/** Bundles one entry for browsers; returns the code and the metafile's input paths. */
export function buildBrowserClient(options?: {
  entry?: keyof typeof ENTRIES;
  externalCore?: boolean;
  without?: string[];
  external?: string[];
}): Promise<{
  code: Uint8Array;
  inputs: string[];
}>;
/** Bundles one entry for browsers (ESM, minified) and returns its code; throws if events-core got in. */
export function bundleBrowserClient(entry?: keyof typeof ENTRIES): Promise<Uint8Array>;
