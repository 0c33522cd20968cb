import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { promisify } from 'node:util';

const ROOT = resolve(import.meta.dirname, '../../..');
const exec = promisify(execFile);

/**
 * Registry packages an example's project installs, at the versions this workspace has installed
 * (TypeScript and `@types/node` always).
 */
export interface ThirdParty {
  dependencies: string[];
  devDependencies?: string[];
  /**
   * Dependencies with a native addon (e.g. `better-sqlite3`), taken as the workspace has them
   * installed and built instead of built again: see {@link createTarballProject}.
   */
  prebuilt?: string[];
}

/** The directory of every non-private package under `packages/`: what npm would publish. */
function publishedPackageDirs(): string[] {
  return readdirSync(join(ROOT, 'packages'))
    .map((name) => join(ROOT, 'packages', name))
    .filter((dir) => !JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).private);
}

/** npm without the `npm_*` settings an enclosing `npm test` exports (they would leak into the child). */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_')),
  );
}

async function npm(args: string[], cwd: string): Promise<string> {
  const { stdout } = await exec('npm', args, {
    cwd,
    env: cleanEnv(),
    maxBuffer: 64 * 1024 * 1024,
    timeout: 240_000,
  });
  return stdout;
}

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((entry) => newestMtime(join(path, entry))));
}

function oldestFileMtime(dir: string): number {
  return Math.min(
    ...readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => statSync(join(entry.parentPath, entry.name)).mtimeMs),
  );
}

/**
 * Builds a package with its own `npm run build` unless `dist/` is newer than everything it is built
 * from (`npm test` has just built every package in `check:packages`). `dist/` is git-ignored.
 */
async function buildIfStale(dir: string): Promise<void> {
  const dist = join(dir, 'dist');
  const inputs = ['src', 'package.json', 'tsup.config.ts']
    .map((entry) => join(dir, entry))
    .filter(existsSync);
  inputs.push(join(ROOT, 'tsup.config.base.ts'));
  const fresh =
    existsSync(dist) &&
    readdirSync(dist).length > 0 &&
    oldestFileMtime(dist) > Math.max(...inputs.map(newestMtime));
  if (!fresh) await npm(['run', 'build', '--silent'], dir);
}

/** A fresh npm project outside the workspace, with the packed tarballs installed and the example copied in. */
export interface TarballProject {
  dir: string;
  /** The tarball file of each package name. */
  tarballs: Record<string, string>;
}

/**
 * Builds and packs every published package, creates a project in the OS temp directory (no
 * workspace, no links), installs the tarballs plus `thirdParty` and TypeScript from the registry
 * (the npm cache first), and copies in the example's `src`, `public` (when it has one) and
 * `tsconfig.json`.
 *
 * A `prebuilt` package (a native addon) is copied from the workspace's `node_modules` into the
 * project before `npm install`: the same version the manifest asks for, unpacked from the same
 * registry tarball and already built for this Node. npm keeps a package already installed at a
 * version that satisfies the manifest, so it neither downloads it again nor runs its install
 * script, and installs the rest of its dependencies as usual. Building it here from source
 * (`node-gyp`, minutes; no prebuilt binary can be downloaded where only the npm registry is
 * reachable) would test the addon's build, not our packages. What the project runs is still a
 * real copy inside it, resolved by Node as a user's install resolves it.
 *
 * @param example - the example's directory, e.g. `examples/minimal`.
 * @example
 * const project = await createTarballProject(EXAMPLE, { dependencies: ['express', 'ioredis'] });
 */
export async function createTarballProject(example: string, thirdParty: ThirdParty): Promise<TarballProject> {
  const devDependencies = [...new Set(['typescript', '@types/node', ...(thirdParty.devDependencies ?? [])])];
  const packages = publishedPackageDirs();
  for (const dir of packages) await buildIfStale(dir);
  const dir = mkdtempSync(join(tmpdir(), `repopulse-${basename(example)}-`));
  const packDir = join(dir, 'tarballs');
  mkdirSync(packDir);
  const packed = JSON.parse(
    await npm(['pack', '--json', '--pack-destination', packDir, ...packages], ROOT),
  ) as { name: string; filename: string }[];
  const tarballs = Object.fromEntries(packed.map((p) => [p.name, join(packDir, p.filename)]));

  const installedVersion = (name: string) =>
    JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version as string;
  const versions = (names: string[]) =>
    Object.fromEntries(names.map((name) => [name, installedVersion(name)]));
  const manifest = {
    name: `repopulse-${basename(example)}-from-tarballs`,
    private: true,
    type: 'module',
    dependencies: {
      ...Object.fromEntries(Object.entries(tarballs).map(([name, file]) => [name, `file:${file}`])),
      ...versions(thirdParty.dependencies),
    },
    devDependencies: versions(devDependencies),
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  for (const name of thirdParty.prebuilt ?? []) {
    if (!thirdParty.dependencies.includes(name)) throw new Error(`prebuilt ${name} is not in dependencies`);
    cpSync(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name), {
      recursive: true,
      filter: (source) => !/[\\/]build[\\/]Release[\\/]obj/.test(source), // intermediate objects
    });
  }
  await npm(['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], dir);

  for (const entry of ['src', 'public', 'tsconfig.json']) {
    if (existsSync(join(example, entry))) cpSync(join(example, entry), join(dir, entry), { recursive: true });
  }
  return { dir, tarballs };
}

/** Runs the project's own TypeScript (`tsc -p .`: strict, `nodenext`), emitting `dist/`. */
export async function compile(project: TarballProject): Promise<void> {
  try {
    await exec(process.execPath, [join(project.dir, 'node_modules/typescript/bin/tsc'), '-p', '.'], {
      cwd: project.dir,
      timeout: 120_000,
    });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`tsc failed in ${project.dir}:\n${stdout}${stderr}`);
  }
}
