import { build, type Plugin } from 'esbuild';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { tokenFor } from '../../../test-support/auth';
import { collectPageErrors, type TestStack } from '../browser-support';
import type { FixtureLayout } from './fixture-app';

/** Where the fixture page is served: on the api's own origin, so the SDK needs no CORS. */
const FIXTURE_PATH = '/react-fixture/';

/** The React majors the hooks are tested on: the package's devDependency (19) and test/browser/react-18. */
export const REACT_MAJORS = ['19', '18'] as const;
export type ReactMajor = (typeof REACT_MAJORS)[number];

/** Resolves `react` and `react-dom` (and their subpaths) from `dir`, wherever they are imported. */
function reactFrom(dir: string): Plugin {
  return {
    name: 'react-from',
    setup(build) {
      build.onResolve({ filter: /^react(-dom)?(\/.*)?$/ }, (args) => ({ path: require.resolve(args.path, { paths: [dir] }) }));
    },
  };
}

/**
 * The fixture app bundled for the browser as an app would ship it: esbuild from the built
 * @jobstream/react and @jobstream/client (`npm run build` first), on React's development build
 * (the one whose StrictMode mounts every component twice) of the major asked for.
 */
export async function bundleFixtureApp(major: ReactMajor): Promise<string> {
  const result = await build({
    entryPoints: [join(__dirname, 'main.tsx')],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"development"' },
    plugins: major === '18' ? [reactFrom(join(__dirname, '..', 'react-18'))] : [],
    write: false,
    logLevel: 'silent',
  });
  const [output] = result.outputFiles;
  if (!output) throw new Error('esbuild wrote no bundle for the React fixture app');
  return output.text;
}

export interface FixturePage {
  context: BrowserContext;
  page: Page;
  /** Uncaught errors seen so far. */
  errors: string[];
  /** The stream requests (`GET` of a URL containing `pathPart`) the page has made so far. */
  streamRequests(pathPart: string): number;
  /** The version of React the page runs. */
  reactVersion(): Promise<string>;
  /** Changes what the app shows (which job cards, panels, badge, inbox). */
  show(layout: Partial<FixtureLayout>): Promise<void>;
  close(): Promise<void>;
}

/** A new browser context with the fixture app open as `userId`. */
export async function openFixtureApp(browser: Browser, stack: Pick<TestStack, 'url'>, bundle: string, userId: string): Promise<FixturePage> {
  const context = await browser.newContext();
  const html = '<!doctype html><html><head><meta charset="utf-8"><title>jobstream react fixture</title></head><body><div id="root"></div><script src="app.js"></script></body></html>';
  await context.route(`${stack.url}${FIXTURE_PATH}**`, (route) => {
    const isScript = new URL(route.request().url()).pathname.endsWith('/app.js');
    return route.fulfill({ status: 200, contentType: isScript ? 'text/javascript' : 'text/html', body: isScript ? bundle : html });
  });
  const page = await context.newPage();
  const errors = collectPageErrors(page);
  const requested: string[] = [];
  page.on('request', (request) => {
    if (request.method() === 'GET') requested.push(new URL(request.url()).pathname);
  });
  await page.goto(`${stack.url}${FIXTURE_PATH}#token=${await tokenFor(userId)}`);
  await page.waitForFunction(() => window.reactFixture !== undefined);
  return {
    context,
    page,
    errors,
    streamRequests: (pathPart) => requested.filter((path) => path.includes(pathPart)).length,
    reactVersion: () => page.evaluate(() => window.reactFixture?.reactVersion ?? ''),
    show: (layout) => page.evaluate((change) => window.reactFixture?.show(change), layout),
    close: () => context.close(),
  };
}

/** The api's count of open SSE streams (`jobstream_sse_connections` on GET /metrics). */
export async function openStreamsOnApi(stack: Pick<TestStack, 'url'>): Promise<number> {
  const res = await fetch(`${stack.url}/metrics`);
  const text = await res.text();
  const match = /^jobstream_sse_connections (\d+)$/m.exec(text);
  if (!match?.[1]) throw new Error(`GET /metrics has no jobstream_sse_connections (HTTP ${res.status})`);
  return Number(match[1]);
}

/** Submits a demo.work job as `userId` (POST /api/jobs) and returns its id. */
export async function enqueueDemoAs(stack: Pick<TestStack, 'url'>, userId: string, payload: { durationMs: number; steps: number }): Promise<string> {
  const res = await fetch(`${stack.url}/api/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await tokenFor(userId)}` },
    body: JSON.stringify({ type: 'demo.work', payload }),
  });
  if (res.status !== 202) throw new Error(`POST /api/jobs answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { jobId: string }).jobId;
}

/** The event log the job card of `jobId` rendered: each item's event id and text. */
export async function renderedEvents(page: Page, jobId: string): Promise<{ id: string; text: string }[]> {
  return page
    .locator(`section.job[data-job-id="${jobId}"][data-index="0"] ol.events li`)
    .evaluateAll((items) => items.map((li) => ({ id: li.getAttribute('data-event-id') ?? '', text: li.textContent ?? '' })));
}
