// The client's declarations as a consumer compiles them, with `skipLibCheck: false`: they emit and
// type-check without errors (events-core, a regular dependency, resolves), and event names and
// payloads are typed (a misspelled type is a compile error, not `any`).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const clientDir = fileURLToPath(new URL('..', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const dir = mkdtempSync(join(tmpdir(), 'repopulse-client-types-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs tsc; returns its output ('' when it passed). */
function compile(args: string[]): string {
  try {
    execFileSync(process.execPath, [tsc, ...args], { encoding: 'utf8', cwd: clientDir });
    return '';
  } catch (error) {
    return String((error as { stdout?: string }).stdout || error);
  }
}

/** Type-checks `sources` (file name → code) as consumers of the emitted declarations, with skipLibCheck off. */
function consume(sources: Record<string, string>): string {
  for (const [name, source] of Object.entries(sources)) writeFileSync(join(dir, `${name}.ts`), source);
  const config = {
    compilerOptions: {
      target: 'ES2022',
      lib: ['ES2022', 'DOM', 'DOM.Iterable'],
      module: 'ESNext',
      moduleResolution: 'Bundler',
      customConditions: ['@repopulse/source'],
      strict: true,
      skipLibCheck: false,
      noEmit: true,
      jsx: 'react-jsx',
      types: [],
      typeRoots: [join(clientDir, '../../node_modules/@types')],
      paths: {
        '@repopulse/client': [join(dir, 'decl/index.d.ts')],
        '@repopulse/client/react': [join(dir, 'decl/react.d.ts')],
        '@repopulse/events-core': [join(clientDir, '../events-core/src/index.ts')],
        react: [join(clientDir, '../../node_modules/@types/react/index.d.ts')],
      },
    },
    files: Object.keys(sources).map((name) => join(dir, `${name}.ts`)),
  };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(config));
  return compile(['-p', join(dir, 'tsconfig.json')]);
}

describe('published declarations', () => {
  it('emit from the sources without errors', () => {
    expect(compile(['-p', 'tsconfig.json', '--emitDeclarationOnly', '--outDir', join(dir, 'decl')])).toBe('');
  }, 120_000);

  it('type-check in a consumer with skipLibCheck: false, typed by the event catalog', () => {
    const output = consume({
      typed: `import { createEventStream } from '@repopulse/client';
import { useEventStream } from '@repopulse/client/react';
const stream = createEventStream('https://example.test/events', { lastEventId: '1-0' });
stream.on('task.progress', (event, position) => {
  const percent: number | undefined = event.payload.percent;
  const where: string = position;
  void percent;
  void where;
});
// @ts-expect-error a misspelled event type does not compile
stream.on('task.progres', () => {});
// @ts-expect-error the payload is typed: percent is a number
stream.on('task.progress', (event) => event.payload.percent?.toUpperCase());
// @ts-expect-error unknown options do not compile either
createEventStream('https://example.test/events', { lastEventID: '1-0' });
export const useIt = () => useEventStream('/events').on('repo.status_changed', (e) => e.payload.to);
`,
      // The control: without the directive, the misspelling is reported (so the directives above
      // are satisfied by real errors, not by the declarations failing to load).
      misspelled: `import { createEventStream } from '@repopulse/client';
createEventStream('https://example.test/events').on('task.progres', () => {});
`,
    });
    const errors = output.split('\n').filter((line) => /error TS\d+/.test(line));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/misspelled\.ts\(2,\d+\): error TS2769: No overload matches this call/);
    expect(output).toMatch(/task\.progres/);
  }, 120_000);
});
