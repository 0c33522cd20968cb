import type { FetchLike } from '@repopulse/client';
import { isPosition, type StreamPosition } from '@repopulse/events-core';
import { CliError } from './errors';
import { exitCodeOfStatus } from './exit-codes';

/** What the server says on a refused request: `{error:{code,message}}`, else the status text. */
async function refusal(res: Response): Promise<string> {
  const body = await res.json().catch(() => undefined);
  const { code, message } = (body?.error ?? {}) as { code?: unknown; message?: unknown };
  const detail = [code, message].filter((part) => typeof part === 'string' && part).join(': ');
  return `HTTP ${res.status}${detail ? ` ${detail}` : res.statusText ? ` ${res.statusText}` : ''}`;
}

/** The innermost cause's message, e.g. `connect ECONNREFUSED 127.0.0.1:9`. */
function rootMessage(error: unknown): string {
  let current = error as { cause?: unknown; message?: unknown } | undefined;
  while (current?.cause instanceof Error) current = current.cause as typeof current;
  return typeof current?.message === 'string' ? current.message : String(error);
}

/**
 * Reads the stream's head position with one JSON long-poll that does not wait
 * (`Accept: application/json`, `?wait=0`, no `after`): a RepoPulse server answers at once with
 * `{events: [], position: <head>}`. It doubles as the access check: a refusal (401, 403, 404,
 * 400, 5xx) or an unreachable server becomes a {@link CliError} with the matching exit code and
 * a one-line message, before any stream is opened.
 */
export async function readHead(
  url: URL,
  headers: [string, string][],
  fetchFn: FetchLike,
  signal?: AbortSignal,
): Promise<StreamPosition> {
  const target = new URL(url);
  target.searchParams.set('wait', '0');
  target.searchParams.delete('after');
  const init: RequestInit = { headers: [...headers, ['Accept', 'application/json']] };
  if (signal) init.signal = signal;
  let res: Response;
  try {
    res = await fetchFn(String(target), init);
  } catch (cause) {
    if (signal?.aborted) throw cause;
    throw new CliError('unavailable', `cannot reach ${url.origin}: ${rootMessage(cause)}`, { cause });
  }
  if (!res.ok) {
    throw new CliError(exitCodeOfStatus(res.status), `${url.pathname}: ${await refusal(res)}`);
  }
  const body = (await res.json().catch(() => undefined)) as
    | { events?: unknown; position?: unknown }
    | undefined;
  if (!Array.isArray(body?.events) || !isPosition(body.position)) {
    throw new CliError(
      'failure',
      `${url.href} is not a RepoPulse event stream (no {events, position} long-poll answer)`,
    );
  }
  return body.position;
}
