import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { connectionIndicator, jobCard, openDashboard, recordNotificationsInHiddenTab, shownNotifications, signInCode, submitDemoJob, type TestStack, withBrowserStack } from './browser-support';

describe('dashboard: the page', () => {
  let browser: Browser;
  let stack: TestStack;
  withBrowserStack({}, (started, running) => {
    browser = started;
    stack = running;
  });

  it('is served by the api at / under a CSP that allows no inline script, and runs without a violation', async () => {
    const res = await fetch(`${stack.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self'(;|$)/);
    const html = await res.text();
    const script = /<script type="module" crossorigin src="\.\/(assets\/index-[\w-]+\.js)"><\/script>/.exec(html);
    expect(script).not.toBeNull();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const asset = await fetch(`${stack.url}/${script?.[1]}`);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(asset.headers.get('content-type')).toMatch(/javascript/);

    const { page, context, errors } = await openDashboard(browser, stack, 'judy');
    const jobId = await submitDemoJob(page, { durationMs: 300, steps: 3 });
    await jobCard(page, jobId).locator('.state-badge', { hasText: 'Completed' }).waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });

  it('serves no source maps: the build emits none and the api has none to serve', async () => {
    const html = await (await fetch(`${stack.url}/`)).text();
    const assets = [...html.matchAll(/(?:src|href)="\.\/(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(2);
    for (const asset of assets) {
      const body = await (await fetch(`${stack.url}/${asset}`)).text();
      expect(body).not.toMatch(/sourceMappingURL/);
      const map = await fetch(`${stack.url}/${asset}.map`);
      await map.body?.cancel();
      expect([asset, map.status]).toEqual([asset, 404]);
    }
    expect(readdirSync(join(__dirname, '..', '..', 'packages', 'dashboard', 'dist', 'assets')).filter((name) => name.endsWith('.map'))).toEqual([]);
  });

  it('follows every job on the page through one notification stream, never a stream per job', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const streams: string[] = [];
    page.on('request', (request) => {
      const path = new URL(request.url()).pathname;
      if (path.endsWith('/stream') || path.endsWith('/events')) streams.push(path);
    });
    await page.goto(`${stack.url}/#code=${await signInCode(stack, 'nora')}`);
    await connectionIndicator(page).filter({ hasText: 'Live' }).waitFor();
    const first = await submitDemoJob(page, { durationMs: 600, steps: 2 });
    const second = await submitDemoJob(page, { durationMs: 600, steps: 2 });
    await jobCard(page, first).locator('.state-badge', { hasText: 'Completed' }).waitFor();
    await jobCard(page, second).locator('.state-badge', { hasText: 'Completed' }).waitFor();
    expect(streams).toEqual(['/api/notifications/stream']);
    await context.close();
  });

  it('refuses an empty required field in the page, next to the field, focuses it and sends nothing', async () => {
    const { page, context } = await openDashboard(browser, stack, 'olga');
    const submissions: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && new URL(request.url()).pathname === '/api/jobs') submissions.push(request.url());
    });
    await page.getByLabel('Duration (ms)').fill('');
    await page.getByRole('button', { name: 'Submit job' }).click();
    await page.getByTestId('submit-error').filter({ hasText: 'Check the highlighted fields' }).waitFor();
    const duration = page.getByLabel('Duration (ms)');
    expect(await duration.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#payload-durationMs-error').textContent()).toBe('Required');
    expect(await duration.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await page.locator('li.job').count()).toBe(0);
    expect(submissions).toEqual([]);
    await context.close();
  });

  it('submits a flashcards.generate job and shows the generated cards', async () => {
    const { page, context } = await openDashboard(browser, stack, 'pat');
    await page.getByRole('radio', { name: 'flashcards.generate' }).check();
    await page.getByLabel('Number of cards').fill('3');
    await page.getByRole('button', { name: 'Submit job' }).click();
    await page.getByText(/^Submitted flashcards\.generate job/).waitFor();
    const card = page.locator('li.job[data-state="completed"]');
    await card.waitFor();
    await card.getByText('Result').click();
    expect(await card.locator('.flashcards li').count()).toBe(3);
    await context.close();
  });

  it('fits a phone-sized screen without sideways scrolling, with the inbox open too', async () => {
    const { page, context } = await openDashboard(browser, stack, 'kim', ['admin'], { width: 375, height: 740 });
    const jobId = await submitDemoJob(page, { durationMs: 200, steps: 2 });
    await jobCard(page, jobId).locator('.state-badge', { hasText: 'Completed' }).waitFor();
    const overflow = (): Promise<number> => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(await overflow()).toBeLessThanOrEqual(0);

    await page.getByTestId('bell').click();
    const inbox = page.getByRole('dialog', { name: 'Notifications' });
    await inbox.waitFor();
    const box = await inbox.boundingBox();
    expect(box).not.toBeNull();
    expect(box!.x).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width).toBeLessThanOrEqual(375);
    expect(await overflow()).toBeLessThanOrEqual(0);
    await context.close();
  });

  it('asks for browser notifications only on request and says so when they are blocked', async () => {
    const { page, context } = await openDashboard(browser, stack, 'leo');
    const offer = page.getByRole('region', { name: 'Notify me in the background' });
    await offer.waitFor();
    // Headless Chromium has no one to ask: the request is refused, as a person's "Block" would be.
    await offer.getByRole('button', { name: 'Turn on notifications' }).click();
    await page.getByTestId('desktop-denied').waitFor();
    expect(await offer.count()).toBe(0);
    await context.close();
  });

  it('shows a browser notification for a finished job while the tab is hidden, once permission is granted', async () => {
    const context = await browser.newContext();
    await context.grantPermissions(['notifications'], { origin: stack.url });
    // Record what the page shows instead of relying on the desktop, and pretend the tab is in the background.
    await recordNotificationsInHiddenTab(context);
    const page = await context.newPage();
    await page.goto(`${stack.url}/#code=${await signInCode(stack, 'mallory')}`);
    await page.getByText('Browser notifications are on').waitFor();

    const jobId = await submitDemoJob(page, { durationMs: 100, steps: 1 });
    await jobCard(page, jobId).locator('.state-badge', { hasText: 'Completed' }).waitFor();
    expect(await shownNotifications(page)).toEqual([{ title: 'demo.work completed', body: expect.stringMatching(/^Finished in \d+ ms\.$|^Finished in \d\.\d s\.$/) }]);
    await context.close();
  });
});
