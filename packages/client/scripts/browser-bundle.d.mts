/** True for a bundled module path that belongs to @repopulse/events-core (its sources or dist). */
export function isEventsCoreModule(path: string): boolean;
/** Bundles src/index.ts for browsers; returns the code and the metafile's input paths. */
export function buildBrowserClient(options?: { externalCore?: boolean }): Promise<{
  code: Uint8Array;
  inputs: string[];
}>;
/** Bundles src/index.ts for browsers (ESM, minified) and returns its code; throws if events-core got in. */
export function bundleBrowserClient(): Promise<Uint8Array>;
