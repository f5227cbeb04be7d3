import type { Browser } from 'playwright-core';
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
