import type { Browser, Page } from 'playwright-core';
import { connectionIndicator, notify, openDashboard, recordNotificationsInHiddenTab, setKillSwitch, shownNotifications, signInCode, type TestStack, withBrowserStack } from './browser-support';

/** Right-to-left override, left unclosed: "Invoice \u202Egpj.exe" reads "Invoice exe.jpg". */
const RLO = '\u202E';
/** Right-to-left embedding, left unclosed: the page's punctuation after it would move to its left. */
const RLE = '\u202B';
/** Pop directional isolate with no isolate of its own to close. */
const STRAY_PDI = '\u2069';
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/;

/** The page is no wider than the window: nothing made it scroll sideways. */
const sidewaysOverflow = (page: Page): Promise<number> => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

/** The computed `unicode-bidi` of the nearest element around the first text node containing `text`. */
function isolationOf(page: Page, text: string): Promise<{ tag: string; unicodeBidi: string; insideBdi: boolean } | undefined> {
  return page.evaluate((needle) => {
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.textContent?.includes(needle) || !node.parentElement) continue;
      const element = node.parentElement;
      return { tag: element.tagName.toLowerCase(), unicodeBidi: getComputedStyle(element).unicodeBidi, insideBdi: element.closest('bdi') !== null };
    }
    return undefined;
  }, text);
}

describe('dashboard: values others control', () => {
  let browser: Browser;
  let stack: TestStack;
  withBrowserStack({}, (started, running) => {
    browser = started;
    stack = running;
  });

  it('isolates a notification title with U+202E in the toast and the inbox, and takes bidi controls out of the browser notification', async () => {
    const context = await browser.newContext();
    await context.grantPermissions(['notifications'], { origin: stack.url });
    // Record the browser notifications the page shows, and pretend the tab is in the background.
    await recordNotificationsInHiddenTab(context);
    const page = await context.newPage();
    await page.goto(`${stack.url}/#code=${await signInCode(stack, 'uma')}`);
    await connectionIndicator(page).filter({ hasText: 'Live' }).waitFor();

    await notify(stack, 'uma', `Invoice ${RLO}gpj.exe`, { message: `Open ${STRAY_PDI}${RLO}gpj.exe now` });
    const toast = page.getByTestId('toast').filter({ hasText: 'Invoice' });
    await toast.waitFor();
    // Isolated, and the override is not obeyed: the name reads as it is, "gpj.exe".
    expect(await isolationOf(page, 'Invoice gpj.exe')).toEqual({ tag: 'bdi', unicodeBidi: 'isolate', insideBdi: true });
    expect(await isolationOf(page, 'Open gpj.exe now')).toEqual({ tag: 'bdi', unicodeBidi: 'isolate', insideBdi: true });
    expect(await toast.locator('bdi').allTextContents()).toEqual(['Invoice gpj.exe', 'Open gpj.exe now']);

    await page.getByTestId('bell').click();
    const inbox = page.getByRole('dialog', { name: 'Notifications' });
    await inbox.getByTestId('inbox-item').waitFor();
    const inboxTitle = inbox.locator('.inbox-title bdi');
    expect(await inboxTitle.textContent()).toBe('Invoice gpj.exe');
    expect(await inboxTitle.evaluate((el) => getComputedStyle(el).unicodeBidi)).toBe('isolate');

    const [notification] = await shownNotifications(page);
    expect(notification).toEqual({ title: 'Invoice gpj.exe', body: 'Open gpj.exe now' });
    expect(notification?.title).not.toMatch(BIDI_CONTROLS);
    await context.close();
  });

  it("keeps the page's own text in order after a kill-switch reason with a stray isolate end and an unclosed embedding", async () => {
    const { page, context } = await openDashboard(browser, stack, 'ops', ['admin']);
    await setKillSwitch(stack, true, `pay ${STRAY_PDI}${RLE}gpj.exe`);
    const state = page.getByTestId('kill-switch-state');
    await state.filter({ hasText: 'On: new jobs are refused' }).waitFor();

    // The closing quote the page writes after the reason must still come after it on the screen.
    const placement = await state.evaluate((root) => {
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      const texts: Text[] = [];
      for (let node = walker.nextNode(); node; node = walker.nextNode()) texts.push(node as Text);
      const reasonIndex = texts.findIndex((t) => t.data.includes('gpj.exe'));
      const quote = texts.slice(reasonIndex + 1).find((t) => t.data.includes('”'));
      const reason = texts[reasonIndex];
      if (!reason || !quote) return undefined;
      const rectsOf = (node: Text, from = 0, to = node.data.length): DOMRect[] => {
        const range = document.createRange();
        range.setStart(node, from);
        range.setEnd(node, to);
        return [...range.getClientRects()].filter((r) => r.width > 0);
      };
      const reasonRects = rectsOf(reason);
      const last = reasonRects[reasonRects.length - 1];
      const quoteRect = rectsOf(quote, quote.data.indexOf('”'), quote.data.indexOf('”') + 1)[0];
      if (!last || !quoteRect) return undefined;
      return { quoteLeft: quoteRect.left, reasonRight: Math.max(...reasonRects.filter((r) => r.top === last.top).map((r) => r.right)), sameLine: quoteRect.top === last.top, below: quoteRect.top >= last.bottom };
    });
    expect(placement).toBeDefined();
    if (placement?.sameLine) expect(placement.quoteLeft).toBeGreaterThanOrEqual(placement.reasonRight - 0.5);
    else expect(placement?.below).toBe(true);
    expect(await isolationOf(page, 'gpj.exe')).toMatchObject({ tag: 'bdi', unicodeBidi: 'isolate' });

    await setKillSwitch(stack, false);
    await context.close();
  });

  it('wraps a 500-character reason and a 20,000-character flashcard instead of widening the page', async () => {
    const { page, context } = await openDashboard(browser, stack, 'vera');
    await setKillSwitch(stack, true, 'x'.repeat(500));
    await page.getByRole('button', { name: 'Submit job' }).click();
    const refusal = page.getByTestId('submit-error').filter({ hasText: 'New jobs are paused' });
    await refusal.waitFor();
    expect(await refusal.evaluate((el) => el.scrollWidth - el.clientWidth)).toBeLessThanOrEqual(0);
    // The box stays in its column: it does not reach over the job list beside it.
    const box = await refusal.boundingBox();
    const jobs = await page.getByRole('region', { name: 'Your jobs' }).boundingBox();
    expect(box!.x + box!.width).toBeLessThanOrEqual(jobs!.x);
    expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
    await setKillSwitch(stack, false);

    await page.getByRole('radio', { name: 'flashcards.generate' }).check();
    await page.getByLabel('Study content').fill(`Water is a ${'w'.repeat(20_000)} substance. Water is needed by every living cell.`);
    await page.getByLabel('Number of cards').fill('2');
    await page.getByRole('button', { name: 'Submit job' }).click();
    await page.getByText(/^Submitted flashcards\.generate job/).waitFor();
    const card = page.locator('li.job[data-state="completed"]');
    await card.waitFor();
    await card.getByText('Result').click();
    const longest = await card.locator('.flashcards li').evaluateAll((items) => Math.max(...items.map((li) => li.textContent?.length ?? 0)));
    expect(longest).toBeGreaterThan(20_000);
    expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
    const list = await page.locator('.job-list').boundingBox();
    const cardBox = await card.boundingBox();
    expect(cardBox!.x + cardBox!.width).toBeLessThanOrEqual(list!.x + list!.width + 0.5);
    await context.close();
  });

  it('keeps the header and Sign out reachable under four 1,000-word toasts', async () => {
    const { page, context } = await openDashboard(browser, stack, 'wendy');
    const words = Array.from({ length: 1_000 }, () => 'w').join(' ');
    for (let i = 1; i <= 4; i += 1) await notify(stack, 'wendy', `Long ${i}`, { message: words });
    await page.getByTestId('toast').nth(3).waitFor();

    const signOut = page.getByRole('button', { name: 'Sign out' });
    // A trial click fails when something else would receive it (a toast over the button).
    await signOut.click({ trial: true, timeout: 5_000 });
    const header = await page.locator('header.topbar').boundingBox();
    const toasts = await page.locator('.toast-stack').boundingBox();
    expect(toasts!.y).toBeGreaterThanOrEqual(header!.y + header!.height);
    await signOut.click();
    await page.getByText('You are signed out.').waitFor();
    await context.close();
  });
});
