import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_TEST_USER, tokenFor } from '../test-support/auth';
import { connectSse } from '../test-support/sse-client';
import { buildViteApp, installPackedClient, run } from '../test-support/packed-client';
import { repoRoot, useApiAndWorker } from '../test-support/services';

/**
 * `@jobstream/client` as its users get it: the tarball `npm pack` makes (of the build `npm test`
 * runs first), installed offline into a throwaway project outside the repository, and used from
 * Node ESM, Node CommonJS, TypeScript and a Vite browser build.
 */

/** What a consumer script prints: the events of a job it watched, and whether error classes work. */
interface ConsumerReport {
  format: 'esm' | 'cjs';
  jobId: string;
  ids: string[];
  state: string | undefined;
  notFound: boolean;
}

/** One script, in both module formats: enqueue, watch to the end, and one refused request. */
function consumerScript(format: 'esm' | 'cjs'): string {
  const load = format === 'esm' ? "import { createClient, NotFoundError } from '@jobstream/client';" : "const { createClient, NotFoundError } = require('@jobstream/client');";
  const body = `
  const [baseUrl, token] = process.argv.slice(2);
  const client = createClient({ baseUrl, token });
  const { jobId } = await client.enqueue('demo.work', { durationMs: 300, steps: 2 });
  const ids = [];
  for await (const e of client.watchJob(jobId)) if (e.event !== 'snapshot') ids.push(e.id);
  const job = await client.getJob(jobId);
  let notFound = false;
  try {
    await client.getJob(crypto.randomUUID());
  } catch (err) {
    notFound = err instanceof NotFoundError && err.code === 'JOB_NOT_FOUND';
  }
  console.log(JSON.stringify({ format: '${format}', jobId, ids, state: job.state, notFound }));`;
  return format === 'esm' ? `${load}\n${body}\n` : `${load}\n(async () => {${body}\n})();\n`;
}

/** Uses the published types the way an app would; the @ts-expect-error lines must stay errors. */
const typeCheckSource = (format: 'esm' | 'cjs') => `import { createClient, NotFoundError, type JobSnapshot, type JobPayloadInput, type LifecycleEventData, type StreamTransport } from '@jobstream/client';

const transport: StreamTransport = 'xhr';
const client = createClient({ baseUrl: 'http://localhost:3000', token: 't', transport });
const payload: JobPayloadInput<'demo.work'> = { durationMs: 10 };
export const enqueued: Promise<{ jobId: string }> = client.enqueue('demo.work', payload);
// @ts-expect-error the payload is typed by its job type
void client.enqueue('demo.work', { durationMs: 'soon' });
// @ts-expect-error an unknown job type
void client.enqueue('no.such.type', {});
export const snapshot: Promise<JobSnapshot> = client.getJob('j');
export function progressOf(data: LifecycleEventData<'progress'>): number | Record<string, unknown> {
  return data.progress;
}
export const isNotFound = (err: unknown): boolean => err instanceof NotFoundError && err.status === 404;
export const format = '${format}';
`;

describe('the packed @jobstream/client', () => {
  let dir: string;
  let project: string;
  let tarball: string;

  beforeAll(async () => {
    ({ dir, project, tarball } = await installPackedClient());
  }, 120_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('holds the two bundles, their declarations, the README and the licence, and depends on nothing', async () => {
    const { stdout } = await run('tar', ['-tzf', tarball]);
    const files = stdout.split('\n').filter(Boolean);
    expect(files).toEqual(expect.arrayContaining(['package/package.json', 'package/README.md', 'package/LICENSE', 'package/dist/esm/index.js', 'package/dist/esm/index.d.ts', 'package/dist/cjs/index.js', 'package/dist/cjs/index.d.ts']));
    expect(files.filter((f) => f.startsWith('package/src/') || f.endsWith('.map') || f.endsWith('.tsbuildinfo'))).toEqual([]);

    const installed = join(project, 'node_modules', '@jobstream', 'client');
    const manifest = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest.private).toBeUndefined();
    expect(manifest.license).toBe('MIT');
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies', 'bundleDependencies']) expect([field, manifest[field]]).toEqual([field, undefined]);
    expect(manifest.exports).toMatchObject({ '.': { import: { types: './dist/esm/index.d.ts', default: './dist/esm/index.js' }, require: { types: './dist/cjs/index.d.ts', default: './dist/cjs/index.js' } } });
    expect(await readdir(join(project, 'node_modules'))).toEqual(['.package-lock.json', '@jobstream']);

    // Its code and types load only their own files (so neither zod nor the contracts package), and
    // no zod code is bundled in.
    const shipped = files.filter((f) => /\.(js|ts)$/.test(f));
    expect(shipped.length).toBeGreaterThan(20);
    for (const file of shipped) {
      const text = await readFile(join(installed, file.replace(/^package\//, '')), 'utf8');
      const specifiers = [...text.matchAll(/(?:^\s*(?:import|export)\b[^;\n]*?\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|<reference\s+(?:types|path)=)["']([^"']+)["']/gm)].map((m) => m[1]);
      expect([file, specifiers.filter((s) => !s?.startsWith('./') && !s?.startsWith('../'))]).toEqual([file, []]);
      expect([file, /ZodError|\$ZodType|ZodObject/.test(text)]).toEqual([file, false]);
    }
  });

  it('type-checks in a consumer project under strict NodeNext with skipLibCheck off, through both its import and require types', async () => {
    await writeFile(join(project, 'src', 'check.mts'), typeCheckSource('esm'));
    await writeFile(join(project, 'src', 'check.cts'), typeCheckSource('cjs'));
    const compilerOptions = { strict: true, noEmit: true, skipLibCheck: false, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', lib: ['ES2022', 'DOM'], types: [] };
    await writeFile(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['src/*.mts', 'src/*.cts'] }));
    const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    await expect(run(process.execPath, [tsc, '-p', project], { cwd: project })).resolves.toMatchObject({ stdout: '' });
  }, 60_000);

  describe('against a running api', () => {
    const stack = useApiAndWorker();

    it.each(['esm', 'cjs'] as const)('watches a job to its end from a Node %s project', async (format) => {
      const file = join(project, format === 'esm' ? 'watch.mjs' : 'watch.cjs');
      await writeFile(file, consumerScript(format));
      const { stdout } = await run(process.execPath, [file, stack.api.url, await tokenFor(DEFAULT_TEST_USER)], { cwd: project, timeout: 30_000 });
      const report = JSON.parse(stdout) as ConsumerReport;

      const stream = await connectSse(`${stack.api.url}/api/jobs/${report.jobId}/events`);
      await stream.ended;
      expect(report).toEqual({ format, jobId: report.jobId, ids: stream.lifecycle().map((e) => e.id), state: 'completed', notFound: true });
      expect(report.ids.length).toBeGreaterThanOrEqual(4); // waiting, active, progress..., completed
    }, 60_000);
  });

  it('builds into a Vite browser bundle without zod', async () => {
    const built = await buildViteApp(
      project,
      "import { createClient } from '@jobstream/client';\nconst client = createClient({ baseUrl: '' });\nclient.watchJob(location.hash.slice(1)).on('progress', (p) => { document.body.textContent = String(p); });\n",
    );
    const assets = join(built, 'assets');
    const scripts = (await readdir(assets)).filter((f) => f.endsWith('.js'));
    expect(scripts).toHaveLength(1);
    const bundle = await readFile(join(assets, scripts[0]!), 'utf8');
    // The SDK is in it (its own error text), zod is not (its error class and its name).
    expect(bundle).toContain('jobstream: baseUrl must be');
    expect(bundle).not.toMatch(/ZodError|\$ZodType|\bzod\b/);
    expect(bundle.length).toBeLessThan(60_000);
  }, 90_000);
});
