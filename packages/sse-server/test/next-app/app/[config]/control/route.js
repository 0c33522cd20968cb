import { handlerFor } from '../../../lib/handlers';

export const dynamic = 'force-dynamic';

/** The handler's `stats()`. */
export async function GET(_request, { params }) {
  return Response.json(handlerFor((await params).config).handler.stats());
}

/** The handler's `close({ graceMs })`, answered once it resolved; `?bus=close` also closes its bus. */
export async function POST(request, { params }) {
  const { handler, bus } = handlerFor((await params).config);
  const url = new URL(request.url);
  await handler.close({ graceMs: Number(url.searchParams.get('graceMs') ?? 0) });
  if (url.searchParams.get('bus') === 'close') await bus.close();
  return Response.json({ closed: true });
}
