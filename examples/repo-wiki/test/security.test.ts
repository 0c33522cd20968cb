import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../server/app';
import { renderMarkdown } from '../src/markdown';
import { errorCodeOf, rawRequest } from './support/raw-http';
import { client, login, startTestServer, tempDataDir } from './support/test-server';

let server: RunningServer;
let data: ReturnType<typeof tempDataDir>;
let demo: ReturnType<typeof client>;
let guest: ReturnType<typeof client>;

beforeAll(async () => {
  data = tempDataDir();
  server = await startTestServer({ DATA_DIR: data.dir });
  demo = client(server.url, await login(server.url, 'demo'));
  guest = client(server.url, await login(server.url, 'guest'));
});

afterAll(async () => {
  await server?.close(0);
  data?.remove();
});

/** Logs in and returns the token and the `name=value` of the session cookie. */
async function loginWithCookie(baseUrl: string, username: string) {
  const res = await fetch(`${baseUrl}/api/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password: username }),
  });
  expect(res.status).toBe(200);
  const { token } = (await res.json()) as { token: string };
  return { token, cookie: (res.headers.get('set-cookie') ?? '').split(';')[0] as string };
}

/** Polls `check` until it returns a value (not undefined), or fails after `timeoutMs`. */
async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function readyRepo(api: ReturnType<typeof client>, url: string): Promise<number> {
  const res = await api.post('/api/repositories', { url });
  expect(res.status).toBe(201);
  const id = res.json.repository.id as number;
  await eventually(async () => {
    const snap = await api.get(`/api/repositories/${id}`);
    return snap.json.repository.status === 'ready' ? true : undefined;
  });
  return id;
}

/** Opens an SSE stream; `ended` resolves when the server ends it. */
async function openStream(url: string, headers: Record<string, string>) {
  const controller = new AbortController();
  const res = await fetch(url, {
    headers: { Accept: 'text/event-stream', ...headers },
    signal: controller.signal,
  });
  const ended = (async () => {
    if (!res.body) return;
    const reader = res.body.getReader();
    try {
      while (!(await reader.read()).done) {}
    } catch {
      // destroyed by the server: also an end
    }
  })();
  return { res, ended, cancel: () => controller.abort() };
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)),
  ]);
}

describe('documents built from user input', () => {
  it('a repository URL cannot inject Markdown: no link, no HTML, the URL shows as written', async () => {
    const url =
      'https://github.com/acme/x`[pwn](javascript:fetch(`/api/x`))`<img/src=x/onerror=alert(1)>**b**[r][1]\n[1]:javascript:alert(2)';
    // A URL with a newline is refused; the same without it is accepted and rendered inertly.
    expect((await guest.post('/api/repositories', { url })).status).toBe(400);
    const oneLine = url.replace('\n', '');
    const id = await readyRepo(guest, oneLine);
    const overview = (await guest.get(`/api/repositories/${id}/tasks`)).json.tasks[0] as { id: number };
    expect((await guest.post(`/api/tasks/${overview.id}/run`)).status).toBe(202);
    const doc = await eventually(async () => {
      const docs = (await guest.get(`/api/repositories/${id}/documents`)).json.documents as { id: number }[];
      return docs[0];
    });
    const full = (await demo.get(`/api/documents/${doc.id}`)).json.document as { content: string };
    const html = renderMarkdown(full.content);
    expect(html).not.toMatch(/<a\b/i);
    expect(html).not.toMatch(/<img\b/i);
    expect(html).not.toMatch(/<strong>b<\/strong>/);
    // The whole URL is one piece of text: its characters HTML-escaped, nothing else changed.
    const escaped = oneLine.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    expect(html.replace(/&quot;/g, '"').replace(/&#39;/g, "'")).toContain(escaped);
  });

  it('rendered Markdown keeps http(s) and mailto links and drops every other scheme', () => {
    const html = renderMarkdown(
      [
        '[a](https://example.com/a) [b](http://example.com/b) [c](mailto:x@example.com)',
        '[d](javascript:alert(1)) [e](JAVASCRIPT:alert(1)) [f](java&#x09;script:alert(1))',
        '[g](data:text/html,<script>alert(1)</script>) [h](vbscript:x) ![i](javascript:alert(1))',
        '<https://example.com/auto> <javascript:alert(1)> [j]',
        '',
        '[j]: javascript:alert(3)',
      ].join('\n'),
    );
    const hrefs = [...html.matchAll(/(?:href|src)="([^"]*)"/g)].map((m) => m[1]);
    expect(hrefs).toEqual([
      'https://example.com/a',
      'http://example.com/b',
      'mailto:x@example.com',
      'https://example.com/auto',
    ]);
    expect(html).not.toMatch(/<img\b/i);
  });
});

describe('security headers', () => {
  it('every answer (page, API, stream error) carries a CSP, nosniff and frame-ancestors', async () => {
    for (const path of ['/', '/repos/1', '/api/me', '/api/repositories/1/events', '/healthz', '/nope.js']) {
      const res = await rawRequest(`${server.url}${path}`);
      const csp = String(res.headers['content-security-policy'] ?? '');
      expect(csp, path).toMatch(/default-src 'self'/);
      expect(csp, path).toMatch(/script-src 'self'(;|$)/);
      expect(csp, path).toMatch(/frame-ancestors 'none'/);
      expect(csp, path).toMatch(/object-src 'none'/);
      expect(csp, path).not.toMatch(/unsafe-inline|unsafe-eval/);
      expect(res.headers['x-content-type-options'], path).toBe('nosniff');
      expect(res.headers['x-frame-options'], path).toBe('DENY');
      expect(res.headers['referrer-policy'], path).toBe('no-referrer');
    }
  });
});

describe('cross-site request forgery', () => {
  it('a cookie-authenticated text/plain form POST is refused and queues nothing', async () => {
    const id = await readyRepo(demo, 'https://github.com/acme/csrf-target');
    const { cookie } = await loginWithCookie(server.url, 'demo');
    const form = await rawRequest(`${server.url}/api/repositories/${id}/run-all`, {
      method: 'POST',
      headers: { Cookie: cookie, 'Content-Type': 'text/plain', Origin: 'http://evil.localhost:8080' },
      body: '{"x":1}',
    });
    expect(form.status).toBe(403);
    expect(errorCodeOf(form)).toBe('csrf_rejected');
    // The same form from a same-site origin (another port, no Origin check would catch it by site).
    const sameSite = await rawRequest(`${server.url}/api/repositories/${id}/run-all`, {
      method: 'POST',
      headers: { Cookie: cookie, 'Content-Type': 'text/plain', 'Sec-Fetch-Site': 'same-site' },
      body: '',
    });
    expect(sameSite.status).toBe(403);
    const tasks = (await demo.get(`/api/repositories/${id}/tasks`)).json.tasks as { status: string }[];
    expect(tasks.every((t) => t.status === 'pending')).toBe(true);
  });

  it('JSON from another origin on the same site is refused; the same request from the page itself passes', async () => {
    const id = await readyRepo(demo, 'https://github.com/acme/csrf-json');
    const { cookie } = await loginWithCookie(server.url, 'demo');
    const host = new URL(server.url).host;
    const attempt = (headers: Record<string, string>) =>
      rawRequest(`${server.url}/api/repositories/${id}/run-all`, {
        method: 'POST',
        headers: { Cookie: cookie, 'Content-Type': 'application/json', ...headers },
        body: '{}',
      });
    const otherPort = await attempt({ Origin: 'http://127.0.0.1:1', 'Sec-Fetch-Site': 'same-site' });
    expect(otherPort.status).toBe(403);
    expect((await attempt({ Origin: 'null' })).status).toBe(403);
    expect((await attempt({ 'Sec-Fetch-Site': 'cross-site' })).status).toBe(403);
    const noJson = await rawRequest(`${server.url}/api/repositories/${id}`, {
      method: 'DELETE',
      headers: { Cookie: cookie, Origin: `http://${host}`, 'Sec-Fetch-Site': 'same-origin' },
    });
    expect(noJson.status).toBe(403);
    const fromPage = await attempt({ Origin: `http://${host}`, 'Sec-Fetch-Site': 'same-origin' });
    expect(fromPage.status).toBe(202);
  });

  it('login itself is refused from another site (login CSRF)', async () => {
    const res = await rawRequest(`${server.url}/api/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', 'Sec-Fetch-Site': 'cross-site' },
      body: '{"username":"guest","password":"guest"}',
    });
    expect(res.status).toBe(403);
    expect(res.headers['set-cookie']).toBeUndefined();
  });
});

describe('logout', () => {
  it('revokes the session server-side and ends its open streams; other sessions keep theirs', async () => {
    const id = await readyRepo(guest, 'https://github.com/guest/logout');
    const gone = await loginWithCookie(server.url, 'guest');
    const kept = await loginWithCookie(server.url, 'guest');
    const url = `${server.url}/api/repositories/${id}/events`;
    const streamOfGone = await openStream(url, { Cookie: gone.cookie });
    const listOfGone = await openStream(`${server.url}/api/events`, {
      Authorization: `Bearer ${gone.token}`,
    });
    const streamOfKept = await openStream(url, { Authorization: `Bearer ${kept.token}` });
    for (const s of [streamOfGone, streamOfKept, listOfGone]) expect(s.res.status).toBe(200);

    const out = await rawRequest(`${server.url}/api/logout`, {
      method: 'POST',
      headers: { Cookie: gone.cookie, 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(out.status).toBe(204);
    await within(streamOfGone.ended, 10_000, 'the logged-out stream ends');
    await within(listOfGone.ended, 10_000, 'the logged-out list stream ends');

    const credentials: Record<string, string>[] = [
      { Authorization: `Bearer ${gone.token}` },
      { Cookie: gone.cookie },
    ];
    for (const headers of credentials) {
      const me = await rawRequest(`${server.url}/api/me`, { headers });
      expect(me.status).toBe(401);
      const again = await rawRequest(url, { headers: { ...headers, Accept: 'application/json' } });
      expect(again.status).toBe(401);
    }
    const stillIn = await rawRequest(`${server.url}/api/me`, {
      headers: { Authorization: `Bearer ${kept.token}` },
    });
    expect(stillIn.status).toBe(200);
    const raced = await Promise.race([
      streamOfKept.ended.then(() => 'ended'),
      new Promise((r) => setTimeout(() => r('open'), 300)),
    ]);
    expect(raced).toBe('open');
    streamOfKept.cancel();
  });
});

describe('session end', () => {
  it('a stream is closed when its session ends; reconnecting with it is 401', async () => {
    const dir = tempDataDir();
    const short = await startTestServer({ DATA_DIR: dir.dir, SESSION_TTL_MS: '1500' });
    try {
      const token = await login(short.url, 'guest');
      const stream = await openStream(`${short.url}/api/events`, { Authorization: `Bearer ${token}` });
      expect(stream.res.status).toBe(200);
      await within(stream.ended, 10_000, 'the stream ends with its session');
      const again = await rawRequest(`${short.url}/api/events`, {
        headers: { Authorization: `Bearer ${token}`, Accept: 'text/event-stream' },
      });
      expect(again.status).toBe(401);
      expect(again.headers['www-authenticate']).toBe('Bearer');
      expect(
        (short.streamStats() as { list: { closedForTokenExpiry: number } }).list.closedForTokenExpiry,
      ).toBe(1);
    } finally {
      await short.close(0);
      dir.remove();
    }
  });
});

describe('client errors answer 4xx with the JSON error body', () => {
  it('a malformed cookie is no credential (401), on REST and on streams', async () => {
    for (const path of ['/api/me', '/api/events', '/api/repositories/1/events']) {
      const res = await rawRequest(`${server.url}${path}`, {
        headers: { Cookie: 'repopulse_session=%E0%A4%A', Accept: 'application/json' },
      });
      expect(res.status, path).toBe(401);
      expect(errorCodeOf(res), path).toBe('unauthorized');
    }
  });

  it('a 1 MB body is 413, bad gzip 400, an unknown encoding 415', async () => {
    const token = await login(server.url, 'demo');
    const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
    const big = await rawRequest(`${server.url}/api/repositories`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ url: `https://github.com/${'a'.repeat(1024 * 1024)}` }),
    });
    expect(big.status).toBe(413);
    expect(errorCodeOf(big)).toBe('payload_too_large');
    const badGzip = await rawRequest(`${server.url}/api/repositories`, {
      method: 'POST',
      headers: { ...headers, 'Content-Encoding': 'gzip' },
      body: Buffer.from('this is not gzip'),
    });
    expect(badGzip.status).toBe(400);
    expect(errorCodeOf(badGzip)).toBe('bad_request');
    const bomb = await rawRequest(`${server.url}/api/repositories`, {
      method: 'POST',
      headers: { ...headers, 'Content-Encoding': 'gzip' },
      body: gzipSync(Buffer.alloc(4 * 1024 * 1024, 0x20)),
    });
    expect(bomb.status).toBe(413);
    const brotliX = await rawRequest(`${server.url}/api/repositories`, {
      method: 'POST',
      headers: { ...headers, 'Content-Encoding': 'x-unknown' },
      body: '{}',
    });
    expect(brotliX.status).toBe(415);
    expect(errorCodeOf(brotliX)).toBe('unsupported_media_type');
    expect((await demo.get('/api/me')).status).toBe(200);
  });

  it('ids must be canonical before they name anything: 0002, +2, 2.0 are 400', async () => {
    const id = await readyRepo(demo, 'https://github.com/acme/canonical');
    const padded = `000${id}`;
    for (const path of [
      `/api/repositories/${padded}`,
      `/api/repositories/${padded}/events`,
      `/api/repositories/${padded}/tasks`,
      '/api/documents/01',
      '/api/tasks/01/run',
    ]) {
      const res = await rawRequest(`${server.url}${path}`, {
        method: path.endsWith('/run') ? 'POST' : 'GET',
        headers: {
          Authorization: `Bearer ${await login(server.url)}`,
          Accept: 'application/json',
          'Content-Type': 'application/json',
        },
        body: path.endsWith('/run') ? '{}' : undefined,
      });
      expect(res.status, path).toBe(400);
      expect(errorCodeOf(res), path).toMatch(/bad_request|invalid_parameter/);
    }
    expect((await demo.get(`/api/repositories/${id}`)).status).toBe(200);
  });
});

describe('limits', () => {
  it('login failures are rate-limited per client address: 429 with Retry-After, even for the right password', async () => {
    const dir = tempDataDir();
    const limited = await startTestServer({ DATA_DIR: dir.dir, LOGIN_FAILURES_PER_MINUTE: '3' });
    try {
      const attempt = (password: string) =>
        rawRequest(`${limited.url}/api/login`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ username: 'demo', password }),
        });
      for (let i = 0; i < 3; i++) expect((await attempt('wrong')).status).toBe(401);
      const refused = await attempt('demo');
      expect(refused.status).toBe(429);
      expect(errorCodeOf(refused)).toBe('too_many_requests');
      const retryAfter = Number(refused.headers['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    } finally {
      await limited.close(0);
      dir.remove();
    }
  });

  it('a user gets at most MAX_CONNECTIONS_PER_USER streams (429 + Retry-After), the server MAX_CONNECTIONS (503)', async () => {
    const dir = tempDataDir();
    const limited = await startTestServer({
      DATA_DIR: dir.dir,
      MAX_CONNECTIONS_PER_USER: '2',
      MAX_CONNECTIONS: '3',
    });
    const streams: { cancel(): void }[] = [];
    try {
      const guestAuth = { Authorization: `Bearer ${await login(limited.url, 'guest')}` };
      const demoAuth = { Authorization: `Bearer ${await login(limited.url, 'demo')}` };
      const list = `${limited.url}/api/events`;
      for (let i = 0; i < 2; i++) {
        const s = await openStream(list, guestAuth);
        streams.push(s);
        expect(s.res.status).toBe(200);
      }
      const third = await rawRequest(list, { headers: { ...guestAuth, Accept: 'text/event-stream' } });
      expect(third.status).toBe(429);
      expect(errorCodeOf(third)).toBe('too_many_connections');
      expect(Number(third.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      // Another user is not affected by the guest's cap...
      const ofDemo = await openStream(list, demoAuth);
      streams.push(ofDemo);
      expect(ofDemo.res.status).toBe(200);
      // ...but the server's total is 3.
      const fourth = await rawRequest(list, { headers: { ...demoAuth, Accept: 'text/event-stream' } });
      expect(fourth.status).toBe(503);
      expect(errorCodeOf(fourth)).toBe('too_many_connections');
      expect(Number(fourth.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      // A closed stream gives its place back.
      streams[0]?.cancel();
      const again = await eventually(async () => {
        const s = await openStream(list, guestAuth);
        if (s.res.status === 200) return s;
        s.cancel();
        return undefined;
      });
      streams.push(again);
    } finally {
      for (const s of streams) s.cancel();
      await limited.close(0);
      dir.remove();
    }
  });
});
