import { randomUUID } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { readJobHistories } from '../../test-support/job-history';
import { waitUntil } from '../../test-support/wait';
import { withBrowserStack, type TestStack } from './browser-support';
import { REACT_MAJORS, bundleFixtureApp, enqueueDemoAs, openFixtureApp, openStreamsOnApi, renderedEvents, type FixturePage } from './react-app/react-fixture';

/** useJob in a React app in Chromium (StrictMode, development build, React 19 and 18), against a real api and worker. */
describe.each(REACT_MAJORS)('@jobstream/react useJob in Chromium on React %s', (major) => {
  let browser: Browser;
  let stack: TestStack;
  let bundle: string;
  let app: FixturePage | undefined;
  withBrowserStack({}, (b, s) => {
    browser = b;
    stack = s;
  });

  beforeAll(async () => {
    bundle = await bundleFixtureApp(major);
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  const card = (jobId: string) => app!.page.locator(`section.job[data-job-id="${jobId}"][data-index="0"]`);

  async function storedEvents(jobId: string) {
    const histories = await readJobHistories(stack.env.REDIS_URL, stack.env, [jobId]);
    return histories.get(jobId) ?? [];
  }

  it('renders the progress of a running job as it happens, then its result', async () => {
    const user = `react-${randomUUID()}`;
    app = await openFixtureApp(browser, stack, bundle, user);
    expect(await app.reactVersion()).toMatch(new RegExp(`^${major}\\.`));
    const jobId = await enqueueDemoAs(stack, user, { durationMs: 2_000, steps: 4 });
    await app.show({ jobs: [jobId] });

    // A step between the start and the end, while the job is still active.
    await card(jobId).locator('ol.events li', { hasText: 'progress 50' }).waitFor();
    expect(await card(jobId).getAttribute('data-finished')).toBe('false');
    await card(jobId).and(app.page.locator('[data-state="completed"][data-finished="true"]')).waitFor();

    expect(JSON.parse(await card(jobId).locator('pre.result').innerText())).toEqual({ ok: true, durationMs: 2_000, steps: 4 });
    expect(await card(jobId).locator('p.progress').innerText()).toBe('100');
    const rendered = await renderedEvents(app.page, jobId);
    expect(rendered.map((e) => e.text)).toEqual(['waiting', 'active', 'progress 25', 'progress 50', 'progress 75', 'progress 100', 'completed']);
    expect(rendered.map((e) => e.id)).toEqual((await storedEvents(jobId)).map((e) => e.id));
    expect(app.errors).toEqual([]);
  });

  it('resumes across an api restart mid-job: every progress step and the outcome render exactly once', async () => {
    const user = `react-${randomUUID()}`;
    app = await openFixtureApp(browser, stack, bundle, user);
    const jobId = await enqueueDemoAs(stack, user, { durationMs: 3_000, steps: 10 });
    await app.show({ jobs: [jobId] });
    await card(jobId).locator('ol.events li', { hasText: /^progress/ }).first().waitFor();

    await stack.killApi();
    await card(jobId).and(app.page.locator('[data-connection="reconnecting"]')).waitFor();
    await stack.startApi();
    await card(jobId).and(app.page.locator('[data-state="completed"][data-finished="true"]')).waitFor({ timeout: 30_000 });

    const stored = await storedEvents(jobId);
    expect(stored.map((e) => e.event)).toEqual(['waiting', 'active', ...Array<string>(10).fill('progress'), 'completed']);
    const rendered = await renderedEvents(app.page, jobId);
    expect(rendered.map((e) => e.id)).toEqual(stored.map((e) => e.id));
    expect(rendered.filter((e) => e.text.startsWith('progress')).map((e) => e.text)).toEqual(
      [10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map((p) => `progress ${p}`),
    );
    expect(JSON.parse(await card(jobId).locator('pre.result').innerText())).toEqual({ ok: true, durationMs: 3_000, steps: 10 });
    const log = await app.page.evaluate((id) => window.reactFixture?.connectionLog[id] ?? [], jobId);
    expect(log.slice(0, 3)).toEqual(['connecting', 'live', 'reconnecting']);
    expect(log.slice(-2)).toEqual(['live', 'closed']);
    expect(app.errors).toEqual([]);
  });

  it('shows why the watch stopped for a job the api does not know, and keeps no stream open', async () => {
    app = await openFixtureApp(browser, stack, bundle, `react-${randomUUID()}`);
    const jobId = `no-such-job-${randomUUID()}`;
    await app.show({ jobs: [jobId] });
    await card(jobId).and(app.page.locator('[data-watch-error="JOB_NOT_FOUND"][data-connection="closed"]')).waitFor({ state: 'attached' });
    expect(await card(jobId).getAttribute('data-state')).toBe('');
    expect(await openStreamsOnApi(stack)).toBe(0);
    expect(app.streamRequests(`/api/jobs/${jobId}/events`)).toBe(1);
  });

  it('shares one job stream between the components showing a job and closes it on the api when the last one unmounts', async () => {
    const user = `react-${randomUUID()}`;
    app = await openFixtureApp(browser, stack, bundle, user);
    const jobId = await enqueueDemoAs(stack, user, { durationMs: 20_000, steps: 4 });
    const eventsPath = `/api/jobs/${jobId}/events`;
    // Two components on the job, each mounted twice by StrictMode.
    await app.show({ jobs: [jobId, jobId] });
    await card(jobId).and(app.page.locator('[data-connection="live"]')).waitFor();
    await waitUntil('the api to hold the stream', async () => (await openStreamsOnApi(stack)) === 1);
    expect(app.streamRequests(eventsPath)).toBe(1);

    // One of them goes: the other keeps the stream and its next step arrives on it.
    await app.show({ jobs: [jobId] });
    await card(jobId).locator('ol.events li', { hasText: 'progress 25' }).waitFor({ timeout: 15_000 });
    expect(await card(jobId).getAttribute('data-connection')).toBe('live');
    expect(await openStreamsOnApi(stack)).toBe(1);

    // The last one goes: the api sees the stream close, and nothing opens another.
    await app.show({ jobs: [] });
    await waitUntil('the api to see the stream close', async () => (await openStreamsOnApi(stack)) === 0);
    expect(app.streamRequests(eventsPath)).toBe(1);
    expect(app.errors).toEqual([]);
  });
});
