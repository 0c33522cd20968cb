import type { Cleanups } from '@repopulse/test-support/vitest';
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';

const env = globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean };

/** Renders synchronously inside act(); updates from network callbacks are left to React's scheduler, as in an app. */
export function sync(fn: () => void): void {
  env.IS_REACT_ACT_ENVIRONMENT = true;
  try {
    act(fn);
  } finally {
    env.IS_REACT_ACT_ENVIRONMENT = false;
  }
}

/** `mount()`: a React root in a fresh container of the happy-dom page, unmounted by `cleanups`. */
export function rootMounter(cleanups: Cleanups): () => { root: Root; container: HTMLElement } {
  return () => {
    const container = document.createElement('div');
    document.body.append(container);
    const root = createRoot(container);
    cleanups.push(() => {
      root.unmount();
      container.remove();
    });
    return { root, container };
  };
}
