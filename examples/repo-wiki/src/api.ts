/** An API error with the server's `{error:{code,message}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Who is logged in (set by the App). Live views pass it as their tab-sharing key: the session
 * cookie is shared by all tabs, so tabs of one user share one event stream, and a tab that logged
 * in as someone else never joins the previous user's stream.
 */
export const session = { user: '' };

/** Calls the JSON API with the session cookie (same origin only); throws {@link ApiError} on a non-2xx answer. */
export async function api<T>(
  path: string,
  init: { method?: string; body?: unknown; signal?: AbortSignal } = {},
): Promise<T> {
  const res = await fetch(path, {
    method: init.method ?? 'GET',
    signal: init.signal,
    credentials: 'same-origin',
    // `X-Requested-With` marks the call as the app's own (a form on another site cannot send it):
    // the server refuses mutations without it or a JSON body.
    headers:
      init.body === undefined
        ? { Accept: 'application/json', 'X-Requested-With': 'repo-wiki' }
        : { 'Content-Type': 'application/json', 'X-Requested-With': 'repo-wiki' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  if (res.status === 204) return undefined as T;
  const json = await res.json().catch(() => ({}));
  if (!res.ok) {
    const error = (json as { error?: { code?: string; message?: string } }).error ?? {};
    throw new ApiError(res.status, error.code ?? 'http_error', error.message ?? `HTTP ${res.status}`);
  }
  return json as T;
}
