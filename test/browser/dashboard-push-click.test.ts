import type { BrowserContext, Page } from 'playwright-core';
import { vapidEnv } from '../../test-support/push';
import { waitUntil } from '../../test-support/wait';
import { collectPageErrors, connectionIndicator, jobCard, signInCode, startStack, submitDemoJob, type TestStack } from './browser-support';
import { launchChromiumProfile } from './chromium';
import { installPushWorker } from './dashboard-push-support';
import { startDesktopNotifications, type DesktopNotification, type DesktopNotifications } from './desktop-notifications';

/*
 * The DevTools protocol can deliver a push but has no command to click the notification it shows.
 * Chromium on Linux shows notifications through the desktop's notification server on D-Bus and
 * dispatches a real `notificationclick` when that server reports a click: these tests are that
 * server, on a session bus of their own, and click as a user would.
 */
describe('dashboard: clicking a push notification', () => {
  let stack: TestStack;
  let desktop: DesktopNotifications;
  let chromium: Awaited<ReturnType<typeof launchChromiumProfile>>;
  let context: BrowserContext;

  beforeAll(async () => {
    desktop = await startDesktopNotifications();
    stack = await startStack(vapidEnv());
    chromium = await launchChromiumProfile({ DBUS_SESSION_BUS_ADDRESS: desktop.busAddress });
    context = chromium.context;
    await context.grantPermissions(['notifications'], { origin: stack.url });
    // A profile opens with a blank tab; the tests count tabs from none.
    for (const page of context.pages()) await page.close();
  });

  afterAll(async () => {
    await chromium?.close();
    await stack?.stop();
    await desktop?.close();
  });

  afterEach(async () => {
    for (const page of context.pages()) await page.close();
  });

  /** A signed-in dashboard with the push worker installed, one finished job, and a way to push to it. */
  async function dashboardWithPushWorker(userId: string): Promise<{ page: Page; jobId: string; errors: string[]; deliver: (push: object) => Promise<void> }> {
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${stack.url}/#code=${await signInCode(stack, userId)}`);
    await connectionIndicator(page).filter({ hasText: 'Live' }).waitFor();
    const jobId = await submitDemoJob(page, { durationMs: 50, steps: 0 });
    const deliver = await installPushWorker(context, page, stack.url);
    return { page, jobId, errors, deliver };
  }

  const outcomePush = (jobId: string, url = `/?job=${jobId}`) => ({
    kind: 'job.completed',
    title: 'demo.work finished',
    body: 'Your job is done. Open it to see the result.',
    url,
    jobId,
    tag: `job-${jobId}`,
  });

  /** The notification the desktop was handed for a push titled `title`, after `before` others. */
  const shownAfter = (before: number): Promise<DesktopNotification> =>
    waitUntil('the notification on the desktop', () => desktop.shown.slice(before).find((n) => n.summary === 'demo.work finished'));

  it("opens the dashboard at the job's URL when no dashboard tab is open", async () => {
    const { page, jobId, errors, deliver } = await dashboardWithPushWorker('quinn');
    const before = desktop.shown.length;
    await deliver(outcomePush(jobId));
    const notification = await shownAfter(before);
    // The click on the notification itself, not one of its buttons.
    expect(notification.actions).toContain('default');
    expect(errors).toEqual([]);
    await page.close();
    expect(context.pages()).toEqual([]);

    const opened = context.waitForEvent('page');
    desktop.click(notification.id);
    const tab = await opened;
    await tab.waitForURL(`${stack.url}/?job=${jobId}`);
    // A new tab has no session (the token lives in the tab that signed in): it asks to sign in, at the job's link.
    expect(context.pages()).toEqual([tab]);
  });

  it('brings the open dashboard tab to the job instead of opening another, and the job is shown marked', async () => {
    const { page, jobId, errors, deliver } = await dashboardWithPushWorker('rosa');
    const before = desktop.shown.length;
    await deliver(outcomePush(jobId));
    const notification = await shownAfter(before);
    let openedAnother = false;
    context.once('page', () => {
      openedAnother = true;
    });

    desktop.click(notification.id);
    await page.waitForURL(`${stack.url}/?job=${jobId}`);
    // The same tab, still signed in (its session survived the navigation), shows the job marked.
    await jobCard(page, jobId).and(page.locator('[data-linked="true"]')).waitFor();
    expect(openedAnother).toBe(false);
    expect(context.pages()).toEqual([page]);
    expect(errors).toEqual([]);
  });

  it('opens the dashboard, never another origin, when a push names a link elsewhere', async () => {
    const { page, jobId, deliver } = await dashboardWithPushWorker('sami');
    const before = desktop.shown.length;
    await deliver(outcomePush(jobId, 'https://evil.example/phish'));
    const notification = await shownAfter(before);
    await page.close();

    const opened = context.waitForEvent('page');
    desktop.click(notification.id);
    const tab = await opened;
    await tab.waitForURL(`${stack.url}/`);
    expect(new URL(tab.url()).origin).toBe(stack.url);
  });
});
