import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StreamServer, startStreamServer, TOKEN } from './helpers/stream-server';

const BIN = join(import.meta.dirname, '../src/bin.ts');

/** Runs the `repopulse` executable (from source, through tsx) as its own process. */
function repopulse(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=@repopulse/source', '--import', 'tsx', BIN, ...args],
      { env: { ...process.env, NO_COLOR: '', FORCE_COLOR: '', ...env }, timeout: 15_000 },
      (error, stdout, stderr) => resolve({ code: error ? (error.code as number) : 0, stdout, stderr }),
    );
  });
}

describe('the repopulse executable', () => {
  let server: StreamServer;
  beforeAll(async () => {
    server = await startStreamServer();
  });
  afterAll(() => server.close());

  it('replays as NDJSON and exits 0; refuses with exit codes and one-line messages', async () => {
    const positions = await server.publish(['r1', 'r2']);
    const ok = await repopulse(['replay', server.url, '--from-start', '--json', '--token', TOKEN]);
    expect(ok).toMatchObject({ code: 0, stderr: '' });
    expect(
      ok.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).position),
    ).toEqual(positions);

    const denied = await repopulse(['replay', server.url]);
    expect(denied.code).toBe(3);
    expect(denied.stderr).toBe(
      '[repopulse] /api/repositories/1/events: HTTP 401 unauthorized: log in first\n',
    );

    const usage = await repopulse(['tail']);
    expect(usage.code).toBe(2);
    expect((await repopulse(['--help'])).stdout).toContain('Usage:');
  });

  it('stops a tail on SIGINT with exit 130', async () => {
    const child = execFile(process.execPath, [
      '--conditions=@repopulse/source',
      '--import',
      'tsx',
      BIN,
      'tail',
      server.url,
      '--json',
      '--token',
      TOKEN,
    ]);
    let out = '';
    child.stdout?.on('data', (chunk) => {
      out += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Publish until the tail prints (it starts at the head once it has connected).
    while (!out) {
      await server.publish(['live']);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(JSON.parse(out.split('\n')[0]!).event.request_id).toBe('live');
  });
});
