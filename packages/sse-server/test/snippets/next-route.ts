// app/repos/[id]/events/route.ts in a Next.js App Router project
import { createMemoryBus } from '@repopulse/bus-memory';
import { createFetchHandler } from '@repopulse/sse-server/fetch';

const bus = createMemoryBus(); // in a real app: the Redis or Postgres bus your publishers use

// Next.js calls GET(request, { params }): the second argument reaches `topic`.
export const GET = createFetchHandler<{ params: Promise<{ id: string }> }>({
  bus,
  topic: async (_request, { params }) => `repo:${(await params).id}`,
  maxDurationMs: 55_000, // end each stream before the platform's 60 s limit; clients resume
});
export const dynamic = 'force-dynamic';
