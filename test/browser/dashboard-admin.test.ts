import type { Browser, Locator, Page } from 'playwright-core';
import { tokenFor } from '../../test-support/auth';
import { waitUntil } from '../../test-support/wait';
import { enqueueAs, jobCard, openDashboard, setKillSwitch, submitDemoJob, type TestStack, withBrowserStack } from './browser-support';

/** The operations panel's queue counts, by state ("waiting 0 · active 1 · ..."). */
async function queueCounts(panel: Locator): Promise<Record<string, number>> {
  const spans = await panel.getByLabel('Jobs in the queue by state').locator('span').allTextContents();
  return Object.fromEntries(spans.map((text) => /^(\S+)\s+(\d+)$/.exec(text.trim())).filter((m) => m !== null).map((m) => [m[1], Number(m[2])]));
}

/** Resolves once the panel shows `expected` (the other states may be anything). */
async function waitForCounts(page: Page, expected: Record<string, number>): Promise<void> {
  await page.waitForFunction((want: Record<string, number>) => {
    const spans = [...document.querySelectorAll('[aria-label="Jobs in the queue by state"] span')];
    const counts = Object.fromEntries(spans.map((s) => (s.textContent ?? '').trim().split(/\s+/)).map(([name, n]) => [name, Number(n)]));
    return Object.entries(want).every(([name, n]) => counts[name] === n);
  }, expected);
}

describe('dashboard: operations', () => {
  let browser: Browser;
  let stack: TestStack;
  withBrowserStack({}, (started, running) => {
    browser = started;
    stack = running;
  });

  it('refuses a user submission with the 429 message after an admin turns the kill-switch on, and accepts it again once it is off', async () => {
    const admin = await openDashboard(browser, stack, 'ops', ['admin']);
    const user = await openDashboard(browser, stack, 'bob');
    const panel = admin.page.getByRole('region', { name: 'Operations' });
    await panel.getByTestId('kill-switch-state').filter({ hasText: 'Off' }).waitFor();

    // The reason is required: the form says so instead of sending a request the api would refuse.
    await panel.getByRole('button', { name: 'Turn kill-switch on' }).click();
    await panel.getByText('the reason is required').waitFor();

    await panel.getByLabel('Reason (shown to refused clients)').fill('provider outage, back at 14:00');
    await panel.getByRole('button', { name: 'Turn kill-switch on' }).click();
    await panel.getByTestId('kill-switch-state').filter({ hasText: 'On: new jobs are refused' }).waitFor();
    expect(await panel.getByTestId('kill-switch-state').textContent()).toContain('By ops');
    await waitUntil('the api to refuse jobs', async () => (await enqueueAs('probe', stack)) === 429);

    await user.page.getByRole('button', { name: 'Submit job' }).click();
    const refusal = user.page.getByTestId('submit-error');
    await refusal.waitFor();
    // Turned on by a person: the refusal says so, not that a budget ran out.
    expect(await refusal.textContent()).toMatch(/New jobs are paused.*An operator paused new jobs: provider outage, back at 14:00/);
    expect(await refusal.textContent()).not.toMatch(/budget/i);
    expect(await user.page.locator('li.job').count()).toBe(0);

    await panel.getByRole('button', { name: 'Turn kill-switch off' }).click();
    await panel.getByTestId('kill-switch-state').filter({ hasText: 'Off' }).waitFor();
    // The api re-reads the switch every 250 ms: wait until it takes jobs again, then submit from the page.
    await waitUntil('the api to accept jobs again', async () => (await enqueueAs('probe', stack)) === 202);
    await user.page.getByRole('button', { name: 'Submit job' }).click();
    await user.page.getByText(/^Submitted demo\.work job/).waitFor();
    expect(await user.page.getByTestId('submit-error').count()).toBe(0);

    await admin.context.close();
    await user.context.close();
  });

  it('shows alerts, the budget and the queue to admins only', async () => {
    const admin = await openDashboard(browser, stack, 'ops', ['admin']);
    const panel = admin.page.getByRole('region', { name: 'Operations' });
    await panel.getByRole('heading', { name: 'Alerts' }).waitFor();
    // No metrics service runs here: the api answers from what Redis holds, or says it cannot; either way it is said.
    await panel.locator('.admin-block').first().getByText('Loading…').waitFor({ state: 'detached' });
    await panel.getByRole('meter', { name: /Budget used/ }).waitFor();
    await panel.getByLabel('Jobs in the queue by state').waitFor();

    const user = await openDashboard(browser, stack, 'bob');
    await user.page.getByRole('heading', { name: 'Your jobs' }).waitFor();
    expect(await user.page.getByRole('region', { name: 'Operations' }).count()).toBe(0);
    await admin.context.close();
    await user.context.close();
  });
  it('moves the queue counts with the live events of a job, before the next refresh reads them', async () => {
    // The jobs of the other tests have finished: the counts the page starts from are settled.
    await waitUntil('an idle queue', async () => {
      const res = await fetch(`${stack.url}/api/queue/stats`, { headers: { authorization: `Bearer ${await tokenFor('ops', ['admin'])}` } });
      const { counts } = (await res.json()) as { counts: Record<string, number> };
      return (counts.waiting ?? 0) + (counts.active ?? 0) + (counts.delayed ?? 0) === 0;
    });
    const { page, context } = await openDashboard(browser, stack, 'ops-counts', ['admin']);
    const statsReads: number[] = [];
    page.on('response', (response) => {
      if (new URL(response.url()).pathname === '/api/queue/stats') statsReads.push(Date.now());
    });
    const panel = page.getByRole('region', { name: 'Operations' });
    // Read once at start; the next read is 15 s away (no metrics service runs here, so no system events either).
    await panel.getByLabel('Jobs in the queue by state').waitFor();
    const before = await queueCounts(panel);
    const readsBefore = statsReads.length;

    const jobId = await submitDemoJob(page, { durationMs: 2_500, steps: 2 });
    await jobCard(page, jobId).locator('.state-badge', { hasText: 'Running' }).waitFor();
    await waitForCounts(page, { waiting: 0, active: 1, completed: before.completed ?? 0 });
    await jobCard(page, jobId).locator('.state-badge', { hasText: 'Completed' }).waitFor();
    await waitForCounts(page, { waiting: 0, active: 0, completed: (before.completed ?? 0) + 1 });
    expect(statsReads.length).toBe(readsBefore);
    await context.close();
  });

  it('takes the "New jobs are paused" box away once the kill-switch goes off, without another submission', async () => {
    const { page, context } = await openDashboard(browser, stack, 'ops-paused', ['admin']);
    await setKillSwitch(stack, true, 'provider outage');
    await page.getByRole('button', { name: 'Submit job' }).click();
    const refusal = page.getByTestId('submit-error').filter({ hasText: 'New jobs are paused' });
    await refusal.waitFor();

    // Turned off elsewhere (the CLI): the page hears it from the stream's system event.
    await setKillSwitch(stack, false);
    await refusal.waitFor({ state: 'detached' });
    expect(await page.locator('li.job').count()).toBe(0);
    await context.close();
  });
});
