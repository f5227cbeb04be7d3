import { build } from 'esbuild';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createContext, runInContext } from 'node:vm';
import { repoRoot, useApiAndWorker } from '../test-support/services';
import { DEFAULT_TEST_USER, tokenFor } from '../test-support/auth';

/** The SDK's compiled output (`npm test` builds first) must run where there is no Node. */
const dist = join(repoRoot, 'packages', 'client', 'dist');

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? jsFiles(join(dir, entry.name)) : entry.name.endsWith('.js') ? [join(dir, entry.name)] : [],
  );
}

/** Bundles the SDK as a browser would get it (esbuild, platform browser, no Node built-ins, no shims). */
async function browserBundle(): Promise<string> {
  const result = await build({
    entryPoints: [join(dist, 'index.js')],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: 'jobstream',
    minify: true,
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

describe('the SDK in a browser', () => {
  it('has no Node-only import or global in its compiled output', () => {
    const files = jsFiles(dist);
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      const code = readFileSync(file, 'utf8');
      const requires = [...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
      // Only its own modules: the contracts package gives types alone (zod would add ~600 kB).
      for (const spec of requires) expect([file, spec]).toEqual([file, expect.stringMatching(/^\.{1,2}\//)]);
      expect([file, /["']node:|\bprocess\.\w|\bBuffer\.|\b__dirname\b|\bglobal\./.test(code)]).toEqual([file, false]);
    }
  });

  it('bundles for the browser platform with esbuild into a small file', async () => {
    const code = await browserBundle();
    expect(code).not.toMatch(/require\(["'](node:|http|https|net|events|stream|fs)["']\)/);
    expect(code.length).toBeLessThan(60_000);
  });

  describe('against the real api', () => {
    const stack = useApiAndWorker();

    it('runs the browser bundle in a context with only web globals and watches a job to its end', async () => {
      const code = await browserBundle();
      // What a browser (or React Native with a streaming fetch) offers; no require, process or Buffer.
      const sandbox = createContext({
        fetch,
        Response,
        Headers,
        ReadableStream,
        TextDecoder,
        AbortController,
        AbortSignal,
        setTimeout,
        clearTimeout,
        queueMicrotask,
        URL,
      });
      runInContext(code, sandbox);
      expect(runInContext('typeof process + typeof require + typeof Buffer', sandbox)).toBe('undefinedundefinedundefined');
      sandbox.baseUrl = stack.api.url;
      sandbox.token = await tokenFor(DEFAULT_TEST_USER);
      const outcome = await runInContext(
        `(async () => {
          const client = jobstream.createClient({ baseUrl, getToken: async () => token });
          const { jobId } = await client.enqueue('demo.work', { durationMs: 100, steps: 2 });
          const seen = [];
          for await (const e of client.watchJob(jobId)) seen.push(e.event);
          let notFound;
          try { await client.getJob('missing-job'); } catch (err) { notFound = [err.name, err.code, err.status, err instanceof jobstream.NotFoundError]; }
          return { seen, notFound };
        })()`,
        sandbox,
      );
      expect(outcome).toEqual({
        seen: ['snapshot', 'waiting', 'active', 'progress', 'progress', 'completed'],
        notFound: ['NotFoundError', 'JOB_NOT_FOUND', 404, true],
      });
    });
  });
});
