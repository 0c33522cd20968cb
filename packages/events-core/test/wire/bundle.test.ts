import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const wire = join(import.meta.dirname, '../../src/wire/index.ts');

/** Bundles `names` of the wire module for a browser, minified and tree-shaken, as an app's bundler would. */
async function bundle(names: string[]): Promise<string> {
  const result = await build({
    stdin: { contents: `export { ${names.join(', ')} } from ${JSON.stringify(wire)};`, resolveDir: '.' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]?.text ?? '';
}

describe('the wire module in a browser bundle', () => {
  it('brings nothing but what a client imports: no error classes, no encoders', async () => {
    const code = await bundle([
      'createSseParser',
      'isAfter',
      'resetFromWire',
      'parseLongPollBody',
      'longPollUrl',
      'parseErrorBody',
    ]);
    expect(code).not.toContain('[repopulse]');
    expect(code).not.toContain('hasInstance');
    expect(code).not.toContain('event: reset');
    expect(code).not.toContain('retry: ');
    expect(code).toContain('retained_after');
  });

  it('adds only the parser when only the parser is imported', async () => {
    const code = await bundle(['createSseParser']);
    expect(code).not.toContain('retained_after');
    expect(code).not.toContain('last_event_id');
  });
});
