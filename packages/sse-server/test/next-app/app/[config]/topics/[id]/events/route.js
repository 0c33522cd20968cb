import { handlerFor } from '../../../../../lib/handlers';

export const dynamic = 'force-dynamic';

/** The contract's events route: every method goes to the Fetch handler (it answers 405 itself). */
async function events(request, context) {
  return handlerFor((await context.params).config).handler(request, context);
}

export const GET = events;
export const HEAD = events;
export const POST = events;
export const PUT = events;
export const DELETE = events;
