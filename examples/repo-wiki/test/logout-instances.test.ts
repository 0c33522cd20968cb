import { deleteKeys, reachableRedis, redisUrl, requirement } from '@repopulse/test-support';
import { afterAll, describe, expect, it } from 'vitest';
import { client, login, startTestServer, tempDataDir } from './support/test-server';

const REDIS_URL = await reachableRedis();
const redisMode = requirement(
  'repo-wiki logout across instances',
  REDIS_URL ? undefined : `no Redis at ${redisUrl()}`,
  'the two-instance logout test',
);

describe.skipIf(redisMode === 'skip')('logout on one instance', () => {
  const prefix = `repo-wiki-logout:${process.pid}:${Date.now()}:`;
  const cleanups: (() => unknown)[] = [];
  afterAll(async () => {
    for (const fn of cleanups.reverse()) await fn();
    await deleteKeys(REDIS_URL as string, prefix);
  });

  it("ends the session's streams on the other instance too, and its token works on neither", async () => {
    const data = tempDataDir();
    cleanups.push(() => data.remove());
    const shared = { DATA_DIR: data.dir, REDIS_URL: REDIS_URL as string, REDIS_PREFIX: prefix };
    const a = await startTestServer({ ...shared, INSTANCE_ID: 'logout-a' });
    cleanups.push(() => a.close(0));
    const b = await startTestServer({ ...shared, INSTANCE_ID: 'logout-b' });
    cleanups.push(() => b.close(0));

    const token = await login(a.url, 'guest');
    const other = await login(a.url, 'guest');
    const open = (url: string, bearer: string) =>
      fetch(`${url}/api/events`, {
        headers: { Accept: 'text/event-stream', Authorization: `Bearer ${bearer}` },
      });
    const onB = await open(b.url, token);
    const otherOnB = await open(b.url, other);
    expect(onB.status).toBe(200);
    expect(otherOnB.status).toBe(200);
    const ended = (async () => {
      const reader = onB.body?.getReader();
      try {
        while (reader && !(await reader.read()).done) {}
      } catch {
        // destroyed: also an end
      }
      return 'ended';
    })();

    expect((await client(a.url, token).post('/api/logout')).status).toBe(204);
    const outcome = await Promise.race([
      ended,
      new Promise((resolve) => setTimeout(() => resolve('still open'), 10_000)),
    ]);
    expect(outcome).toBe('ended');
    for (const s of [a, b]) expect((await client(s.url, token).get('/api/me')).status).toBe(401);
    expect((await client(b.url, other).get('/api/me')).status).toBe(200);
    expect((b.streamStats() as { list: { streams: number } }).list.streams).toBe(1);
    await otherOnB.body?.cancel();
  }, 60_000);
});
