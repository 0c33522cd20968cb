import type { FetchLike } from '@repopulse/client';
import {
  isPosition,
  longPollUrl,
  parseErrorBody,
  parseLongPollBody,
  type StreamPosition,
} from '@repopulse/events-core/wire';
import { CliError } from './errors';
import { exitCodeOfStatus } from './exit-codes';

/** What the server says on a refused request: `{error:{code,message}}`, else the status text. */
async function refusal(res: Response): Promise<string> {
  const { code, message } = parseErrorBody(await res.json().catch(() => undefined));
  const detail = [code, message].filter(Boolean).join(': ');
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
  const target = longPollUrl(url, { waitSeconds: 0 });
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
  const answer = parseLongPollBody(await res.json().catch(() => undefined));
  if (!answer || !isPosition(answer.position)) {
    throw new CliError(
      'failure',
      `${url.href} is not a RepoPulse event stream (no {events, position} long-poll answer)`,
    );
  }
  return answer.position;
}
