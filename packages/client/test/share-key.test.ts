// The lock/channel name of a shared stream: equal only for the same URL and credentials, and free
// of the credentials themselves (Node has crypto.subtle and Headers, as browsers do); and the
// share options checked before anything starts.
import { describe, expect, it } from 'vitest';
import { createSharedEventStream } from '../src/share';
import { channelName } from '../src/share/channel-name';

const URL_A = 'https://app.test/api/events';

describe('channelName', () => {
  it('is equal for the same URL and headers, whatever the header order or case', async () => {
    const a = await channelName(URL_A, { headers: { Authorization: 'Bearer t1', 'X-Team': '7' } }, {});
    const b = await channelName(
      URL_A,
      {
        headers: [
          ['x-team', '7'],
          ['authorization', 'Bearer t1'],
        ],
      },
      {},
    );
    expect(a).toBe(b);
    expect(a).toMatch(/^repopulse:[A-Za-z0-9+/]{43}=$/); // a SHA-256, base64
  });

  it('differs for other credentials, another credentials mode, or another URL', async () => {
    const base = await channelName(URL_A, { headers: { Authorization: 'Bearer t1' } }, {});
    const names = await Promise.all([
      channelName(URL_A, { headers: { Authorization: 'Bearer t2' } }, {}),
      channelName(URL_A, { headers: { Authorization: 'Bearer t1' }, credentials: 'include' }, {}),
      channelName(`${URL_A}?v=2`, { headers: { Authorization: 'Bearer t1' } }, {}),
      channelName(URL_A, {}, {}),
    ]);
    expect(new Set([base, ...names]).size).toBe(5);
  });

  it('uses the caller key instead of the headers: rotating tokens of one user still meet', async () => {
    const a = await channelName(URL_A, { headers: { Authorization: 'Bearer old' } }, { key: 'user:1' });
    const b = await channelName(URL_A, { headers: { Authorization: 'Bearer new' } }, { key: 'user:1' });
    const c = await channelName(URL_A, { headers: { Authorization: 'Bearer new' } }, { key: 'user:2' });
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });

  it('calls a headers function once, without refresh, and never puts a token in the name', async () => {
    const calls: boolean[] = [];
    const name = await channelName(
      URL_A,
      {
        headers: ({ refresh }) => {
          calls.push(refresh);
          return { Authorization: 'Bearer secret-token' };
        },
      },
      {},
    );
    expect(calls).toEqual([false]);
    expect(name).not.toContain('secret');
    expect(name).toBe(await channelName(URL_A, { headers: { Authorization: 'Bearer secret-token' } }, {}));
  });

  it('rejects when the headers function throws (the stream then shares with no one)', async () => {
    await expect(
      channelName(
        URL_A,
        {
          headers: () => {
            throw new Error('no token');
          },
        },
        {},
      ),
    ).rejects.toThrow('no token');
  });
});

describe('share options', () => {
  it.each([
    [{ histroy: 10 }, 'share.histroy'],
    [{ history: -1 }, 'share.history'],
    [{ history: Number.NaN }, 'share.history'],
  ])('refuses %j with a typed error naming it', (share, name) => {
    expect(() => createSharedEventStream(URL_A, { share: share as never })).toThrow(
      expect.objectContaining({ code: 'invalid_argument', fatal: true }),
    );
    expect(() => createSharedEventStream(URL_A, { share: share as never })).toThrow(name);
  });
});
