import * as Sentry from '@sentry/node';
import type { Logger } from '@jobstream/runtime';

/**
 * Starts Sentry when a DSN is configured and does nothing otherwise. Default integrations report
 * uncaught exceptions and unhandled rejections; performance tracing stays off (the metrics are
 * Prometheus' job).
 */
export function initSentry(options: { dsn?: string | undefined; environment?: string | undefined; logger: Logger }): boolean {
  if (!options.dsn) return false;
  Sentry.init({
    dsn: options.dsn,
    ...(options.environment ? { environment: options.environment } : {}),
    serverName: 'jobstream-metrics',
    initialScope: { tags: { service: 'metrics' } },
  });
  options.logger.info('sentry enabled');
  return true;
}

/** Sends what is queued before the process exits. */
export async function flushSentry(timeoutMs = 2_000): Promise<void> {
  await Sentry.flush(timeoutMs);
}
