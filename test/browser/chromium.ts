import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

/** Debian's chromium (`apt-get install chromium`); CHROMIUM_PATH points elsewhere. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * The flags CI runs Chromium with: no sandbox (root in a container), no GPU, and nothing that
 * reaches the internet on its own (the machines have none; those requests would only slow it down).
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

function requireChromium(): void {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`No Chromium at ${CHROMIUM_PATH}: install it (apt-get install -y chromium) or set CHROMIUM_PATH`);
  }
}

/**
 * Launches Chromium. Playwright gives every launch a fresh temporary profile (`--user-data-dir`)
 * and deletes it on close, and every `newContext()` is isolated on top of it (its own storage),
 * so no state leaks between tests or users.
 */
export async function launchChromium(): Promise<Browser> {
  requireChromium();
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
}

/**
 * Chromium on a fresh profile of its own, driven through that profile's own context (not one the
 * DevTools protocol made): what the desktop's notification clicks reach, since they name the
 * profile. `env` is added to the browser's environment (the D-Bus session bus of
 * desktop-notifications.ts). `close` also deletes the profile.
 */
export async function launchChromiumProfile(env: Record<string, string>): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  requireChromium();
  const dir = mkdtempSync(join(tmpdir(), 'jobstream-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 30_000,
    env: { ...(process.env as Record<string, string>), ...env },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
