// The Fetch example under Bun and Deno themselves (their npm packages, devDependencies here): each
// runtime serves test/runtime-server.ts as its docs say (`bun run`, `deno serve`), and a real SSE
// client (the `eventsource` package) receives published events, then resumes with `Last-Event-ID`.
// Where a runtime's binary is missing the test is skipped with a warning; under CI it fails.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventSource } from 'eventsource';
import { afterEach, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

interface Runtime {
  name: string;
  /** The npm package (a devDependency) that brings the binary. */
  npmPackage: string;
  /** Where the binary may be in node_modules, `package/path`, first found wins. */
  binaries: readonly string[];
  /** How to serve `file` on `port`. */
  command(file: string, port: number): { args: string[]; env: Record<string, string> };
}

/** Node's CPU name as the runtimes' platform packages spell it (`arm64` is `aarch64` for Bun). */
const arch = (arm64: string) => (process.arch === 'arm64' ? arm64 : process.arch);

const RUNTIMES: Runtime[] = [
  {
    name: 'Bun',
    npmPackage: 'bun',
    binaries: ['bun/bin/bun.exe', `@oven/bun-${process.platform}-${arch('aarch64')}/bin/bun`],
    command: (file, port) => ({
      args: ['--conditions=@repopulse/source', 'run', file],
      env: { PORT: String(port) },
    }),
  },
  {
    name: 'Deno',
    npmPackage: 'deno',
    binaries: [
      'deno/deno',
      `@deno/${process.platform}-${arch('arm64')}${process.platform === 'linux' ? '-glibc' : ''}/deno`,
    ],
    command: (file, port) => ({
      args: [
        'serve',
        '--node-modules-dir=manual',
        '--conditions=@repopulse/source',
        '--unstable-sloppy-imports',
        '--allow-net=127.0.0.1',
        '--allow-read',
        '--allow-env',
        '--host=127.0.0.1',
        `--port=${port}`,
        file,
      ],
      env: { DENO_NO_UPDATE_CHECK: '1', DENO_NO_PROMPT: '1' },
    }),
  },
];

/** A binary smaller than this is the npm package's placeholder (its postinstall did not run). */
const PLACEHOLDER_BYTES = 1024 * 1024;

/**
 * The runtime's native binary in node_modules: where its package's postinstall links it, else
 * straight from the platform package it depends on (no install script needed).
 */
function binaryOf(candidates: readonly string[]): string | undefined {
  for (const candidate of candidates) {
    const [scope, name, ...rest] = candidate.split('/');
    const packageName = scope?.startsWith('@') ? `${scope}/${name}` : (scope as string);
    const inside = scope?.startsWith('@') ? rest : [name as string, ...rest];
    try {
      const path = join(dirname(require.resolve(`${packageName}/package.json`)), ...inside);
      if (existsSync(path) && statSync(path).size > PLACEHOLDER_BYTES) return path;
    } catch {
      // not installed
    }
  }
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

const children: ChildProcess[] = [];
const sources: EventSource[] = [];
afterEach(() => {
  for (const source of sources.splice(0)) source.close();
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

/** Starts `runtime` on a free port; resolves with the origin once it answers a long-poll. */
async function serveWith(runtime: Runtime, binary: string): Promise<string> {
  const port = await freePort();
  const { args, env } = runtime.command(join(here, 'runtime-server.ts'), port);
  const child = spawn(binary, args, { cwd: join(here, '..'), env: { ...process.env, ...env } });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      const response = await fetch(`${origin}/api/repositories/42/events?wait=0`, {
        headers: { Accept: 'application/json' },
      });
      if (response.ok) return origin;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${runtime.name} did not serve ${origin}:\n${output}`);
}

const publish = (origin: string, percent: number) =>
  fetch(`${origin}/publish`, { method: 'POST', body: JSON.stringify({ percent }) }).then(
    async (response) => ((await response.json()) as { position: string }).position,
  );

interface Received {
  id: string;
  percent: number;
}

/** Opens the stream (after `lastEventId` when given), calls `onOpen`, resolves with `count` events. */
function receive(
  origin: string,
  count: number,
  onOpen: () => Promise<unknown>,
  lastEventId?: string,
): Promise<Received[]> {
  const source = new EventSource(`${origin}/api/repositories/42/events`, {
    fetch: (url, init) =>
      fetch(url, {
        ...init,
        headers: { ...init?.headers, ...(lastEventId ? { 'Last-Event-ID': lastEventId } : {}) },
      }),
  });
  sources.push(source);
  const received: Received[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${received.length} of ${count} events`)), 10_000);
    let opened: Promise<unknown> | undefined;
    source.onopen = () => {
      opened ??= onOpen();
      opened.catch(reject);
    };
    source.addEventListener('task.progress', (message) => {
      received.push({ id: message.lastEventId, percent: JSON.parse(message.data).payload.percent });
      if (received.length < count) return;
      clearTimeout(timer);
      source.close();
      // The events may arrive before the publishes' responses: resolve once those are in too.
      void Promise.resolve(opened).then(() => resolve(received), reject);
    });
  });
}

for (const runtime of RUNTIMES) {
  const binary = binaryOf(runtime.binaries);
  const missing = `${runtime.name}: no binary from the \`${runtime.npmPackage}\` npm package (run \`npm install\`)`;
  if (!binary && process.env.CI !== 'true') console.warn(`SKIPPED ${missing}`);

  describe.skipIf(!binary && process.env.CI !== 'true')(`${runtime.name} serving the Fetch example`, () => {
    it('streams published events to an SSE client, which resumes with Last-Event-ID', async () => {
      if (!binary) throw new Error(missing);
      const origin = await serveWith(runtime, binary);
      const positions: string[] = [];
      const first = await receive(origin, 2, async () => {
        positions.push(await publish(origin, 10));
        positions.push(await publish(origin, 20));
      });
      expect(first).toEqual([
        { id: positions[0], percent: 10 },
        { id: positions[1], percent: 20 },
      ]);
      // Published while no client is connected: the resumed stream starts right after event 2.
      positions.push(await publish(origin, 30));
      const resumed = await receive(origin, 2, () => publish(origin, 40), first[1]?.id);
      expect(resumed.map((event) => event.percent)).toEqual([30, 40]);
      expect(resumed[0]?.id).toBe(positions[2]);
    });
  });
}
