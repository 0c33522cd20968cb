/** Bundles src/index.ts for browsers (ESM, minified) and returns its code. */
export function bundleBrowserClient(): Promise<Uint8Array>;
