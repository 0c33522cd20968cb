import type { AnyEnvelope } from '@repopulse/events-core';
import { deleteKeys, reachableRedis, redisUrl, requirement } from '@repopulse/test-support';
import { afterAll, describe, expect, it } from 'vitest';
import { client, login, startTestServer, tempDataDir } from './support/test-server';

const REDIS_URL = await reachableRedis();
const redisMode = requirement(
  'repo-wiki topic reuse',
  REDIS_URL ? undefined : `no Redis at ${redisUrl()}`,
  'the Redis id-reuse test',
);

describe.skipIf(redisMode === 'skip')('a reused repository id on Redis', () => {
  const prefix = `repo-wiki-reuse:${process.pid}:${Date.now()}:`;
  const cleanups: (() => unknown)[] = [];
  afterAll(async () => {
    for (const fn of cleanups.reverse()) await fn();
    await deleteKeys(REDIS_URL as string, prefix);
  });

  /** Everything a long-poll from the very start (`0-0`) returns. */
  async function history(url: string, token: string): Promise<AnyEnvelope[]> {
    const res = await fetch(`${url}?after=0-0&wait=0`, {
      headers: { Accept: 'application/json', Authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { events: { event: AnyEnvelope }[] };
    return body.events.map((d) => d.event);
  }

  async function waitReady(api: ReturnType<typeof client>, id: number) {
    const deadline = Date.now() + 15_000;
    while ((await api.get(`/api/repositories/${id}`)).json.repository.status !== 'ready') {
      if (Date.now() > deadline) throw new Error('clone did not finish');
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  it("after a database reset with the same Redis, the new repository 1 never replays the old one's events", async () => {
    const env = { REDIS_URL: REDIS_URL as string, REDIS_PREFIX: prefix };
    const before = tempDataDir();
    cleanups.push(() => before.remove());
    const first = await startTestServer({ ...env, DATA_DIR: before.dir });
    const admin = client(first.url, await login(first.url, 'demo'));
    const old = (await admin.post('/api/repositories', { url: 'https://github.com/admin/secret-plans' })).json
      .repository.id as number;
    expect(old).toBe(1);
    await waitReady(admin, old);
    await first.close(0);

    // A fresh database (reset), the same Redis: ids start at 1 again.
    const after = tempDataDir();
    cleanups.push(() => after.remove());
    const second = await startTestServer({ ...env, DATA_DIR: after.dir });
    cleanups.push(() => second.close(0));
    const guestToken = await login(second.url, 'guest');
    const guest = client(second.url, guestToken);
    const reused = (await guest.post('/api/repositories', { url: 'https://github.com/guest/new' })).json
      .repository.id as number;
    expect(reused).toBe(1);
    await waitReady(guest, reused);

    const repoEvents = await history(`${second.url}/api/repositories/${reused}/events`, guestToken);
    expect(repoEvents.some((e) => e.type === 'repo.created')).toBe(true);
    expect(JSON.stringify(repoEvents)).not.toContain('secret-plans');
    expect(repoEvents.filter((e) => e.type === 'repo.created')).toHaveLength(1);
    // The admin's list topic of the new database does not replay the old database's either.
    const listEvents = await history(`${second.url}/api/events`, await login(second.url, 'demo'));
    expect(JSON.stringify(listEvents)).not.toContain('secret-plans');
    expect(
      listEvents.some((e) => e.type === 'repo.created' && e.payload.url === 'https://github.com/guest/new'),
    ).toBe(true);
  }, 60_000);
});
