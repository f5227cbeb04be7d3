import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import { waitUntil } from '../../test-support/wait';

/** The scopes of the page's service worker registrations. */
export const registrations = (page: Page) => page.evaluate(async () => (await navigator.serviceWorker.getRegistrations()).map((r) => r.scope));

/** The id CDP knows the page's service worker registration by. */
export async function registrationIdOf(cdp: CDPSession, scope: string): Promise<string> {
  const found = new Map<string, string>();
  cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations: updated }) => {
    for (const r of updated) found.set(r.scopeURL, r.registrationId);
  });
  await cdp.send('ServiceWorker.enable');
  return waitUntil(`a service worker registration for ${scope}`, () => found.get(scope));
}

/**
 * Installs the dashboard's push worker the way a user does (a job, then "Notify me when it
 * finishes"), waits for it to be active, and returns a function that delivers a push to it as
 * the browser's push service would (CDP `ServiceWorker.deliverPushMessage`).
 */
export async function installPushWorker(context: BrowserContext, page: Page, origin: string): Promise<(push: object) => Promise<void>> {
  await page.getByTestId('push-offer').click();
  await waitUntil('the service worker', async () => (await registrations(page)).includes(`${origin}/`));
  const cdp = await context.newCDPSession(page);
  const registrationId = await registrationIdOf(cdp, `${origin}/`);
  await waitUntil('the worker to be active', () => page.evaluate(async () => (await navigator.serviceWorker.getRegistration('./'))?.active?.state === 'activated'));
  return async (push) => {
    await cdp.send('ServiceWorker.deliverPushMessage', { origin, registrationId, data: JSON.stringify(push) });
  };
}
