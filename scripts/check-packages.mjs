// Builds every published package and checks what npm would ship: `publint --strict` (package.json
// and files agree) and `attw --pack` (types resolve for ESM, CJS, node10/16 and bundlers).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const packages = readdirSync(join(root, 'packages'))
  .map((dir) => join(root, 'packages', dir))
  .filter((dir) => !JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).private);

const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: 'inherit' });
const bin = (name) => join(root, 'node_modules', '.bin', name);

for (const dir of packages) {
  const { name } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  console.log(`\n== ${name}`);
  run('npm', ['run', 'build', '--silent'], dir);
  run(bin('publint'), ['--strict'], dir);
  run(bin('attw'), ['--pack', '.', '--format', 'table-flipped'], dir);
}
console.log(`\n${packages.length} packages built and checked.`);
