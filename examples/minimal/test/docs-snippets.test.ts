// Every code block of the user docs is a copy of a file that is compiled and tested: a marker line
// before the block names it (`<!-- file: path -->`: the whole file; `<!-- excerpt: path -->`: a
// contiguous part of it). A docs change that breaks the example, or an example change the docs do
// not show, fails here.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const EXAMPLE = resolve(import.meta.dirname, '..');

/** The docs whose code must be checked (docs maintained elsewhere, e.g. the generated benchmarks, are not listed). */
const DOCS = [
  'README.md',
  'CONTRIBUTING.md',
  'docs/getting-started.md',
  'docs/frameworks.md',
  'docs/serverless.md',
  'docs/protocol.md',
  'docs/delivery-guarantee.md',
  'docs/publishing-from-transactions.md',
  'docs/scaling.md',
  'docs/proxies-and-hosting.md',
  'docs/migrating-from-polling.md',
  'docs/troubleshooting.md',
  'docs/security-and-limits.md',
  'docs/observability.md',
];
/**
 * Blocks in these languages must carry a marker; others (`sh`, `http`, `text`, `nginx`…) are
 * illustrations, checked only when they carry one.
 */
const CODE = new Set(['ts', 'tsx', 'js', 'html']);

interface Block {
  doc: string;
  line: number;
  lang: string;
  marker: { kind: 'file' | 'excerpt'; path: string } | undefined;
  code: string;
}

function blocksOf(doc: string): Block[] {
  const lines = readFileSync(join(ROOT, doc), 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)/.exec(lines[i] as string);
    if (!open) continue;
    const end = lines.indexOf('```', i + 1);
    let before = i - 1;
    while (before >= 0 && (lines[before] as string).trim() === '') before--;
    const m = /^<!-- (file|excerpt): (\S+) -->$/.exec(lines[before] ?? '');
    blocks.push({
      doc,
      line: i + 1,
      lang: open[1] ?? '',
      marker: m ? { kind: m[1] as 'file' | 'excerpt', path: m[2] as string } : undefined,
      code: lines.slice(i + 1, end).join('\n'),
    });
    i = end;
  }
  return blocks;
}

const blocks = DOCS.flatMap(blocksOf);

describe('docs code blocks are copies of compiled, tested files', () => {
  const checked = blocks.filter((b) => b.marker || CODE.has(b.lang));
  it.each(checked.map((b) => [`${b.doc}:${b.line}`, b] as const))('%s', (_where, block) => {
    expect(
      block.marker,
      `${block.doc}:${block.line} needs a <!-- file: … --> or <!-- excerpt: … --> line`,
    ).toBeDefined();
    const { kind, path } = block.marker as NonNullable<Block['marker']>;
    const source = readFileSync(join(ROOT, path), 'utf8').trimEnd();
    if (kind === 'file') expect(block.code, `${path} differs from ${block.doc}:${block.line}`).toBe(source);
    else expect(source, `${block.doc}:${block.line} is not a part of ${path}`).toContain(block.code);
  });

  it('getting-started shows every file of examples/minimal (src, public, tsconfig.json), whole', () => {
    const files = ['src', 'public'].flatMap((dir) =>
      readdirSync(join(EXAMPLE, dir)).map((name) => relative(ROOT, join(EXAMPLE, dir, name))),
    );
    files.push(relative(ROOT, join(EXAMPLE, 'tsconfig.json')));
    const shown = blocks
      .filter((b) => b.doc === 'docs/getting-started.md' && b.marker?.kind === 'file')
      .map((b) => b.marker?.path);
    expect(shown.sort()).toEqual(files.sort());
  });
});
