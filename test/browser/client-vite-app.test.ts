import { rm } from 'node:fs/promises';
import type { Browser } from 'playwright-core';
import { DEFAULT_TEST_USER, tokenFor } from '../../test-support/auth';
import { readJobHistories } from '../../test-support/job-history';
import { buildViteApp, installPackedClient, type PackedClientProject } from '../../test-support/packed-client';
import { collectPageErrors, type TestStack, withBrowserStack } from './browser-support';

/**
 * What the app does: enqueues a job with the packed SDK, watches it to its end and leaves what it
 * saw on `window.outcome` (the token comes in the URL's fragment, which never reaches a server).
 */
const APP = `import { createClient, NotFoundError } from '@jobstream/client';
const token = decodeURIComponent(location.hash.slice(1));
const client = createClient({ baseUrl: location.origin, getToken: async () => token });
(async () => {
  const { jobId } = await client.enqueue('demo.work', { durationMs: 200, steps: 2 });
  const events = [];
  for await (const item of client.watchJob(jobId)) events.push(item.event === 'snapshot' ? 'snapshot' : item.event + ' ' + item.id);
  let notFound = false;
  try { await client.getJob(crypto.randomUUID()); } catch (err) { notFound = err instanceof NotFoundError; }
  window.outcome = { jobId, events, notFound };
})().catch((err) => { window.outcome = { error: String(err) }; });
`;

/**
 * The packed `@jobstream/client` in an app an app team would build: installed from its tarball into
 * a project outside the repository, bundled by Vite, served by the api (as its DASHBOARD_DIR, so
 * under the api's own CSP) and run in Chromium against a real api and worker.
 */
describe('the packed SDK in a Vite app in Chromium', () => {
  let packed: PackedClientProject | undefined;
  const overrides: Record<string, string> = {};
  let browser: Browser;
  let stack: TestStack;

  // Before the stack starts: the api serves the build.
  beforeAll(async () => {
    packed = await installPackedClient();
    overrides.DASHBOARD_DIR = await buildViteApp(packed.project, APP);
  }, 180_000);
  withBrowserStack(overrides, (started, running) => {
    browser = started;
    stack = running;
  });
  afterAll(async () => {
    if (packed) await rm(packed.dir, { recursive: true, force: true });
  });

  it('enqueues a job, watches it to its end with every stored event once, and gets the SDK error classes', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${stack.url}/#${encodeURIComponent(await tokenFor(DEFAULT_TEST_USER))}`);
    await page.waitForFunction(() => 'outcome' in window, undefined, { timeout: 30_000 });
    const outcome = (await page.evaluate(() => (window as unknown as { outcome: unknown }).outcome)) as { jobId: string; events: string[]; notFound: boolean };
    const history = (await readJobHistories(stack.env.REDIS_URL, stack.env, [outcome.jobId])).get(outcome.jobId) ?? [];
    expect(history.length).toBeGreaterThanOrEqual(4);
    expect(outcome.events).toEqual(['snapshot', ...history.map((e) => `${e.event} ${e.id}`)]);
    expect(outcome.events.at(-1)).toMatch(/^completed /);
    expect(outcome.notFound).toBe(true);
    expect(errors).toEqual([]);
    await context.close();
  });
});
