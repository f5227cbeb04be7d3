import type { Browser, Page } from 'playwright-core';
import { notify, openDashboard, type TestStack, withBrowserStack } from './browser-support';

const bell = (page: Page) => page.getByTestId('bell');

describe('dashboard: notification bell and inbox', () => {
  let browser: Browser;
  let stack: TestStack;
  withBrowserStack({}, (started, running) => {
    browser = started;
    stack = running;
  });

  it('counts unread notifications live, toasts new ones, and marks one and then all read', async () => {
    await notify(stack, 'carol', 'Older message');
    const { page, context } = await openDashboard(browser, stack, 'carol');
    await bell(page).and(page.getByLabel('Notifications, 1 unread')).waitFor();

    await notify(stack, 'carol', 'Build finished', { category: 'ci' });
    await notify(stack, 'carol', 'Review requested', { priority: 'high' });
    await bell(page).and(page.getByLabel('Notifications, 3 unread')).waitFor();
    expect(await page.getByTestId('unread-badge').textContent()).toBe('3');
    await page.getByTestId('toast').filter({ hasText: 'Review requested' }).waitFor();

    await bell(page).click();
    const inbox = page.getByRole('dialog', { name: 'Notifications' });
    await inbox.getByTestId('inbox-item').nth(2).waitFor();
    expect(await inbox.locator('.inbox-title').allTextContents()).toEqual(['Review requested', 'Build finished', 'Older message']);

    await inbox.getByRole('button', { name: 'Mark read: Build finished' }).click();
    await bell(page).and(page.getByLabel('Notifications, 2 unread')).waitFor();
    expect(await inbox.locator('.inbox-item.unread .inbox-title').allTextContents()).toEqual(['Review requested', 'Older message']);

    await inbox.getByRole('button', { name: 'Mark all read' }).click();
    await bell(page).and(page.getByLabel('Notifications, 0 unread')).waitFor();
    expect(await inbox.locator('.inbox-item.unread').count()).toBe(0);
    expect(await page.getByTestId('unread-badge').count()).toBe(0);

    // What was read stays read: the api says so after a reload too.
    await page.reload();
    await bell(page).and(page.getByLabel('Notifications, 0 unread')).waitFor();
    await context.close();
  });

  it('opens and closes the inbox from the keyboard, returning focus to the bell', async () => {
    const { page, context } = await openDashboard(browser, stack, 'dave');
    await bell(page).focus();
    await page.keyboard.press('Enter');
    const inbox = page.getByRole('dialog', { name: 'Notifications' });
    await inbox.getByText('No notifications yet.').waitFor();
    expect(await bell(page).getAttribute('aria-expanded')).toBe('true');
    await page.keyboard.press('Escape');
    await inbox.waitFor({ state: 'detached' });
    expect(await bell(page).evaluate((el) => el === document.activeElement)).toBe(true);
    await context.close();
  });
});
