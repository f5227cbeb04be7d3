import type { Logger } from 'pino';
import type { SentryClient } from './sentry-client.js';

export interface SentryOptions {
  /** `api`, `worker` or `metrics`: the `service` tag and the server name `jobstream-<service>`. */
  service: string;
  /** `SENTRY_DSN`; without it nothing is loaded or started. */
  dsn?: string | undefined;
  /** `SENTRY_ENVIRONMENT`. */
  environment?: string | undefined;
  logger: Logger;
}

/** What goes with one reported error. */
export interface ErrorReport {
  /** Default `error`. */
  level?: 'fatal' | 'error' | 'warning';
  tags?: Record<string, string>;
  contexts?: Record<string, Record<string, unknown>>;
  /** How the error was caught; set for crashes (`handled: false`). */
  mechanism?: { type: string; handled: boolean };
}

let client: Promise<SentryClient | undefined> | undefined;

/**
 * Starts error reporting when a DSN is configured and does nothing otherwise: the SDK is imported
 * only then, so a process without a DSN never loads it. Reports made while it loads are sent once
 * it has. Uncaught exceptions and unhandled rejections are reported; there is no tracing.
 */
export function initSentry(options: SentryOptions): boolean {
  const { dsn, logger } = options;
  if (!dsn) return false;
  if (client) return true;
  client = import('./sentry-client.js').then(
    (module) => module.startSentryClient({ ...options, dsn }),
    (err: unknown) => {
      logger.error({ err }, 'sentry could not be loaded: errors are not reported');
      return undefined;
    },
  );
  logger.info('sentry enabled');
  return true;
}

/** Whether `initSentry` was given a DSN in this process. */
export function sentryEnabled(): boolean {
  return client !== undefined;
}

/** Sends an error to Sentry with its level, tags and contexts; a no-op without a DSN. */
export function reportError(err: unknown, report: ErrorReport = {}): void {
  void client?.then((started) => started?.capture(err, report));
}

/** Sends what is queued before the process exits. */
export async function flushSentry(timeoutMs = 2_000): Promise<void> {
  await (await client)?.flush(timeoutMs);
}
