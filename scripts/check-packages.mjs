// Builds every published package, packs it as npm would publish it, and checks the tarball:
// - it holds only what belongs: package.json, README.md, LICENSE (the root's, unchanged) and the
//   build output (`dist/`, plus directories the package lists in `files`, e.g. client's `react/`
//   shim); no `src/`, tests or configs;
// - its package.json names no workspace-only path (the `@repopulse/source` condition is stripped by
//   the prepack step) and depends on siblings through caret ranges;
// - every source map embeds its sources (`sourcesContent`), which is why `src/` need not ship;
// - `publint --strict` (package.json and files agree) and `attw` (types resolve for ESM, CJS,
//   node10/16 and bundlers) are clean on the tarball itself;
// - packing left the package's package.json as it was;
// - the API reference covers every entry point: each export's source file is a TypeDoc entry point
//   (the package's own `typedoc.json`, else the root's `packageOptions.entryPoints`).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { BACKUP, SOURCE_CONDITION } from './pack-manifest.mjs';

const root = join(import.meta.dirname, '..');
const license = readFileSync(join(root, 'LICENSE'), 'utf8');
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
const packages = readdirSync(join(root, 'packages'))
  .map((dir) => join(root, 'packages', dir))
  .filter((dir) => !readJson(join(dir, 'package.json')).private)
  // `node scripts/check-packages.mjs events-core client` checks only those.
  .filter(
    (dir) => process.argv.length <= 2 || process.argv.slice(2).some((only) => dir.endsWith(`/${only}`)),
  );

const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: 'inherit' });
const bin = (name) => join(root, 'node_modules', '.bin', name);
const problems = [];
const fail = (name, message) => problems.push(`${name}: ${message}`);

function* filesUnder(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* filesUnder(path);
    else yield path;
  }
}

const defaultDocEntries = readJson(join(root, 'typedoc.json')).packageOptions.entryPoints;

/**
 * Subpaths that export a plain file rather than code (e.g. bus-postgres's `./schema.sql`): a string
 * target that is not JavaScript or JSON. They need no source condition, TypeDoc entry or types.
 */
function assetSubpaths(pkg) {
  return Object.entries(pkg.exports ?? {})
    .filter(([, target]) => typeof target === 'string' && !/\.(c|m)?js$|\.json$/.test(target))
    .map(([subpath]) => subpath);
}

/** The source files of a package's entry points, from the workspace `@repopulse/source` condition. */
function entrySources(pkg) {
  const assets = assetSubpaths(pkg);
  return Object.entries(pkg.exports ?? {})
    .filter(([subpath]) => subpath !== './package.json' && !assets.includes(subpath))
    .map(([subpath, target]) => [subpath, target?.[SOURCE_CONDITION]]);
}

const work = mkdtempSync(join(tmpdir(), 'repopulse-pack-'));
try {
  for (const dir of packages) {
    const manifestBefore = readFileSync(join(dir, 'package.json'), 'utf8');
    const pkg = JSON.parse(manifestBefore);
    const { name } = pkg;
    console.log(`\n== ${name}`);
    const docConfig = join(dir, 'typedoc.json');
    const docEntries =
      (existsSync(docConfig) ? readJson(docConfig).entryPoints : undefined) ?? defaultDocEntries;
    for (const [subpath, source] of entrySources(pkg)) {
      if (typeof source !== 'string')
        fail(name, `exports["${subpath}"] has no ${SOURCE_CONDITION} condition`);
      else if (!docEntries.some((entry) => join(dir, entry) === join(dir, source)))
        fail(
          name,
          `exports["${subpath}"] (${source}) is not a TypeDoc entry point; add it to ${relative(root, docConfig)}`,
        );
    }
    run('npm', ['run', 'build', '--silent'], dir);

    const out = join(work, name.replace('/', '+'));
    mkdirSync(out, { recursive: true });
    const [packed] = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--pack-destination', out], {
        cwd: dir,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    );
    if (readFileSync(join(dir, 'package.json'), 'utf8') !== manifestBefore || existsSync(join(dir, BACKUP)))
      fail(name, 'packing did not restore package.json');

    // What npm packed (the same list `npm pack --dry-run --json` prints).
    const shipped = packed.files.map((file) => file.path);
    const dirs = pkg.files.filter((entry) => entry !== 'LICENSE' && entry !== 'README.md');
    if (dirs.includes('src')) fail(name, '`files` lists src');
    for (const path of shipped) {
      const belongs =
        ['package.json', 'README.md', 'LICENSE'].includes(path) || dirs.some((d) => path.startsWith(`${d}/`));
      if (!belongs || /(^|\/)(src|test)\//.test(path) || /\.(ts|tsx)$/.test(path.replace(/\.d\.[mc]ts$/, '')))
        fail(name, `ships ${path}`);
    }
    for (const required of ['package.json', 'README.md', 'LICENSE', 'dist/index.mjs', 'dist/index.cjs'])
      if (!shipped.includes(required)) fail(name, `does not ship ${required}`);

    const tarball = join(out, packed.filename);
    execFileSync('tar', ['xzf', tarball, '-C', out]);
    const unpacked = join(out, 'package');
    if (readFileSync(join(unpacked, 'LICENSE'), 'utf8') !== license)
      fail(name, 'LICENSE differs from the root LICENSE');
    const published = readFileSync(join(unpacked, 'package.json'), 'utf8');
    if (published.includes(SOURCE_CONDITION))
      fail(name, `the packed package.json still names ${SOURCE_CONDITION}`);
    const publishedPkg = JSON.parse(published);
    for (const field of ['dependencies', 'peerDependencies']) {
      for (const [dep, range] of Object.entries(publishedPkg[field] ?? {}))
        if (dep.startsWith('@repopulse/') && !range.startsWith('^'))
          fail(name, `${field}.${dep} is "${range}", not a caret range`);
    }
    for (const field of ['repository', 'homepage', 'bugs', 'keywords', 'license', 'author'])
      if (!publishedPkg[field]) fail(name, `package.json has no ${field}`);

    for (const file of filesUnder(unpacked)) {
      if (!file.endsWith('.map')) continue;
      const map = readJson(file);
      const embedded = map.sourcesContent ?? [];
      if (embedded.length !== map.sources.length || embedded.some((text) => typeof text !== 'string'))
        fail(name, `${relative(unpacked, file)} does not embed all of its sources`);
    }

    run(bin('publint'), ['run', tarball, '--strict'], dir);
    const assets = assetSubpaths(pkg);
    for (const subpath of assets)
      if (!shipped.includes(pkg.exports[subpath].replace(/^\.\//, '')))
        fail(name, `does not ship ${subpath}`);
    const excluded = assets.length > 0 ? ['--exclude-entrypoints', ...assets] : [];
    run(bin('attw'), [tarball, '--format', 'table-flipped', ...excluded], dir);
    console.log(`${shipped.length} files: ${shipped.join(', ')}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

// Changesets: Markdown formatters can rewrite the front matter (`---` / `'pkg': minor` / `---`) into
// a heading, after which `changeset version` refuses the file; check each one still parses.
const published = new Set(packages.map((dir) => readJson(join(dir, 'package.json')).name));
const changesetDir = join(root, '.changeset');
for (const file of readdirSync(changesetDir).filter((f) => f.endsWith('.md') && f !== 'README.md')) {
  const text = readFileSync(join(changesetDir, file), 'utf8');
  const head = /^---\n((?:["'][^"'\n]+["']: (?:major|minor|patch)\n)+)---\n\s*\S/.exec(text);
  if (!head)
    fail(`.changeset/${file}`, "no front matter of `'<package>': major|minor|patch` lines, or no summary");
  for (const line of head?.[1].trim().split('\n') ?? []) {
    const pkg = line.slice(1, line.lastIndexOf(':') - 1);
    if (process.argv.length <= 2 && !published.has(pkg))
      fail(`.changeset/${file}`, `names ${pkg}, not a published package`);
  }
}

if (problems.length > 0) {
  console.error(`\n${problems.length} packaging problem(s):\n${problems.map((p) => `- ${p}`).join('\n')}`);
  process.exit(1);
}
console.log(`\n${packages.length} packages built, packed and checked.`);
