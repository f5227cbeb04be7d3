import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './services';

export const run = promisify(execFile);

/** A throwaway project outside the repository with the packed `@jobstream/client` installed, as an app team gets it. */
export interface PackedClientProject {
  /** The temporary folder holding the tarball and the project (the caller removes it). */
  dir: string;
  /** The project: `package.json`, `node_modules` and an empty `src/`. */
  project: string;
  tarball: string;
}

/**
 * Packs `@jobstream/client` with `npm pack` (from the build `npm test` runs first) and installs the
 * tarball offline into a new project: the package has no dependencies, so nothing is fetched.
 */
export async function installPackedClient(): Promise<PackedClientProject> {
  const dir = await mkdtemp(join(tmpdir(), 'jobstream-client-package-'));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: join(repoRoot, 'packages', 'client') });
  const [packed] = JSON.parse(stdout) as { filename: string }[];
  const tarball = join(dir, packed!.filename);
  const project = join(dir, 'app');
  await mkdir(join(project, 'src'), { recursive: true });
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'app', private: true, dependencies: { '@jobstream/client': `file:${tarball}` } }));
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: project });
  return { dir, project, tarball };
}

/**
 * Builds a browser app of the project with the repository's Vite: `index.html` loading
 * `src/main.js`, whose code is `main`. Returns the folder of the build (`dist/`).
 */
export async function buildViteApp(project: string, main: string): Promise<string> {
  await writeFile(join(project, 'index.html'), '<!doctype html><html><head><meta charset="utf-8"><title>app</title></head><body><script type="module" src="/src/main.js"></script></body></html>');
  await writeFile(join(project, 'src', 'main.js'), main);
  await run(process.execPath, [join(repoRoot, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'error'], { cwd: project, timeout: 60_000 });
  return join(project, 'dist');
}
