import { type AnyEnvelope, createEvent } from '@repopulse/events-core';

const FILES = ['src/app/routes/repositories.tsx', 'packages/core/lib/graph.ts', 'docs/guide/intro.md'];

/**
 * The `n`th event as an app makes it, fresh for every publish: a `task.progress` with a realistic
 * payload (a message of ~100 characters that differs per event) and the repo, task and request ids
 * an app sets; about 300 bytes of JSON.
 */
export function appEvent(n: number): AnyEnvelope {
  return createEvent(
    'task.progress',
    {
      phase: 'analyze',
      percent: n % 100,
      message: `Analyzing ${FILES[n % FILES.length]} (${n} of 20000): 12 symbols, 3 references resolved`,
    },
    { repo_id: 4242, task_id: 90_000 + (n % 50), request_id: 'req_01JDX3V6Q8W4ZB1C2D3E4F5G6H' },
  );
}
