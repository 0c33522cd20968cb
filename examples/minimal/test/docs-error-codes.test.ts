// docs/troubleshooting.md explains every error code and reset reason the packages can produce: the
// codes are read from the sources (`…Code` unions, `ResetReason`, single-code error classes), so
// a new code without an entry in the doc fails here.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts') || name.endsWith('.tsx'))
    .map((name) => join(dir, name));
}

function codesIn(source: string): string[] {
  const codes: string[] = [];
  for (const [, union] of source.matchAll(/export type \w*(?:Code|ResetReason)\s*=([^;]+);/g)) {
    for (const [, literal] of (union as string).matchAll(/'([a-z_]+)'/g)) codes.push(literal as string);
  }
  for (const [, code] of source.matchAll(/extends RepoPulseError<'([a-z_]+)'>/g)) codes.push(code as string);
  return codes;
}

const codes = [
  ...new Set(
    readdirSync(join(ROOT, 'packages'))
      .flatMap((pkg) => sourceFiles(join(ROOT, 'packages', pkg, 'src')))
      .flatMap((file) => codesIn(readFileSync(file, 'utf8'))),
  ),
].sort();

it('finds the error codes in the sources', () => {
  expect(codes).toEqual(
    expect.arrayContaining(['bus_closed', 'invalid_payload', 'unknown_option', 'expired']),
  );
});

it.each(codes)('docs/troubleshooting.md explains `%s`', (code) => {
  const doc = readFileSync(join(ROOT, 'docs/troubleshooting.md'), 'utf8');
  expect(doc).toMatch(new RegExp(`^\\|[^\\n]*\`${code}\``, 'm')); // a table row naming it
});
