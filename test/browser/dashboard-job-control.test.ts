import type { Browser } from 'playwright-core';
import { tokenFor } from '../../test-support/auth';
import { waitUntil } from '../../test-support/wait';
import { jobCard, jobLog, openDashboard, submitDemoJob, type TestStack, withBrowserStack } from './browser-support';

/** POST /api/jobs as `userId`; resolves with the job id. */
async function enqueue(stack: TestStack, userId: string, payload: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${stack.url}/api/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await tokenFor(userId)}` },
    body: JSON.stringify({ type: 'demo.work', payload }),
  });
  if (res.status !== 202) throw new Error(`POST /api/jobs answered ${res.status}`);
  return ((await res.json()) as { jobId: string }).jobId;
}

/** The job's state as an admin reads it. */
async function stateOf(stack: TestStack, jobId: string): Promise<string | undefined> {
  const res = await fetch(`${stack.url}/api/jobs/${jobId}`, { headers: { authorization: `Bearer ${await tokenFor('ops', ['admin'])}` } });
  return res.status === 200 ? ((await res.json()) as { state: string }).state : undefined;
}

describe('dashboard: cancel, retry and the admin job browser', () => {
  let browser: Browser;
  let stack: TestStack;
  withBrowserStack({}, (started, running) => {
    browser = started;
    stack = running;
  });

  it('cancels a running job from its card: the card shows Cancelled by you and offers Retry, which runs it again', async () => {
    const { page, context, errors } = await openDashboard(browser, stack, 'carol');
    const jobId = await submitDemoJob(page, { durationMs: 30_000, steps: 30 });
    const card = jobCard(page, jobId);
    await card.locator('.state-badge', { hasText: 'Running' }).waitFor();
    expect(await card.getByRole('button', { name: /^Retry/ }).count()).toBe(0);

    await card.getByRole('button', { name: /^Cancel demo\.work/ }).click();
    await card.locator('.state-badge', { hasText: 'Cancelled' }).waitFor();
    expect(await card.getByTestId('job-cancelled').textContent()).toBe('Cancelled by you.');
    expect(await card.getAttribute('data-outcome')).toBe('cancelled');
    expect(await card.getByRole('button', { name: /^Cancel demo\.work/ }).count()).toBe(0);
    await page.locator('.toast', { hasText: 'cancelled' }).first().waitFor();
    await card.locator('.job-log summary').click();
    expect((await jobLog(page, jobId)).at(-1)).toBe('cancelled by you');

    await card.getByRole('button', { name: /^Retry demo\.work/ }).click();
    await card.locator('.state-badge', { hasText: 'Running' }).waitFor();
    expect(await card.getAttribute('data-outcome')).toBeNull();
    await waitUntil('the job running again', async () => (await stateOf(stack, jobId)) === 'active');
    // Stop it again, as an operator would not leave a 30 s job running for a test.
    await card.getByRole('button', { name: /^Cancel demo\.work/ }).click();
    await card.locator('.state-badge', { hasText: 'Cancelled' }).waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });

  it('removes a waiting job when it is cancelled, and shows that an admin cancelled a job of the user', async () => {
    const { page, context } = await openDashboard(browser, stack, 'dave');
    // Keeps the worker busy long enough that the next job is still waiting when it is cancelled.
    const blockers = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map(() => enqueue(stack, 'blocker', { durationMs: 4_000 })));
    const waiting = await enqueue(stack, 'dave', { durationMs: 1 });
    const card = jobCard(page, waiting);
    await card.locator('.state-badge', { hasText: 'Waiting' }).waitFor();
    await card.getByRole('button', { name: /^Cancel demo\.work/ }).click();
    await card.locator('.state-badge', { hasText: 'Cancelled' }).waitFor();
    expect(await stateOf(stack, waiting)).toBeUndefined();

    const running = await enqueue(stack, 'dave', { durationMs: 30_000, steps: 30 });
    await waitUntil('the job to run', async () => (await stateOf(stack, running)) === 'active', 30_000);
    const res = await fetch(`${stack.url}/api/jobs/${running}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${await tokenFor('ops', ['admin'])}` } });
    expect(res.status).toBe(202);
    await jobCard(page, running).getByTestId('job-cancelled').filter({ hasText: 'Cancelled by an admin.' }).waitFor();
    for (const jobId of blockers) await waitUntil('the blockers to end', async () => (await stateOf(stack, jobId)) === 'completed', 30_000);
    await context.close();
  });

  it('retries a failed job from its card to completion, and shows the api\'s refusal on the card', async () => {
    const { page, context } = await openDashboard(browser, stack, 'erin');
    const jobId = await submitDemoJob(page, { durationMs: 1, steps: 0, failAttempts: 3 });
    const card = jobCard(page, jobId);
    await card.locator('.state-badge', { hasText: 'Failed' }).waitFor();
    await card.getByRole('button', { name: /^Retry demo\.work/ }).click();
    await card.locator('.state-badge', { hasText: 'Completed' }).waitFor();
    expect(await card.getByRole('button', { name: /^Retry/ }).count()).toBe(0);

    // Cancelled elsewhere (the CLI) just before the page's own click: the card says what the api said.
    const other = await submitDemoJob(page, { durationMs: 30_000, steps: 30 });
    await jobCard(page, other).locator('.state-badge', { hasText: 'Running' }).waitFor();
    await page.route(`**/api/jobs/${other}/cancel`, async (route) => {
      await route.fulfill({ status: 409, contentType: 'application/json', body: JSON.stringify({ error: `Job "${other}" already failed; there is nothing to cancel`, code: 'JOB_ALREADY_FINISHED' }) });
    });
    await jobCard(page, other).getByRole('button', { name: /^Cancel demo\.work/ }).click();
    await jobCard(page, other).getByTestId('job-action-error').filter({ hasText: 'nothing to cancel' }).waitFor();
    await page.unroute(`**/api/jobs/${other}/cancel`);
    await jobCard(page, other).getByRole('button', { name: /^Cancel demo\.work/ }).click();
    await jobCard(page, other).locator('.state-badge', { hasText: 'Cancelled' }).waitFor();
    expect(await jobCard(page, other).getByTestId('job-action-error').count()).toBe(0);
    await context.close();
  });

  it('lets an admin browse every user\'s failed jobs with Load more, and clean completed jobs after confirming', async () => {
    const failed = await Promise.all(Array.from({ length: 11 }, (_, i) => enqueue(stack, i % 2 === 0 ? 'frank' : 'grace', { durationMs: 1, failAttempts: 3 })));
    const done = await enqueue(stack, 'frank', { durationMs: 1 });
    for (const jobId of failed) await waitUntil('the jobs to fail', async () => (await stateOf(stack, jobId)) === 'failed', 30_000);
    await waitUntil('the job to complete', async () => (await stateOf(stack, done)) === 'completed');
    const { page, context } = await openDashboard(browser, stack, 'ops', ['admin']);
    const panel = page.getByRole('region', { name: 'Operations' });
    const table = panel.getByRole('table', { name: 'failed jobs' });
    await table.waitFor();
    const rows = () => table.locator('tbody tr');
    await waitUntil('the first page', async () => (await rows().count()) === 10);
    await panel.getByRole('button', { name: 'Load more' }).click();
    await waitUntil('the second page', async () => (await rows().count()) >= 11);
    const ids = await rows().evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-job-id')));
    expect(ids).toEqual(expect.arrayContaining(failed));
    expect(await table.textContent()).toContain('frank');
    expect(await table.textContent()).toContain('grace');
    expect(await table.textContent()).toContain('on purpose');

    await panel.getByLabel('Browse jobs').selectOption('completed');
    await panel.getByRole('table', { name: 'completed jobs' }).waitFor();
    await panel.getByLabel('jobs older than (hours)').fill('0');
    await panel.getByRole('button', { name: 'Clean…' }).click();
    const dialog = panel.getByRole('alertdialog');
    expect(await dialog.textContent()).toContain('Remove every completed job that finished any time, with its history?');
    // Nothing happens until it is confirmed: keeping them closes the question.
    await dialog.getByRole('button', { name: 'Keep them' }).click();
    expect(await panel.getByRole('table', { name: 'completed jobs' }).count()).toBe(1);
    await panel.getByRole('button', { name: 'Clean…' }).click();
    await panel.getByRole('alertdialog').getByRole('button', { name: 'Remove them' }).click();
    await panel.getByTestId('clean-result').filter({ hasText: /^Removed \d+ completed jobs?\.$/ }).waitFor();
    await panel.getByTestId('admin-jobs-empty').filter({ hasText: 'No completed jobs.' }).waitFor();
    expect(await stateOf(stack, done)).toBeUndefined();
    await context.close();
  });
});
