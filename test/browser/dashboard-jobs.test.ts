import type { Browser, Page } from 'playwright-core';
import { tokenFor } from '../../test-support/auth';
import { connectionIndicator, jobCard, jobLog, launchChromium, openDashboard, startStack, submitDemoJob, type TestStack } from './browser-support';

describe('dashboard: jobs', () => {
  let browser: Browser;
  let stack: TestStack;

  beforeAll(async () => {
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
  });

  beforeEach(async () => {
    stack = await startStack();
  });

  afterEach(async () => {
    await stack?.stop();
  });

  it('shows a submitted job progressing to completion, with its duration, result and a completion toast', async () => {
    const { page, context, errors } = await openDashboard(browser, stack, 'alice');
    const jobId = await submitDemoJob(page, { durationMs: 3_200, steps: 4 });
    const card = jobCard(page, jobId);

    // Progress shows while it runs (each step holds for 800 ms), then the end.
    await card.locator('.state-badge', { hasText: 'Running' }).waitFor();
    await page.waitForFunction((id) => {
      const value = Number(document.querySelector(`li.job[data-job-id="${id}"] [role="progressbar"]`)?.getAttribute('aria-valuenow'));
      return value > 0 && value < 100;
    }, jobId);
    expect(await card.locator('.job-duration').textContent()).toMatch(/^running \d/);
    await card.locator('.state-badge', { hasText: 'Completed' }).waitFor();
    await page.getByTestId('toast').filter({ hasText: `demo.work ${jobId.slice(0, 8)} completed` }).waitFor();

    expect(await card.getByRole('progressbar').getAttribute('aria-valuenow')).toBe('100');
    expect(await card.locator('.job-duration').textContent()).toMatch(/^took \d\.\d s$/);
    await card.getByText('Result').click();
    expect(JSON.parse((await card.locator('pre.result').textContent()) ?? '')).toEqual({ ok: true, durationMs: 3_200, steps: 4 });
    expect(await jobLog(page, jobId)).toEqual(['waiting', 'active', 'progress 25%', 'progress 50%', 'progress 75%', 'progress 100%', 'completed']);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('shows a job that fails for good with its error and a failure toast', async () => {
    const { page, context } = await openDashboard(browser, stack, 'alice');
    const jobId = await submitDemoJob(page, { durationMs: 50, steps: 0, failAttempts: 3 });
    const card = jobCard(page, jobId);
    await card.locator('.state-badge', { hasText: 'Failed' }).waitFor();
    expect(await card.getByTestId('job-error').textContent()).toContain('fails attempt 3 of the first 3 on purpose');
    await page.getByTestId('toast').filter({ hasText: `demo.work ${jobId.slice(0, 8)} failed` }).waitFor();
    await context.close();
  });

  it('goes Reconnecting then Live across an api restart mid-job, and misses no event', async () => {
    const { page, context } = await openDashboard(browser, stack, 'alice');
    const jobId = await submitDemoJob(page, { durationMs: 6_000, steps: 6 });
    const card = jobCard(page, jobId);
    await card.getByRole('progressbar').and(page.locator('[aria-valuenow="17"]')).waitFor();

    await stack.killApi();
    await connectionIndicator(page).filter({ hasText: 'Reconnecting' }).waitFor();
    // While the api is down the worker keeps going: these events are only in Redis.
    await stack.startApi();
    await connectionIndicator(page).filter({ hasText: 'Live' }).waitFor({ timeout: 30_000 });

    await card.locator('.state-badge', { hasText: 'Completed' }).waitFor({ timeout: 30_000 });
    expect(await jobLog(page, jobId)).toEqual([
      'waiting',
      'active',
      'progress 17%',
      'progress 33%',
      'progress 50%',
      'progress 67%',
      'progress 83%',
      'progress 100%',
      'completed',
    ]);
    await context.close();
  });

  it('shows the connection detail on hover and on keyboard focus, and hides it on Escape', async () => {
    const { page, context } = await openDashboard(browser, stack, 'alice');
    const detail = page.getByRole('tooltip');
    await connectionIndicator(page).hover();
    await detail.getByText('Job events and notifications arrive as they happen').waitFor();
    await page.mouse.move(0, 600);
    await detail.waitFor({ state: 'hidden' });

    await connectionIndicator(page).focus();
    await detail.waitFor();
    await page.keyboard.press('Escape');
    await detail.waitFor({ state: 'hidden' });
    await context.close();
  });

  it('keeps the jobs of this browser across a reload', async () => {
    const { page, context } = await openDashboard(browser, stack, 'alice');
    const jobId = await submitDemoJob(page, { durationMs: 100, steps: 1 });
    await jobCard(page, jobId).locator('.state-badge', { hasText: 'Completed' }).waitFor();

    await page.reload();
    await connectionIndicator(page).filter({ hasText: 'Live' }).waitFor();
    await jobCard(page, jobId).locator('.state-badge', { hasText: 'Completed' }).waitFor();
    // History is not announced again.
    expect(await page.getByTestId('toast').count()).toBe(0);
    await context.close();
  });

  it('lists the jobs the user submitted through the api (not the page) after a reload, newest first, older ones on "Load more"', async () => {
    const submitThroughApi = async (userId: string): Promise<string> => {
      const res = await fetch(`${stack.url}/api/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${await tokenFor(userId)}` },
        body: JSON.stringify({ type: 'demo.work', payload: { durationMs: 1 } }),
      });
      expect(res.status).toBe(202);
      return ((await res.json()) as { jobId: string }).jobId;
    };
    const listed = (page: Page) => page.locator('li.job').evaluateAll((cards) => cards.map((card) => card.getAttribute('data-job-id')));
    // More than one page (20), before the page ever opened: this browser has never seen them.
    const earlier: string[] = [];
    for (let i = 0; i < 22; i += 1) earlier.push(await submitThroughApi('alice'));
    const bobs = await submitThroughApi('bob');

    const { page, context, errors } = await openDashboard(browser, stack, 'alice');
    await jobCard(page, earlier[21]!).waitFor();
    expect(await listed(page)).toEqual([...earlier].reverse().slice(0, 20));
    await page.getByRole('button', { name: 'Load more' }).click();
    await jobCard(page, earlier[0]!).waitFor();
    expect(await listed(page)).toEqual([...earlier].reverse());
    await page.getByRole('button', { name: 'Load more' }).waitFor({ state: 'detached' });

    // One more while the page is open; then a reload with this browser's memory of jobs wiped.
    const later = await submitThroughApi('alice');
    await jobCard(page, later).locator('.state-badge', { hasText: 'Completed' }).waitFor();
    await page.evaluate(() => localStorage.clear());
    await page.reload();
    await connectionIndicator(page).filter({ hasText: 'Live' }).waitFor();
    await jobCard(page, later).locator('.state-badge', { hasText: 'Completed' }).waitFor();
    expect(await listed(page)).toEqual([later, ...[...earlier].reverse().slice(0, 19)]);
    expect(await jobCard(page, bobs).count()).toBe(0);
    await page.getByText('Shows your jobs for as long as jobstream keeps them').waitFor();
    // History is not announced again.
    expect(await page.getByTestId('toast').count()).toBe(0);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('shows a job the user submitted elsewhere as soon as it runs', async () => {
    const { page, context } = await openDashboard(browser, stack, 'alice');
    const res = await fetch(`${stack.url}/api/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await tokenFor('alice')}` },
      body: JSON.stringify({ type: 'demo.work', payload: { durationMs: 300, steps: 2 } }),
    });
    const { jobId } = (await res.json()) as { jobId: string };
    await jobCard(page, jobId).locator('.state-badge', { hasText: 'Completed' }).waitFor();
    await context.close();
  });
});
