import { jobTypeNames, jobTypes } from '@jobstream/contracts';
import type { Browser, Page } from 'playwright-core';
import { openDashboard, type TestStack, withBrowserStack } from './browser-support';

/** The submit form is generated from the job types' payload schemas; these drive it in Chromium against the real api and worker. */
describe('dashboard: the submit form', () => {
  let browser: Browser;
  let stack: TestStack;
  withBrowserStack({}, (started, running) => {
    browser = started;
    stack = running;
  });

  /** The POST /api/jobs requests the page sent, with their bodies. */
  const recordSubmissions = (page: Page): unknown[] => {
    const bodies: unknown[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && new URL(request.url()).pathname === '/api/jobs') bodies.push(request.postDataJSON());
    });
    return bodies;
  };

  it("lists every job type, and shows each type's fields with the labels, limits and defaults of its schema", async () => {
    const { page, context, errors } = await openDashboard(browser, stack, 'fern');
    const types = await page.getByRole('group', { name: 'Job type' }).getByRole('radio').evaluateAll((radios) => radios.map((radio) => (radio as HTMLInputElement).value));
    expect(types).toEqual(jobTypeNames);

    await page.getByRole('radio', { name: 'flashcards.generate' }).check();
    await page.getByTestId('job-type-description').filter({ hasText: jobTypes['flashcards.generate'].description }).waitFor();
    const count = page.getByLabel('Number of cards');
    expect(await count.evaluate((el) => [(el as HTMLInputElement).type, (el as HTMLInputElement).min, (el as HTMLInputElement).max, (el as HTMLInputElement).value])).toEqual(['number', '1', '50', '5']);
    expect(await page.getByLabel('Subject').evaluate((el) => [el.tagName, (el as HTMLInputElement).maxLength, (el as HTMLInputElement).value])).toEqual(['INPUT', 200, 'Biology']);
    expect(await page.getByLabel('Study content').evaluate((el) => [el.tagName, (el as HTMLTextAreaElement).maxLength])).toEqual(['TEXTAREA', 50_000]);

    await page.getByRole('radio', { name: 'demo.work' }).check();
    expect(await page.getByLabel('Failing attempts').evaluate((el) => [(el as HTMLInputElement).min, (el as HTMLInputElement).max, (el as HTMLInputElement).value])).toEqual(['0', '10', '0']);
    await page.getByText('The first N attempts fail on purpose; a job has 3.').waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });

  it('submits a valid flashcards.generate job with the values typed in, and shows its cards', async () => {
    const { page, context, errors } = await openDashboard(browser, stack, 'gus');
    const sent = recordSubmissions(page);
    await page.getByRole('radio', { name: 'flashcards.generate' }).check();
    await page.getByLabel('Subject').fill('Chemistry');
    await page.getByLabel('Topic').fill('Bonds');
    await page.getByLabel('Number of cards').fill('2');
    await page.getByLabel('Study content').fill('Ionic bonds transfer electrons. Covalent bonds share electron pairs. Metallic bonds pool electrons.');
    await page.getByRole('button', { name: 'Submit job' }).click();
    await page.getByText(/^Submitted flashcards\.generate job/).waitFor();
    expect(sent).toEqual([
      expect.objectContaining({
        type: 'flashcards.generate',
        payload: { subject: 'Chemistry', topic: 'Bonds', count: 2, content: 'Ionic bonds transfer electrons. Covalent bonds share electron pairs. Metallic bonds pool electrons.' },
      }),
    ]);
    const card = page.locator('li.job[data-state="completed"]');
    await card.waitFor();
    await card.getByText('Result').click();
    expect(await card.locator('.flashcards li').count()).toBe(2);
    expect(errors).toEqual([]);
    await context.close();
  });

  it("shows the schema's message next to a value out of range, and sends nothing until it is fixed", async () => {
    const { page, context } = await openDashboard(browser, stack, 'hana');
    const sent = recordSubmissions(page);
    await page.getByRole('radio', { name: 'flashcards.generate' }).check();
    await page.getByLabel('Number of cards').fill('80');
    await page.getByRole('button', { name: 'Submit job' }).click();
    await page.getByTestId('submit-error').filter({ hasText: 'Check the highlighted fields' }).waitFor();
    const count = page.getByLabel('Number of cards');
    expect(await count.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#payload-count-error').textContent()).toBe('Too big: expected number to be <=50');
    expect(await count.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(sent).toEqual([]);

    await count.fill('3');
    await page.getByRole('button', { name: 'Submit job' }).click();
    await page.getByText(/^Submitted flashcards\.generate job/).waitFor();
    expect(await page.locator('#payload-count-error').count()).toBe(0);
    expect(sent).toHaveLength(1);
    await context.close();
  });

  it("shows the api's 400 field errors next to their fields when the api refuses what the page let through", async () => {
    const { page, context } = await openDashboard(browser, stack, 'ivan');
    // What a page built from older schemas would send: the api, not the page, then refuses it.
    await page.route('**/api/jobs', async (route) => {
      const body = route.request().postDataJSON() as { payload: Record<string, unknown> };
      await route.continue({ postData: JSON.stringify({ ...body, payload: { ...body.payload, steps: 5_000 } }) });
    });
    await page.getByLabel('Duration (ms)').fill('100');
    await page.getByRole('button', { name: 'Submit job' }).click();
    await page.getByTestId('submit-error').filter({ hasText: 'Check the highlighted fields' }).waitFor();
    const steps = page.getByLabel('Progress steps');
    expect(await steps.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#payload-steps-error').textContent()).toBe('Too big: expected number to be <=1000');
    expect(await steps.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await page.locator('li.job').count()).toBe(0);
    await context.close();
  });
});
