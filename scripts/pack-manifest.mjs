// The `prepack` / `postpack` step of every published package. In the workspace, each export has
// a `@repopulse/source` condition pointing at `./src/…`, so tests, tsc and tsx resolve siblings
// to their sources without a build. `src/` is not published (the source maps embed the sources),
// so a published package must not name it: `strip` removes the condition from package.json just
// before npm packs it (npm packs the file as it is then), and `restore` puts the original back
// after. A pack that died in between leaves the backup behind; the next `strip` restores it first.
//
//   node ../../scripts/pack-manifest.mjs strip|restore      (run in the package directory)
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const SOURCE_CONDITION = '@repopulse/source';
export const BACKUP = '.package.json.packing';

/** A copy of an `exports` value without the workspace-only condition, at any depth. */
export function withoutSourceCondition(exports) {
  if (typeof exports !== 'object' || exports === null || Array.isArray(exports)) return exports;
  return Object.fromEntries(
    Object.entries(exports)
      .filter(([key]) => key !== SOURCE_CONDITION)
      .map(([key, value]) => [key, withoutSourceCondition(value)]),
  );
}

function main(command, dir) {
  const manifest = join(dir, 'package.json');
  const backup = join(dir, BACKUP);
  if (command === 'strip') {
    if (existsSync(backup)) renameSync(backup, manifest);
    const text = readFileSync(manifest, 'utf8');
    const pkg = JSON.parse(text);
    writeFileSync(backup, text);
    writeFileSync(
      manifest,
      `${JSON.stringify({ ...pkg, exports: withoutSourceCondition(pkg.exports) }, null, 2)}\n`,
    );
  } else if (command === 'restore') {
    if (existsSync(backup)) renameSync(backup, manifest);
  } else {
    console.error('usage: node pack-manifest.mjs strip|restore');
    process.exit(2);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main(process.argv[2], process.cwd());
