import type { Browser } from 'playwright-core';
import { tokenFor } from '../../test-support/auth';
import { waitUntil } from '../../test-support/wait';
import { connectionIndicator, jobCard, openDashboard, signInCode, submitDemoJob, type TestStack, withBrowserStack } from './browser-support';

describe('dashboard: signing in', () => {
  let browser: Browser;
  let stack: TestStack;
    // No clock-skew allowance, so a token given 3 s of life is refused after 3 s.
  withBrowserStack({ JWT_CLOCK_SKEW_S: '0' }, (started, running) => {
    browser = started;
    stack = running;
  });

  it('signs in from a #code= link, leaving neither the code nor the token in the address bar or any history entry, and stays signed in across a reload', async () => {
    const token = await tokenFor('frank');
    const code = await signInCode(stack, 'frank', [], token);
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${stack.url}/#code=${code}`);
    await connectionIndicator(page).filter({ hasText: 'Live' }).waitFor();
    expect(page.url()).toBe(`${stack.url}/`);
    expect(await page.evaluate(() => sessionStorage.getItem('jobstream.token'))).toBe(token);
    await page.locator('.user-name', { hasText: 'frank' }).waitFor();
    // Every entry of the tab's history, as the browser keeps it (what its history page and sync see).
    const cdp = await context.newCDPSession(page);
    const { entries } = (await cdp.send('Page.getNavigationHistory')) as { entries: { url: string }[] };
    const urls = entries.map((entry) => entry.url);
    expect(urls).toContain(`${stack.url}/`);
    expect(urls.filter((url) => url.includes(code) || url.includes(token) || url.includes('#'))).toEqual([]);
    // The code was good once: the api no longer knows it.
    const again = await fetch(`${stack.url}/api/sign-in-codes/redeem`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }) });
    expect(again.status).toBe(404);

    await page.reload();
    await connectionIndicator(page).filter({ hasText: 'Live' }).waitFor();
    await page.locator('.user-name', { hasText: 'frank' }).waitFor();
    await context.close();
  });

  it('offers the sign-in form without a token and signs in with a pasted one', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${stack.url}/`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();

    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Paste a token first.').waitFor();

    await page.getByLabel('Access token').fill(`Bearer ${await tokenFor('grace')}`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await connectionIndicator(page).filter({ hasText: 'Live' }).waitFor();
    await page.locator('.user-name', { hasText: 'grace' }).waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You are signed out.').waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('jobstream.token'))).toBeNull();
    await context.close();
  });

  it("removes the user's job ids from this browser's storage on sign-out, so the next person there sees none of them", async () => {
    const { page, context } = await openDashboard(browser, stack, 'ivan');
    const jobId = await submitDemoJob(page, { durationMs: 100, steps: 1 });
    await jobCard(page, jobId).locator('.state-badge', { hasText: 'Completed' }).waitFor();
    const stored = (): Promise<string[]> =>
      page.evaluate(() => Object.keys(localStorage).map((key) => `${key}=${localStorage.getItem(key) ?? ''}`));
    const keysHolding = async (id: string): Promise<string[]> => (await stored()).filter((entry) => entry.includes(id)).map((entry) => entry.split('=')[0]!);
    // While signed in, the jobs shown and the ones "Clear finished" hid are kept under the user's own keys.
    expect(await keysHolding(jobId)).toEqual(['jobstream.jobs.v1.ivan']);
    await page.getByRole('button', { name: 'Clear finished' }).click();
    expect(await keysHolding(jobId)).toEqual(['jobstream.jobs.hidden.v1.ivan']);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You are signed out.').waitFor();
    expect((await stored()).filter((entry) => entry.includes('ivan') || entry.includes(jobId))).toEqual([]);
    await context.close();
  });

  it('says why a token was refused', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${stack.url}/`);
    await page.getByLabel('Access token').fill(await tokenFor('heidi', [], { secret: 'not-the-api-secret-0123456789-0123456789' }));
    await page.getByRole('button', { name: 'Sign in' }).click();
    const notice = page.getByRole('alert');
    await notice.waitFor();
    expect(await notice.textContent()).toMatch(/The api did not accept that token: .*\(INVALID_TOKEN\)/);
    await context.close();
  });

  it('does not sign in from a #token= link, and says why', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const token = await tokenFor('heidi');
    await page.goto(`${stack.url}/#token=${token}`);
    const notice = page.getByRole('alert');
    await notice.waitFor();
    expect(await notice.textContent()).toMatch(/Links with #token= are no longer accepted/);
    await page.getByLabel('Access token').waitFor();
    expect(page.url()).toBe(`${stack.url}/`);
    expect(await page.evaluate(() => sessionStorage.getItem('jobstream.token'))).toBeNull();
    await context.close();
  });

  it('says why a used sign-in link did not work', async () => {
    const code = await signInCode(stack, 'heidi');
    await fetch(`${stack.url}/api/sign-in-codes/redeem`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }) });
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${stack.url}/#code=${code}`);
    const notice = page.getByRole('alert');
    await notice.waitFor();
    expect(await notice.textContent()).toMatch(/This sign-in link did not work: .*unknown, used or expired/);
    expect(await page.evaluate(() => sessionStorage.getItem('jobstream.token'))).toBeNull();
    await context.close();
  });

  it('asks before a second link in a signed-in tab switches users, and switches only on Continue', async () => {
    const { page, context } = await openDashboard(browser, stack, 'judy');
    await page.locator('.user-name', { hasText: 'judy' }).waitFor();
    const judyToken = await page.evaluate(() => sessionStorage.getItem('jobstream.token'));

    // A link opened in the same tab: no reload, only a hashchange.
    await page.evaluate((code) => (location.hash = `#code=${code}`), await signInCode(stack, 'mallory'));
    const dialog = page.getByRole('alertdialog');
    await dialog.getByRole('heading', { name: 'Sign in as mallory?' }).waitFor();
    expect(await dialog.textContent()).toContain('This tab is signed in as judy');
    expect(page.url()).toBe(`${stack.url}/`);
    expect(await page.evaluate(() => sessionStorage.getItem('jobstream.token'))).toBe(judyToken);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await connectionIndicator(page).filter({ hasText: 'Live' }).waitFor();
    await page.locator('.user-name', { hasText: 'judy' }).waitFor();

    await page.evaluate((code) => (location.hash = `#code=${code}`), await signInCode(stack, 'mallory'));
    await dialog.getByRole('button', { name: 'Continue' }).click();
    await connectionIndicator(page).filter({ hasText: 'Live' }).waitFor();
    await page.locator('.user-name', { hasText: 'mallory' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('jobstream.token'))).not.toBe(judyToken);
    await context.close();
  });

  it('shows a lookalike subject with its code points and a warning before signing in as it', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${stack.url}/#code=${await signInCode(stack, 'alice\u200B')}`);
    const dialog = page.getByRole('alertdialog');
    await dialog.waitFor();
    expect(await dialog.locator('h1 bdi').textContent()).toBe('alice<U+200B>');
    expect(await dialog.getByRole('alert').textContent()).toMatch(/may imitate another name/);
    expect(await page.evaluate(() => sessionStorage.getItem('jobstream.token'))).toBeNull();
    await dialog.getByRole('button', { name: 'Continue' }).click();
    await connectionIndicator(page).filter({ hasText: 'Live' }).waitFor();
    await context.close();
  });

  it('returns to the sign-in form with the reason when a call is refused with 401 mid-session', async () => {
    // Long enough to be handed over and go live on a busy machine (a code needs 1 s of it left).
    const token = await tokenFor('ivan', [], { expiresIn: '8s' });
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${stack.url}/#code=${await signInCode(stack, 'ivan', [], token)}`);
    await connectionIndicator(page).filter({ hasText: 'Live' }).waitFor();
    await waitUntil(
      'the token to expire',
      async () => (await fetch(`${stack.url}/api/me`, { headers: { authorization: `Bearer ${token}` } })).status === 401,
      20_000,
      250,
    );

    await page.getByRole('button', { name: 'Submit job' }).click();
    const notice = page.getByRole('alert');
    await notice.waitFor();
    expect(await notice.textContent()).toMatch(/Your session ended: .*\(TOKEN_EXPIRED\)\. Sign in again\./);
    await page.getByLabel('Access token').waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('jobstream.token'))).toBeNull();
    await context.close();
  });
});

describe('dashboard: AUTH_MODE=none', () => {
  let browser: Browser;
  let stack: TestStack;
  withBrowserStack({ AUTH_MODE: 'none' }, (started, running) => {
    browser = started;
    stack = running;
  });

  it('needs no token: the demo user sees everything, with no sign-out', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${stack.url}/`);
    await connectionIndicator(page).filter({ hasText: 'Live' }).waitFor();
    await page.locator('.user-name', { hasText: 'demo' }).waitFor();
    await page.getByRole('region', { name: 'Operations' }).waitFor();
    expect(await page.getByRole('button', { name: 'Sign out' }).count()).toBe(0);
    await context.close();
  });
});
