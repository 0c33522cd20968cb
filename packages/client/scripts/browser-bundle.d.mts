/** True for a bundled module path that belongs to @repopulse/events-core (its sources or dist). */
export function isEventsCoreModule(path: string): boolean;
/** True for a module of events-core's wire module (`@repopulse/events-core/wire`). */
export function isWireModule(path: string): boolean;
/** Entry points by name: the client, tab sharing, the React hooks. */
export const ENTRIES: { index: string; share: string; react: string };
/** Bundles one whole entry for browsers (ESM, minified, React external, one file) and returns its code. */
export function bundleBrowserClient(entry?: keyof typeof ENTRIES): Promise<Uint8Array>;
/** What an app pays for `import { names } from entry`, tree-shaken and code-split as a bundler does. */
export function measureImport(
  entry: keyof typeof ENTRIES,
  names: string[],
): Promise<{
  minified: number;
  gzipped: number;
  /** Gzipped bytes of the chunks loaded on demand (dynamic `import()`), not counted above. */
  onDemand: number;
  /** Bytes each events-core module adds to the loaded chunks (minified), by path. */
  eventsCore: Record<string, number>;
}>;
