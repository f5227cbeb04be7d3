import { randomUUID } from 'node:crypto';
import type { Browser, Locator } from 'playwright-core';
import { waitUntil } from '../../test-support/wait';
import { notify, withBrowserStack, type TestStack } from './browser-support';
import { REACT_MAJORS, bundleFixtureApp, openFixtureApp, openStreamsOnApi, type FixturePage } from './react-app/react-fixture';

const STREAM_PATH = '/api/notifications/stream';

/** useNotifications, useUnreadCount and useInbox in a React app in Chromium (StrictMode, React 19 and 18), against a real api. */
describe.each(REACT_MAJORS)('@jobstream/react notification hooks in Chromium on React %s', (major) => {
  let browser: Browser;
  let stack: TestStack;
  let bundle: string;
  let app: FixturePage | undefined;
  withBrowserStack({}, (b, s) => {
    browser = b;
    stack = s;
  });

  beforeAll(async () => {
    bundle = await bundleFixtureApp(major);
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  const panel = (index: number) => app!.page.locator(`ul.notifications[data-panel="${index}"]`);
  const unread = () => app!.page.getByTestId('unread');

  it('gives two useNotifications components and the unread badge one shared stream, closed when the last of them unmounts', async () => {
    const user = `react-${randomUUID()}`;
    app = await openFixtureApp(browser, stack, bundle, user);
    expect(await app.reactVersion()).toMatch(new RegExp(`^${major}\\.`));
    await app.show({ notificationPanels: 2, unreadBadge: true });
    await panel(1).and(app.page.locator('[data-connection="live"]')).waitFor({ state: 'attached' }); // an empty list is not visible
    await waitUntil('the api to hold the stream', async () => (await openStreamsOnApi(stack)) === 1);

    await notify(stack, user, 'Lunch at noon');
    for (const index of [0, 1]) await panel(index).getByText('Lunch at noon').waitFor();
    await expectText(unread(), '1');
    expect(app.streamRequests(STREAM_PATH)).toBe(1);
    expect(await openStreamsOnApi(stack)).toBe(1);

    // One panel goes: the stream stays for the other and the badge.
    await app.show({ notificationPanels: 1 });
    await notify(stack, user, 'Coffee at three');
    await panel(0).getByText('Coffee at three').waitFor();
    await expectText(unread(), '2');
    expect(await openStreamsOnApi(stack)).toBe(1);

    await app.show({ notificationPanels: 0, unreadBadge: false });
    await waitUntil('the api to see the stream close', async () => (await openStreamsOnApi(stack)) === 0);
    expect(app.streamRequests(STREAM_PATH)).toBe(1);
    expect(app.errors).toEqual([]);
  });

  it('updates the unread count when a notification arrives and after mark-read and mark-all-read in the inbox', async () => {
    const user = `react-${randomUUID()}`;
    await notify(stack, user, 'Before the page opened');
    app = await openFixtureApp(browser, stack, bundle, user);
    await app.show({ unreadBadge: true, inbox: true });
    const inbox = app.page.locator('section.inbox');
    await inbox.getByText('Before the page opened').waitFor();
    await expectText(unread(), '1');

    await notify(stack, user, 'Build finished');
    await inbox.getByText('Build finished').waitFor();
    await expectText(unread(), '2');
    // Newest first: the live arrival above the page's item.
    expect(await inbox.locator('li span').allTextContents()).toEqual(['Build finished', 'Before the page opened']);

    await inbox.locator('li', { hasText: 'Build finished' }).getByRole('button', { name: 'Mark read' }).click();
    await inbox.locator('li[data-read="true"]', { hasText: 'Build finished' }).waitFor();
    await expectText(unread(), '1');

    await notify(stack, user, 'Deploy done');
    await expectText(unread(), '2');
    await inbox.getByRole('button', { name: 'Mark all read' }).click();
    await expectText(unread(), '0');
    await waitUntil('every item to show read', async () => (await inbox.locator('li[data-read="false"]').count()) === 0);
    expect(await inbox.locator('li').count()).toBe(3);
    // The badge and the inbox read one stream.
    expect(app.streamRequests(STREAM_PATH)).toBe(1);
    expect(app.errors).toEqual([]);
  });
});

/** Waits until the locator's text is exactly `text`. */
async function expectText(locator: Locator, text: string): Promise<void> {
  await waitUntil(`the text "${text}"`, async () => (await locator.textContent()) === text);
}
