import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { isRepoPulseError } from '@repopulse/events-core';
import { afterEach, describe, expect, it } from 'vitest';
import { type CheckResult, runConformance } from '../src/index';
import { type Defect, startServer, type TestServer } from './helpers/server';

const BIN = join(import.meta.dirname, '../src/bin.ts');

/** Runs the executable (from source, through tsx) as its own process. */
function conformance(args: string[]) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=@repopulse/source', '--import', 'tsx', BIN, ...args],
      { timeout: 30_000 },
      (error, stdout, stderr) => resolve({ code: error ? (error.code as number) : 0, stdout, stderr }),
    );
  });
}

const byName = (results: CheckResult[]) => Object.fromEntries(results.map((r) => [r.name, r]));

describe('the conformance kit', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('passes every check against a conforming server (sse-express), token and forbidden URL given', async () => {
    server = await startServer();
    const results = await runConformance({
      url: server.url,
      token: server.token,
      forbiddenUrl: server.forbiddenUrl,
    });
    expect(results.filter((r) => r.status !== 'pass')).toEqual([]);
    expect(results.map((r) => r.name)).toContain('sse-resume-header');
    expect(results.length).toBeGreaterThanOrEqual(15);
  });

  it.each<[Defect, string, RegExp]>([
    ['ignores-last-event-id', 'sse-resume-header', /^after Last-Event-ID \S+ expected \S+ first, got "\S+"$/],
    ['wrong-content-type', 'sse-headers', /expected Content-Type text\/event-stream, got "text\/plain/],
    ['no-id-lines', 'sse-framing', /event 1 of the replay has id "", not a <ms>-<seq> position/],
  ])('fails clearly against a server that %s: %s', async (defect, check, reason) => {
    server = await startServer({ defect });
    const results = byName(await runConformance({ url: server.url, token: server.token, timeoutMs: 1000 }));
    expect(results[check]).toMatchObject({ status: 'fail', reason: expect.stringMatching(reason) });
    // Checks the defect does not touch still pass.
    expect(results['long-poll-reset']?.status).toBe('pass');
    expect(results['method-not-allowed']?.status).toBe('pass');
    expect(results.forbidden?.status).toBe('skip');
  });

  it('fails the replay checks, saying why, when the topic holds fewer events than --min-events', async () => {
    server = await startServer({ events: 1 });
    const results = byName(await runConformance({ url: server.url, token: server.token, timeoutMs: 500 }));
    expect(results['sse-framing']).toMatchObject({
      status: 'fail',
      reason: expect.stringContaining(
        'gave 1 event(s) within 500 ms; the topic must hold at least 3 (--min-events)',
      ),
    });
    expect(results['sse-headers']?.status).toBe('pass');
  });

  it('refuses bad options with a typed error', async () => {
    for (const options of [
      { url: 'ftp://x' },
      { url: 'http://x', minEvents: 2 },
      { url: 'http://x', tokn: 'a' },
    ]) {
      const error = await runConformance(options as never).catch((e: unknown) => e);
      expect(isRepoPulseError(error), JSON.stringify(options)).toBe(true);
      expect(String((error as Error).message)).toMatch(/^\[repopulse\] runConformance:/);
    }
  });

  it('the executable prints one line per check and exits 0, 1 on a failure, 2 on a usage error', async () => {
    server = await startServer();
    const ok = await conformance([server.url, '--token', server.token]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('✓ sse-resume-header: ');
    expect(ok.stdout).toMatch(/\d+ passed, 0 failed, 1 skipped\n$/);
    await server.close();
    server = await startServer({ defect: 'ignores-last-event-id' });
    const broken = await conformance([server.url, '--token', server.token, '--timeout-ms', '1000']);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/✗ sse-resume-header: .*\n {4}FAIL: after Last-Event-ID/);
    expect(await conformance([])).toMatchObject({ code: 2, stderr: expect.stringContaining('Usage:') });
  }, 60_000);
});
