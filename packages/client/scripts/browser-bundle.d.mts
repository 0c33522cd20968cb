/** Entry points by name: the client, tab sharing, the React hooks. */
export const ENTRIES: { index: string; share: string; react: string };
/** Bundles one entry for browsers (ESM, minified) and returns its code. */
export function bundleBrowserClient(
  entry?: keyof typeof ENTRIES,
  measure?: { without?: string[]; external?: string[] },
): Promise<Uint8Array>;
