import { createFetchHandler } from '@repopulse/sse-server/fetch';
import { bus } from '../../../../../../bus.js';

// A stream lives as long as its client: never cache or prerender this route.
export const dynamic = 'force-dynamic';
// The platform ends a function after `maxDuration` seconds (Vercel's setting; 300 is its default).
export const maxDuration = 300;

export const GET = createFetchHandler<{ params: Promise<{ id: string }> }>({
  bus,
  topic: async (_request, { params }) => `repo:${(await params).id}`,
  // End each stream cleanly 10 s before the platform would cut it; the client resumes after its last event.
  maxDurationMs: 290_000,
});
