import type { Browser } from 'playwright-core';
import { tokenFor } from '../../test-support/auth';
import { connectionIndicator, jobCard, signInCode, submitDemoJob, type TestStack, withBrowserStack } from './browser-support';

/** Opens the user's notification stream from here and keeps it open until `release()`: another tab, as far as the api can tell. */
async function holdStream(stack: TestStack, userId: string): Promise<{ release(): void }> {
  const controller = new AbortController();
  const res = await fetch(`${stack.url}/api/notifications/stream`, {
    headers: { accept: 'text/event-stream', authorization: `Bearer ${await tokenFor(userId)}` },
    signal: controller.signal,
  });
  if (res.status !== 200 || !res.body) throw new Error(`the stream answered ${res.status}`);
  const reader = res.body.getReader();
  // The first message (`connected`) means the api counted this stream against the user's cap.
  await reader.read();
  void (async () => {
    try {
      while (!(await reader.read()).done);
    } catch {
      // Aborted by release().
    }
  })();
  return { release: () => controller.abort() };
}

describe('dashboard: polling fallback', () => {
  let browser: Browser;
  let stack: TestStack;
    // One stream per user, and a refused one is told to retry within a second.
  withBrowserStack({ MAX_STREAMS_PER_USER: '1', STREAM_LEASE_TTL_MS: '1000' }, (started, running) => {
    browser = started;
    stack = running;
  });

  it('polls the jobs while its stream is refused, keeps the list current, and goes Live when the stream is let in', async () => {
    const otherTab = await holdStream(stack, 'nina');
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${stack.url}/#code=${await signInCode(stack, 'nina')}`);

    await connectionIndicator(page).filter({ hasText: 'Polling' }).waitFor({ timeout: 30_000 });
    await connectionIndicator(page).hover();
    expect(await page.getByRole('tooltip').textContent()).toContain('TOO_MANY_STREAMS');

    const jobId = await submitDemoJob(page, { durationMs: 1_500, steps: 3 });
    await jobCard(page, jobId).locator('.state-badge', { hasText: 'Completed' }).waitFor({ timeout: 30_000 });
    await page.getByTestId('toast').filter({ hasText: `demo.work ${jobId.slice(0, 8)} completed` }).waitFor();

    otherTab.release();
    await connectionIndicator(page).filter({ hasText: 'Live' }).waitFor({ timeout: 30_000 });
    await context.close();
  });
});
