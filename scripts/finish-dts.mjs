// tsup's declaration worker ignores `outExtension().dts`, so in a `"type": "module"` package the
// ESM declarations come out as `.d.ts`. Rename them to `.d.mts` (and their relative imports to
// `.mjs`) so ESM and CJS each have their own declaration files, as `attw --pack` expects.
import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dist = join(process.cwd(), 'dist');
for (const name of readdirSync(dist)) {
  if (!name.endsWith('.d.ts')) continue;
  const from = join(dist, name);
  const text = readFileSync(from, 'utf8').replace(/(from\s+['"]\.\.?\/[^'"]+?)\.js(['"])/g, '$1.mjs$2');
  writeFileSync(from, text);
  renameSync(from, join(dist, name.replace(/\.d\.ts$/, '.d.mts')));
}
