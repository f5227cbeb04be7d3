import type { Browser, BrowserContext, Page } from 'playwright-core';
import { tokenFor } from '../../test-support/auth';
import { vapidEnv } from '../../test-support/push';
import { waitUntil } from '../../test-support/wait';
import { installPushWorker, registrations } from './dashboard-push-support';
import { collectPageErrors, connectionIndicator, launchChromium, signInCode, startStack, submitDemoJob, type TestStack } from './browser-support';

interface ShownPush {
  title: string;
  body: string;
  tag: string;
  url: string | undefined;
}

describe('dashboard: push notifications', () => {
  let browser: Browser;
  let stack: TestStack;

  beforeAll(async () => {
    browser = await launchChromium();
    stack = await startStack(vapidEnv());
  });

  afterAll(async () => {
    await stack?.stop();
    await browser?.close();
  });

  /** The dashboard signed in as `userId`, notifications allowed for the site, and every permission request counted. */
  async function openWithNotificationsAllowed(userId: string): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
    const context = await browser.newContext();
    await context.grantPermissions(['notifications'], { origin: stack.url });
    await context.addInitScript(() => {
      const counted = window as unknown as { permissionRequests: number };
      counted.permissionRequests = 0;
      const request = Notification.requestPermission.bind(Notification);
      Notification.requestPermission = (...args: Parameters<typeof Notification.requestPermission>) => {
        counted.permissionRequests += 1;
        return request(...args);
      };
    });
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${stack.url}/#code=${await signInCode(stack, userId)}`);
    await connectionIndicator(page).filter({ hasText: 'Live' }).waitFor();
    return { context, page, errors };
  }

  const permissionRequests = (page: Page) => page.evaluate(() => (window as unknown as { permissionRequests: number }).permissionRequests);
  async function shownPushes(page: Page): Promise<ShownPush[]> {
    return page.evaluate(async () => {
      const registration = await navigator.serviceWorker.getRegistration('./');
      const shown = (await registration?.getNotifications()) ?? [];
      return shown.map((n) => ({ title: n.title, body: n.body, tag: n.tag, url: (n.data as { url?: string } | null)?.url }));
    });
  }

  it('serves its service worker from the top of the same origin as JavaScript, revalidated, under a CSP that allows same-origin workers', async () => {
    const res = await fetch(`${stack.url}/push-worker.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^(application|text)\/javascript/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('content-security-policy')).toMatch(/worker-src 'self'/);
  });

  it('asks for nothing on load, and asks for permission and installs the worker only when "Notify me when it finishes" is pressed', async () => {
    const { context, page, errors } = await openWithNotificationsAllowed('nina');
    expect(await permissionRequests(page)).toBe(0);
    expect(await registrations(page)).toEqual([]);
    expect(await page.getByTestId('push-offer').count()).toBe(0);

    await submitDemoJob(page, { durationMs: 200, steps: 0 });
    await page.getByTestId('push-offer').click();
    await waitUntil('the permission request', async () => (await permissionRequests(page)) === 1);
    await waitUntil('the service worker', async () => (await registrations(page)).includes(`${stack.url}/`));
    expect(await permissionRequests(page)).toBe(1);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('shows a delivered push as a notification with its title, body, tag and the job link, and never a link to another origin', async () => {
    const { context, page, errors } = await openWithNotificationsAllowed('omar');
    await submitDemoJob(page, { durationMs: 200, steps: 0 });
    const deliver = await installPushWorker(context, page, stack.url);

    const push = { kind: 'job.completed', title: 'demo.work finished', body: 'Your job is done. Open it to see the result.', url: '/?job=abc', jobId: 'abc', tag: 'job-abc' };
    await deliver(push);
    const [shown] = await waitUntil('the notification', async () => {
      const list = await shownPushes(page);
      return list.length > 0 ? list : undefined;
    });
    expect(shown).toEqual({ title: 'demo.work finished', body: 'Your job is done. Open it to see the result.', tag: 'job-abc', url: `${stack.url}/?job=abc` });

    const hostile = { ...push, tag: 'job-evil', title: 'evil', url: 'https://evil.example/phish' };
    await deliver(hostile);
    const evil = await waitUntil('the second notification', async () => (await shownPushes(page)).find((n) => n.tag === 'job-evil'));
    expect(evil.url).toBe(`${stack.url}/`);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('opens at the job a push was about (/?job=<id>): its card is marked and scrolled into view', async () => {
    const res = await fetch(`${stack.url}/api/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await tokenFor('pia')}` },
      body: JSON.stringify({ type: 'demo.work', payload: { durationMs: 1 } }),
    });
    const { jobId } = (await res.json()) as { jobId: string };
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${stack.url}/?job=${jobId}#code=${await signInCode(stack, 'pia')}`);
    const card = page.locator(`li.job[data-job-id="${jobId}"][data-linked="true"][aria-current="true"]`);
    await card.waitFor();
    expect(await card.isVisible()).toBe(true);
    expect(errors).toEqual([]);
    await context.close();
  });
});
