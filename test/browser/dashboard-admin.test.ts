import type { Browser } from 'playwright-core';
import { tokenFor } from '../../test-support/auth';
import { waitUntil } from '../../test-support/wait';
import { launchChromium, openDashboard, startStack, type TestStack } from './browser-support';

describe('dashboard: operations', () => {
  let browser: Browser;
  let stack: TestStack;

  beforeAll(async () => {
    browser = await launchChromium();
    stack = await startStack();
  });

  afterAll(async () => {
    await stack?.stop();
    await browser?.close();
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
    await waitUntil('the api to refuse jobs', async () => (await enqueueAs('probe', stack.url)) === 429);

    await user.page.getByRole('button', { name: 'Submit job' }).click();
    const refusal = user.page.getByTestId('submit-error');
    await refusal.waitFor();
    expect(await refusal.textContent()).toMatch(/New jobs are paused.*budget limits: provider outage, back at 14:00/);
    expect(await user.page.locator('li.job').count()).toBe(0);

    await panel.getByRole('button', { name: 'Turn kill-switch off' }).click();
    await panel.getByTestId('kill-switch-state').filter({ hasText: 'Off' }).waitFor();
    // The api re-reads the switch every 250 ms: wait until it takes jobs again, then submit from the page.
    await waitUntil('the api to accept jobs again', async () => (await enqueueAs('probe', stack.url)) === 202);
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
});

/** POST /api/jobs as `userId`; resolves with the status. */
async function enqueueAs(userId: string, url: string): Promise<number> {
  const res = await fetch(`${url}/api/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await tokenFor(userId)}` },
    body: JSON.stringify({ type: 'demo.work', payload: { durationMs: 1 } }),
  });
  await res.body?.cancel();
  return res.status;
}
