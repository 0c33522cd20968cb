import { createEvent } from '@repopulse/events-core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run, start } from './helpers/run';
import { closedPort, type StreamServer, startStreamServer, TOKEN } from './helpers/stream-server';

let server: StreamServer;
beforeEach(async () => {
  server = await startStreamServer();
});
afterEach(() => server.close());

const auth = ['--token', TOKEN];
const parse = (lines: string[]) => lines.map((line) => JSON.parse(line));
const ESC = '\x1b[';

describe('replay', () => {
  it('prints the retained history in order up to the head and exits 0', async () => {
    const positions = await server.publish(['r1', 'r1', 'r2', 'r3']);
    const result = await run(['replay', server.url, '--from-start', '--json', ...auth]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const items = parse(result.lines);
    expect(items.map((i) => i.position)).toEqual(positions);
    expect(items.map((i) => i.event.request_id)).toEqual(['r1', 'r1', 'r2', 'r3']);
    expect(items[0].event).toMatchObject({ type: 'task.progress', repo_id: '1', task_id: '1' });
  });

  it('replays from the start without --from-start, and --after skips what came before', async () => {
    const positions = await server.publish(['a', 'b', 'c']);
    expect(parse((await run(['replay', server.url, '--json', ...auth])).lines)).toHaveLength(3);
    const after = await run(['replay', server.url, '--after', positions[0]!, '--json', ...auth]);
    expect(after.code).toBe(0);
    expect(parse(after.lines).map((i) => i.position)).toEqual(positions.slice(1));
    const atHead = await run(['replay', server.url, '--after', positions[2]!, '--json', ...auth]);
    expect([atHead.code, atHead.stdout]).toEqual([0, '']);
  });

  it('exits 0 with nothing on an empty stream', async () => {
    expect(await run(['replay', server.url, ...auth])).toMatchObject({ code: 0, stdout: '', stderr: '' });
  });

  it('filters by request id and by type (exact and prefix); the end is still the head', async () => {
    await server.publish(['x', 'y'], 'task.progress');
    await server.publish(['x', 'y'], 'log.append');
    await server.publish(['z'], 'task.progress'); // the head does not match the filters
    const byRequest = parse(
      (await run(['replay', server.url, '--request-id', 'x', '--json', ...auth])).lines,
    );
    expect(byRequest.map((i) => [i.event.type, i.event.request_id])).toEqual([
      ['task.progress', 'x'],
      ['log.append', 'x'],
    ]);
    const byType = parse(
      (await run(['replay', server.url, '--type', 'log.append', '--json', ...auth])).lines,
    );
    expect(byType.map((i) => i.event.type)).toEqual(['log.append', 'log.append']);
    const both = await run([
      'replay',
      server.url,
      '--type',
      'log.*,doc.created',
      '--request-id',
      'y',
      '--json',
      ...auth,
    ]);
    expect(parse(both.lines).map((i) => [i.event.type, i.event.request_id])).toEqual([['log.append', 'y']]);
  });

  it('works the same against a long-poll-only server', async () => {
    const positions = await server.publish(['p1', 'p2', 'p3']);
    const result = await run(['replay', server.pollUrl, '--from-start', '--json', ...auth]);
    expect(result.code).toBe(0);
    expect(parse(result.lines).map((i) => i.position)).toEqual(positions);
  });

  it('follows capped long-poll answers to the head (longPollMaxEvents), every event once, in order', async () => {
    const capped = await startStreamServer({ longPollMaxEvents: 4 });
    try {
      const positions = await capped.publish(Array.from({ length: 15 }, (_, i) => `c${i}`));
      const result = await run(['replay', capped.pollUrl, '--from-start', '--json', ...auth]);
      expect(result.code).toBe(0);
      expect(parse(result.lines).map((i) => i.position)).toEqual(positions);
    } finally {
      await capped.close();
    }
  });

  it('carries trace context: the whole traceparent and tracestate with --json, the trace id as a column', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const event = createEvent(
      'log.append',
      { level: 'info', message: 'traced' },
      { request_id: 'r-t', traceparent, tracestate: 'v=1' },
    );
    await server.bus.publish('repo:1', event);
    const [item] = parse((await run(['replay', server.url, '--json', ...auth])).lines);
    expect(item.event).toMatchObject({ traceparent, tracestate: 'v=1' });
    const [line] = (await run(['replay', server.url, ...auth])).lines;
    expect(line).toContain('req=r-t trace=4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it('prints readable lines: time, position, type, ids, payload summary; colour only on a TTY without NO_COLOR', async () => {
    const [position] = await server.publish(['req-7'], 'log.append');
    const plain = await run(['replay', server.url, ...auth]);
    expect(plain.lines).toHaveLength(1);
    const line = plain.lines[0]!;
    expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z {2}/);
    expect(line).toContain(position!);
    expect(line).toContain('log.append');
    expect(line).toContain('repo=1 task=1 req=req-7');
    expect(line).toContain('[info] line 1');
    expect(line).not.toContain(ESC);
    expect((await run(['replay', server.url, ...auth], {}, true)).stdout).toContain(ESC);
    expect((await run(['replay', server.url, ...auth], { NO_COLOR: '1' }, true)).stdout).not.toContain(ESC);
    expect((await run(['replay', server.url, '--no-color', ...auth], {}, true)).stdout).not.toContain(ESC);
    expect((await run(['replay', server.url, ...auth], { FORCE_COLOR: '1' })).stdout).toContain(ESC);
  });
});

describe('a trimmed history', () => {
  let trimmed: StreamServer;
  beforeEach(async () => {
    trimmed = await startStreamServer({ historyLimit: 3 });
  });
  afterEach(() => trimmed.close());

  it.each([
    ['SSE', 'url'],
    ['long-poll', 'pollUrl'],
  ] as const)(
    'replay --from-start (%s) prints the reset, then the retained tail up to the head',
    async (_, key) => {
      const positions = await trimmed.publish(['e1', 'e2', 'e3', 'e4', 'e5']);
      const result = await run(['replay', trimmed[key], '--from-start', '--json', ...auth]);
      expect(result.code).toBe(0);
      const [reset, ...events] = parse(result.lines);
      expect(reset).toEqual({
        reset: true,
        reason: 'expired',
        position: positions[4],
        retainedAfter: positions[1],
      });
      expect(events.map((i) => i.event.request_id)).toEqual(['e3', 'e4', 'e5']);
      expect(events.map((i) => i.position)).toEqual(positions.slice(2));

      const readable = await run(['replay', trimmed[key], ...auth]);
      expect(readable.lines[0]).toBe(
        `── reset (expired): history up to ${positions[1]} is not retained; replaying the retained events after it`,
      );
      expect(readable.lines.slice(1).map((line) => line.includes('req='))).toEqual([true, true, true]);
    },
  );

  it('tail --from-start prints the reset, the retained tail, then live events', async () => {
    const positions = await trimmed.publish(['e1', 'e2', 'e3', 'e4']);
    const tail = start(['tail', trimmed.url, '--from-start', '--json', ...auth]);
    await tail.stdout.until((out) => out.lines.length === 4);
    const live = await trimmed.publish(['l1']);
    await tail.stdout.until((out) => out.lines.length === 5);
    tail.stop();
    expect(await tail.exit).toBe(130);
    const [reset, ...events] = parse(tail.stdout.lines);
    expect(reset).toMatchObject({ reset: true, reason: 'expired', retainedAfter: positions[0] });
    expect(events.map((i) => i.position)).toEqual([...positions.slice(1), ...live]);
    expect(tail.stderr.text).toBe('');
  });

  it('--after an evicted position keeps the plain reset: it goes on from the head', async () => {
    const positions = await trimmed.publish(['e1', 'e2', 'e3', 'e4', 'e5']);
    const result = await run(['replay', trimmed.url, '--after', positions[0]!, ...auth]);
    expect(result.code).toBe(0);
    expect(result.lines).toEqual([
      `── reset (expired): history before ${positions[4]} is not retained; continuing from there`,
    ]);
  });
});

describe('tail', () => {
  it('starts at the head, prints new events as they come, stops on Ctrl-C with 130', async () => {
    await server.publish(['old']);
    const tail = start(['tail', server.url, '--json', '-H', `Authorization: Bearer ${TOKEN}`]);
    await until(() => server.streams() === 1);
    const positions = await server.publish(['new1', 'new2']);
    await tail.stdout.until((out) => out.lines.length === 2);
    tail.stop();
    expect(await tail.exit).toBe(130);
    expect(parse(tail.stdout.lines).map((i) => i.position)).toEqual(positions);
    expect(tail.stderr.text).toBe('');
  });

  it('--from-start replays the history, then follows live', async () => {
    const history = await server.publish(['h1', 'h2']);
    const tail = start(['tail', server.url, '--from-start', '--json', ...auth]);
    await tail.stdout.until((out) => out.lines.length === 2);
    const live = await server.publish(['l1']);
    await tail.stdout.until((out) => out.lines.length === 3);
    tail.stop();
    expect(await tail.exit).toBe(130);
    expect(parse(tail.stdout.lines).map((i) => i.position)).toEqual([...history, ...live]);
  });

  it.each([
    ['SSE', 'url', 'SSE'],
    ['long-poll', 'pollUrl', 'long-poll'],
  ] as const)(
    'resumes after a dropped connection (%s): every event once, in order, and says so',
    async (_, key, transport) => {
      const tail = start(['tail', server[key], '--from-start', '--json', ...auth]);
      const first = await server.publish(['a', 'b']);
      await tail.stdout.until((out) => out.lines.length === 2);
      server.dropConnections();
      const second = await server.publish(['c', 'd', 'e']);
      await tail.stdout.until((out) => out.lines.length === 5);
      await tail.stderr.until((err) => err.text.includes('reconnected'));
      tail.stop();
      expect(await tail.exit).toBe(130);
      expect(parse(tail.stdout.lines).map((i) => i.position)).toEqual([...first, ...second]);
      expect(tail.stderr.text).toMatch(/connection lost; reconnecting to resume after \d+-\d+/);
      expect(tail.stderr.text).toContain(`reconnected (${transport}); resuming after ${first[1]}`);
    },
  );

  it('ends with exit 3 when its credentials stop being accepted mid-stream', async () => {
    const tail = start(['tail', server.url, '--json', ...auth]);
    await until(() => server.streams() === 1);
    server.revoke();
    server.dropConnections();
    expect(await tail.exit).toBe(3);
    expect(tail.stderr.text).toMatch(/unauthorized \(HTTP 401\): log in first\n$/);
  });

  it('gives up with exit 7 once --max-retries reconnects failed', async () => {
    const tail = start(['tail', server.url, '--max-retries', '1', ...auth]);
    await until(() => server.streams() === 1);
    await server.close();
    expect(await tail.exit).toBe(7);
    expect(tail.stderr.text).toContain('retries_exhausted');
    server = await startStreamServer(); // for afterEach
  });
});

describe('refusals and usage', () => {
  it.each([
    ['no credentials', [], 'url', 3, 'HTTP 401 unauthorized: log in first'],
    ['a token for someone else', ['--token', 'other'], 'url', 4, 'HTTP 403'],
    ['an unknown repository', auth, 'missing', 5, 'HTTP 404 not_found: repository 2 does not exist'],
    ['a malformed id', auth, 'bad', 6, 'HTTP 400 invalid_parameter: id must be a number'],
  ])('%s → exit %i and one line', async (_, args, which, code, message) => {
    for (const command of ['tail', 'replay']) {
      const url =
        which === 'url'
          ? server.url
          : `${server.origin}/api/repositories/${which === 'bad' ? 'x' : 2}/events`;
      const result = await run([command, url, ...args]);
      expect(result.code).toBe(code);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(message);
      expect(result.stderr.startsWith('[repopulse] ')).toBe(true);
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
  });

  it('an unreachable server → exit 7 and one line', async () => {
    const result = await run(['replay', `http://127.0.0.1:${await closedPort()}/api/events`]);
    expect(result.code).toBe(7);
    expect(result.stderr).toMatch(
      /^\[repopulse\] cannot reach http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED.*\n$/,
    );
  });

  it('a server that is not a RepoPulse stream → exit 1', async () => {
    const result = await run(['replay', `${server.origin}/plain`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('/plain is not a RepoPulse event stream');
  });

  it.each([
    [['tail'], 'tail needs the stream URL'],
    [['tail', 'not a url'], 'not a URL'],
    [['tail', 'ftp://x/y'], 'not an http(s) URL'],
    [['push', 'http://x'], 'unknown command "push"'],
    [['tail', 'http://x', '--bogus'], "Unknown option '--bogus'"],
    [['tail', 'http://x', '--after', 'yesterday'], '--after expects a stream position'],
    [['tail', 'http://x', '--after', '1-0', '--from-start'], 'not both'],
    [['tail', 'http://x', '-H', 'no colon'], "-H expects 'Name: value'"],
    [['tail', 'http://x', '--type', 'a b'], '--type: not an event type'],
    [['tail', 'http://x', '--max-retries', '-1'], '--max-retries'],
    [['tail', 'http://x', 'extra'], 'unexpected argument "extra"'],
  ])('%j → exit 2: %s', async (argv, message) => {
    const result = await run(argv);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain('(see repopulse --help)');
  });

  it('--help prints usage and exits 0', async () => {
    for (const argv of [[], ['--help'], ['help']]) {
      const result = await run(argv);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('repopulse tail <url>');
      expect(result.stdout).toContain('Exit codes');
    }
    expect((await run(['replay', '--help'])).stdout).toContain('reads the stream from the starting point');
    expect((await run(['tail', '--help'])).stdout).toContain('resumes after the last event printed');
  });
});

/** Waits (event loop turns, no fixed sleeps) until `test` holds. */
async function until(test: () => boolean) {
  for (let i = 0; i < 2000 && !test(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(test()).toBe(true);
}
