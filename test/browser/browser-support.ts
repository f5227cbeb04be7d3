import type { WorkerService } from '@jobstream/worker';
import type { Browser, BrowserContext, ConsoleMessage, Page } from 'playwright-core';
import { tokenFor, type TestRole } from '../../test-support/auth';
import { freePort } from '../../test-support/redis-server';
import { cleanupPrefix, spawnService, startWorker, testEnv, type ServiceProcess, type TestEnv } from '../../test-support/services';
import { waitUntil } from '../../test-support/wait';

import { launchChromium } from './chromium';

export { launchChromium };

/** The services one test drives: an api process it can kill and restart on the same port, and an in-process worker. */
export interface TestStack {
  env: TestEnv;
  url: string;
  port: number;
  api: ServiceProcess;
  worker: WorkerService;
  /** Kills the api (SIGKILL: no goodbye to the streams) and resolves when it is gone. */
  killApi(): Promise<void>;
  /** Starts a new api process on the same port. */
  startApi(): Promise<void>;
  stop(): Promise<void>;
}

export async function startStack(overrides: Record<string, string> = {}): Promise<TestStack> {
  const port = await freePort();
  // A short retry hint so reconnects after an api restart take a second, not the default 3 s backoff base.
  const env = testEnv({ SSE_RETRY_MS: '500', ...overrides, PORT: String(port) });
  const worker = await startWorker(env);
  let api = await spawnService('api', env);
  const stack: TestStack = {
    env,
    url: `http://127.0.0.1:${port}`,
    port,
    get api() {
      return api;
    },
    worker,
    async killApi() {
      await api.stop('SIGKILL');
    },
    async startApi() {
      api = await spawnService('api', env);
    },
    async stop() {
      await api.stop();
      await worker.close();
      await cleanupPrefix(env.REDIS_URL, env.QUEUE_PREFIX);
    },
  };
  return stack;
}

/**
 * Starts Chromium and a stack before the tests of the enclosing `describe` and stops both after
 * them; `use` receives them for the tests to keep.
 */
export function withBrowserStack(overrides: Record<string, string>, use: (browser: Browser, stack: TestStack) => void): void {
  let browser: Browser | undefined;
  let stack: TestStack | undefined;
  beforeAll(async () => {
    const started = await launchChromium();
    browser = started;
    stack = await startStack(overrides);
    use(started, stack);
  });
  afterAll(async () => {
    await stack?.stop();
    await browser?.close();
  });
}

/** Browser problems worth failing a test for: CSP violations, uncaught errors, failed scripts. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error' && /Content.Security.Policy|Refused to/i.test(message.text())) errors.push(`console: ${message.text()}`);
  });
  return errors;
}

export interface DashboardPage {
  context: BrowserContext;
  page: Page;
  /** CSP violations and uncaught errors seen so far. */
  errors: string[];
}

/** A single-use sign-in code for `userId`, asked for with their token as `npm run token` does. */
export async function signInCode(stack: Pick<TestStack, 'url'>, userId: string, roles: TestRole[] = [], token?: string): Promise<string> {
  const res = await fetch(`${stack.url}/api/sign-in-codes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token ?? (await tokenFor(userId, roles))}` },
    body: '{}',
  });
  if (res.status !== 201) throw new Error(`POST /api/sign-in-codes answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { code: string }).code;
}

/** A new browser context (its own storage) with the dashboard open as `userId`, signed in through a `#code=` link. */
export async function openDashboard(
  browser: Browser,
  stack: Pick<TestStack, 'url'>,
  userId: string,
  roles: TestRole[] = [],
  viewport: { width: number; height: number } = { width: 1280, height: 900 },
): Promise<DashboardPage> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors = collectPageErrors(page);
  await page.goto(`${stack.url}/#code=${await signInCode(stack, userId, roles)}`);
  await connectionIndicator(page).filter({ hasText: 'Live' }).waitFor();
  return { context, page, errors };
}

export const connectionIndicator = (page: Page) => page.getByTestId('connection-indicator');

/** The card of one job in the list. */
export const jobCard = (page: Page, jobId: string) => page.locator(`li.job[data-job-id="${jobId}"]`);

/** Submits a demo.work job through the form and returns its id (read from the new card). */
export async function submitDemoJob(page: Page, fields: { durationMs: number; steps: number; failAttempts?: number }): Promise<string> {
  const before = new Set(await page.locator('li.job').evaluateAll((cards) => cards.map((c) => c.getAttribute('data-job-id'))));
  await page.getByRole('radio', { name: 'demo.work' }).check();
  await page.getByLabel('Duration (ms)').fill(String(fields.durationMs));
  await page.getByLabel('Progress steps').fill(String(fields.steps));
  await page.getByLabel('Failing attempts').fill(String(fields.failAttempts ?? 0));
  await page.getByRole('button', { name: 'Submit job' }).click();
  await page.getByText(/^Submitted demo\.work job/).waitFor();
  const handle = await page.waitForFunction((known: string[]) => {
    const ids = [...document.querySelectorAll('li.job')].map((c) => c.getAttribute('data-job-id'));
    return ids.find((id) => id !== null && !known.includes(id)) ?? false;
  }, [...before].filter((id): id is string => id !== null));
  return (await handle.jsonValue()) as string;
}

/** The event log of a job card, as text lines ("waiting", "progress 50%", ...). */
export async function jobLog(page: Page, jobId: string): Promise<string[]> {
  return jobCard(page, jobId).locator('.job-log li span').allTextContents();
}

/** Publishes a notification to `userId` the way a backend does: POST /api/notifications with a `service` token. */
export async function notify(stack: Pick<TestStack, 'url'>, userId: string, title: string, extra: Record<string, unknown> = {}): Promise<{ id: string }> {
  const res = await fetch(`${stack.url}/api/notifications`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await tokenFor('chat-service', ['service'])}` },
    body: JSON.stringify({ userId, type: 'chat.message', title, message: `${title}: the message`, ...extra }),
  });
  if (res.status !== 201) throw new Error(`POST /api/notifications answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as { id: string };
}

/** POST /api/jobs as `userId` (a 1 ms demo.work job); resolves with the status. */
export async function enqueueAs(userId: string, stack: Pick<TestStack, 'url'>): Promise<number> {
  const res = await fetch(`${stack.url}/api/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await tokenFor(userId)}` },
    body: JSON.stringify({ type: 'demo.work', payload: { durationMs: 1 } }),
  });
  await res.body?.cancel();
  return res.status;
}

/**
 * Turns the kill-switch on or off as the admin `by` (POST /api/admin/budget/kill-switch), then waits
 * until the api admits or refuses jobs accordingly (it re-reads the switch every 250 ms).
 */
export async function setKillSwitch(stack: Pick<TestStack, 'url'>, enabled: boolean, reason?: string, by = 'ops-cli'): Promise<void> {
  const res = await fetch(`${stack.url}/api/admin/budget/kill-switch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await tokenFor(by, ['admin'])}` },
    body: JSON.stringify(reason === undefined ? { enabled } : { enabled, reason }),
  });
  if (res.status !== 200) throw new Error(`POST /api/admin/budget/kill-switch answered ${res.status}: ${await res.text()}`);
  await res.body?.cancel();
  const expected = enabled ? 429 : 202;
  await waitUntil(`the api to ${enabled ? 'refuse' : 'accept'} jobs`, async () => (await enqueueAs('probe', stack)) === expected);
}

/** A browser notification the page showed, as `recordNotificationsInHiddenTab` records it. */
export interface ShownNotification {
  title: string;
  body: string | undefined;
}

/**
 * Makes every page of `context` a tab in the background whose browser notifications are recorded
 * instead of shown: Chromium's own Notification still runs, and the page's calls are kept.
 */
export async function recordNotificationsInHiddenTab(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const shown: { title: string; body: string | undefined }[] = [];
    (window as unknown as { shownNotifications: typeof shown }).shownNotifications = shown;
    const Real = window.Notification;
    class Recording extends Real {
      constructor(title: string, options?: NotificationOptions) {
        super(title, options);
        shown.push({ title, body: options?.body });
      }
    }
    Object.defineProperty(window, 'Notification', { value: Recording });
    Object.defineProperty(document, 'visibilityState', { get: () => 'hidden' });
  });
}

/** The browser notifications `page` showed so far, once there is at least one. */
export async function shownNotifications(page: Page): Promise<ShownNotification[]> {
  const shown = await page.waitForFunction(() => {
    const list = (window as unknown as { shownNotifications: { title: string; body?: string }[] }).shownNotifications;
    return list.length > 0 ? list : false;
  });
  return (await shown.jsonValue()) as ShownNotification[];
}
