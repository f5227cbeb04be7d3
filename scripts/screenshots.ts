/**
 * Takes the dashboard screenshots in docs/screenshots/ (run `npm run screenshots`, which builds
 * first). Starts everything it needs and stops it again: a throwaway redis-server, the api, a
 * worker and the metrics service from their dist/ builds, then drives Debian's Chromium
 * (`/usr/bin/chromium`, or CHROMIUM_PATH) through the screens at desktop and phone widths:
 *
 *   dashboard-jobs.png          jobs running, finished and failed, a completion toast
 *   dashboard-submit-form.png   the submit form of flashcards.generate, a value its schema refuses
 *   dashboard-inbox.png         the notification inbox open, unread and read items
 *   dashboard-admin.png         an admin's view: a firing alert, the budget bar, the kill-switch
 *   dashboard-phone-jobs.png    the job list on a 390 px wide phone
 *   dashboard-phone-inbox.png   the inbox on the phone
 *   dashboard-dark.png          the dark palette (an admin's view)
 *   sign-in.png                 the sign-in form
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freePort, startRedisServer, type RedisProcess } from '../test-support/redis-server';
import { waitUntil } from '../test-support/wait';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../test/browser/chromium';

const root = join(__dirname, '..');
const outDir = join(root, 'docs', 'screenshots');
const secret = randomBytes(32).toString('hex');

interface Service {
  name: string;
  child: ChildProcess;
  output: () => string;
}

function say(message: string): void {
  process.stderr.write(`[screenshots] ${message}\n`);
}

/** Starts `services/<name>/dist/main.js`; resolves once its log says it is up. */
async function startService(name: 'api' | 'worker' | 'metrics', env: Record<string, string>, ready: RegExp): Promise<Service> {
  const child = spawn(process.execPath, [join(root, 'services', name, 'dist', 'main.js')], {
    env: { ...process.env, ...env, LOG_LEVEL: 'info', LOG_PRETTY: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      if (ready.test(out)) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}:\n${out}`)));
    setTimeout(() => reject(new Error(`${name} not up after 20 s:\n${out}`)), 20_000).unref();
  });
  return { name, child, output: () => out };
}

async function stopService(service: Service): Promise<void> {
  if (service.child.exitCode !== null || service.child.signalCode !== null) return;
  const exited = new Promise((resolve) => service.child.once('exit', resolve));
  service.child.kill('SIGTERM');
  await exited;
}

function tokenFor(userId: string, roles: string[] = []): Promise<string> {
  return new SignJWT({ roles }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(userId).setIssuedAt().setExpirationTime('1h').sign(new TextEncoder().encode(secret));
}

async function api<T>(base: string, token: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

async function open(
  browser: Browser,
  base: string,
  token: string,
  viewport: { width: number; height: number },
  colorScheme: 'light' | 'dark' = 'light',
  localStorageItems: Record<string, string> = {},
): Promise<Page> {
  const context = await browser.newContext({ viewport, deviceScaleFactor: viewport.width < 500 ? 2 : 1, colorScheme, reducedMotion: 'reduce' });
  await context.addInitScript((items: Record<string, string>) => {
    for (const [key, value] of Object.entries(items)) if (localStorage.getItem(key) === null) localStorage.setItem(key, value);
  }, localStorageItems);
  const page = await context.newPage();
  // Signs in as a person does: a single-use code from the api, in the link's fragment.
  const { code } = await api<{ code: string }>(base, token, 'POST', '/api/sign-in-codes', {});
  await page.goto(`${base}/#code=${code}`);
  await page.getByTestId('connection-indicator').filter({ hasText: 'Live' }).waitFor();
  return page;
}

/** Submits a job through the page's form, as a person would. */
async function submitDemo(page: Page, durationMs: number, steps: number, failAttempts = 0): Promise<void> {
  await page.getByRole('radio', { name: 'demo.work' }).check();
  await page.getByLabel('Duration (ms)').fill(String(durationMs));
  await page.getByLabel('Progress steps').fill(String(steps));
  await page.getByLabel('Failing attempts').fill(String(failAttempts));
  await page.getByRole('button', { name: 'Submit job' }).click();
  await page.getByText(/^Submitted demo\.work job/).waitFor();
}

/** Closes the toasts (they would cover the inbox); one may time out by itself meanwhile. */
async function dismissToasts(page: Page): Promise<void> {
  const close = page.getByRole('button', { name: /^Dismiss/ });
  while ((await close.count()) > 0) await close.first().click({ timeout: 2_000 }).catch(() => undefined);
}

async function shoot(page: Page, file: string, fullPage = false): Promise<void> {
  await page.screenshot({ path: join(outDir, file), fullPage, animations: 'disabled' });
  say(`wrote docs/screenshots/${file}`);
}

async function main(): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  const redis: RedisProcess = await startRedisServer();
  const services: Service[] = [];
  let browser: Browser | undefined;
  try {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env = {
      REDIS_URL: redis.url,
      QUEUE_PREFIX: '{screenshots}',
      AUTH_MODE: 'jwt',
      JWT_SECRET: secret,
      PORT: String(port),
      HOST: '127.0.0.1',
      WORKER_METRICS_PORT: '0',
      METRICS_PORT: '0',
      METRICS_ADMIN_PORT: '0',
      // Alerts evaluated twice a second; one failed job in a small window is enough to fire one.
      ALERT_EVAL_INTERVAL_MS: '500',
      ALERT_FAILURE_RATE: '0.2',
      ALERT_FAILURE_MIN_JOBS: '2',
      ALERT_FAILURE_WINDOW_MS: '60000',
      // A small budget and a steep price, so one flashcards job (about 110 tokens from the local provider) fills half the bar.
      BUDGET_MONTHLY_LIMIT: '1',
      BUDGET_PRICE_PER_1K_TOKENS: '5',
    };
    services.push(await startService('api', env, /api listening/));
    services.push(await startService('worker', env, /worker started/));
    services.push(await startService('metrics', env, /metrics listening/));
    say(`stack up at ${base}`);

    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
    const alice = await tokenFor('alice');
    const ops = await tokenFor('ops', ['admin']);
    const service = await tokenFor('chat-service', ['service']);

    // Sign-in form.
    const signIn = await (await browser.newContext({ viewport: { width: 1280, height: 720 }, reducedMotion: 'reduce' })).newPage();
    await signIn.goto(`${base}/`);
    await signIn.getByRole('heading', { name: 'Sign in' }).waitFor();
    await shoot(signIn, 'sign-in.png');

    // Alice's jobs: two flashcards and a demo finished, one failed, one running.
    const page = await open(browser, base, alice, { width: 1280, height: 900 });
    await page.getByRole('button', { name: 'Not now' }).click();
    await page.getByRole('radio', { name: 'flashcards.generate' }).check();
    await page.getByRole('button', { name: 'Submit job' }).click();
    await page.getByText(/^Submitted flashcards\.generate job/).waitFor();
    await submitDemo(page, 300, 3, 3);
    await submitDemo(page, 1_200, 4);
    await page.locator('li.job[data-state="failed"]').waitFor({ timeout: 30_000 });
    await page.locator('li.job[data-state="completed"]').nth(1).waitFor({ timeout: 30_000 });
    await submitDemo(page, 12_000, 10);
    await page.locator('li.job[data-state="active"] [role="progressbar"][aria-valuenow="60"]').waitFor({ timeout: 30_000 });
    await page.locator('li.job[data-state="completed"] details.job-result summary').first().click();
    await page.locator('li.job[data-state="active"] details.job-log summary').click();
    await page.mouse.move(0, 0);
    await shoot(page, 'dashboard-jobs.png', true);

    // The submit form, built from flashcards.generate's payload schema, refusing a value in the page.
    const form = await open(browser, base, alice, { width: 1280, height: 900 });
    await form.getByRole('button', { name: 'Not now' }).click();
    await form.getByRole('radio', { name: 'flashcards.generate' }).check();
    await form.getByLabel('Number of cards').fill('80');
    await form.getByRole('button', { name: 'Submit job' }).click();
    await form.locator('#payload-count-error').waitFor();
    await form.mouse.move(0, 0);
    await form.locator('section[aria-labelledby="submit-title"]').screenshot({ path: join(outDir, 'dashboard-submit-form.png'), animations: 'disabled' });
    say('wrote docs/screenshots/dashboard-submit-form.png');
    await form.context().close();

    // Notifications: four, two of them read.
    const notices = [
      { title: 'Weekly report ready', message: 'Your usage report for last week can be downloaded.', category: 'reports' },
      { title: 'Deck shared with you', message: 'Sam shared "Cell biology" with you.', category: 'sharing' },
      { title: 'New comment', message: 'Priya: "Card 3 needs a better answer."', category: 'comments', priority: 'high' },
      { title: 'Study reminder', message: 'You planned to review Photosynthesis today.', category: 'reminders' },
    ];
    const created: { id: string }[] = [];
    for (const notice of notices) created.push(await api<{ id: string }>(base, service, 'POST', '/api/notifications', { userId: 'alice', type: 'app.notice', ...notice }));
    for (const { id } of created.slice(0, 2)) await api(base, alice, 'POST', `/api/notifications/${id}/read`, {});
    await page.getByLabel('Notifications, 2 unread').waitFor();
    await dismissToasts(page);
    await page.getByTestId('bell').click();
    await page.getByRole('dialog', { name: 'Notifications' }).getByTestId('inbox-item').nth(3).waitFor();
    await shoot(page, 'dashboard-inbox.png');

    // The admin's view, once the failure alert fires and the budget has a spend.
    const admin = await open(browser, base, ops, { width: 1280, height: 900 });
    await submitDemo(admin, 100, 1, 3);
    await admin.getByRole('button', { name: 'Not now' }).click();
    await waitUntil('the failure alert', async () => (await api<{ alerts: Record<string, boolean> }>(base, ops, 'GET', '/api/metrics/alerts')).alerts.failureRateHigh === true, 30_000, 250);
    await admin.getByRole('button', { name: 'Refresh' }).click();
    await admin.locator('[data-alert="failureRateHigh"]').waitFor();
    await admin.locator('li.job[data-state="failed"]').waitFor({ timeout: 30_000 });
    await admin.getByLabel('Reason (shown to refused clients)').fill('Provider outage, back by 14:00');
    await admin.getByLabel('Reason (shown to refused clients)').blur();
    await admin.mouse.move(0, 0);
    await dismissToasts(admin);
    await shoot(admin, 'dashboard-admin.png');

    // Phone: the same browser's jobs (its localStorage carried over) and a new one running, then the inbox.
    const remembered = await page.evaluate(() => Object.fromEntries(Object.entries(localStorage).filter(([key]) => key.startsWith('jobstream.jobs.'))));
    const phone = await open(browser, base, alice, { width: 390, height: 844 }, 'light', remembered);
    await phone.getByRole('button', { name: 'Not now' }).click();
    await submitDemo(phone, 8_000, 8);
    await phone.locator('li.job[data-state="active"] [role="progressbar"][aria-valuenow="50"]').waitFor({ timeout: 30_000 });
    await dismissToasts(phone);
    await phone.evaluate(() => document.getElementById('jobs-title')?.scrollIntoView());
    await shoot(phone, 'dashboard-phone-jobs.png');
    await phone.getByTestId('bell').click();
    await phone.getByRole('dialog', { name: 'Notifications' }).getByTestId('inbox-item').first().waitFor();
    await shoot(phone, 'dashboard-phone-inbox.png');

    // The dark palette (prefers-color-scheme: dark), for the contrast check by eye.
    const dark = await open(browser, base, ops, { width: 1280, height: 900 }, 'dark', remembered);
    await dark.getByRole('button', { name: 'Not now' }).click();
    await dark.locator('[data-alert="failureRateHigh"]').waitFor();
    await dismissToasts(dark);
    await shoot(dark, 'dashboard-dark.png');
  } catch (err) {
    for (const s of services) say(`${s.name} output:\n${s.output().slice(-2_000)}`);
    throw err;
  } finally {
    await browser?.close();
    for (const s of services.reverse()) await stopService(s);
    await redis.destroy();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
