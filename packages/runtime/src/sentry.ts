import * as Sentry from '@sentry/node';
import type { Logger } from 'pino';

export interface SentryOptions {
  /** `api`, `worker` or `metrics`: the `service` tag and the server name `jobstream-<service>`. */
  service: string;
  /** `SENTRY_DSN`; without it nothing is started. */
  dsn?: string | undefined;
  /** `SENTRY_ENVIRONMENT`. */
  environment?: string | undefined;
  logger: Logger;
}

/**
 * Starts Sentry when a DSN is configured and does nothing otherwise. Default integrations report
 * uncaught exceptions and unhandled rejections; tracing stays off (latency is Prometheus' job).
 */
export function initSentry(options: SentryOptions): boolean {
  if (!options.dsn) return false;
  if (Sentry.isInitialized()) return true;
  Sentry.init({
    dsn: options.dsn,
    ...(options.environment ? { environment: options.environment } : {}),
    serverName: `jobstream-${options.service}`,
    initialScope: { tags: { service: options.service } },
    // Stream URLs may carry ?access_token=: no query string leaves the process.
    beforeSend(event) {
      if (event.request) {
        delete event.request.query_string;
        if (event.request.url) event.request.url = event.request.url.split('?')[0];
      }
      return event;
    },
    beforeBreadcrumb(breadcrumb) {
      const url: unknown = breadcrumb.data?.url;
      if (typeof url === 'string' && breadcrumb.data) breadcrumb.data.url = url.split('?')[0];
      return breadcrumb;
    },
  });
  options.logger.info('sentry enabled');
  return true;
}

/** Sends what is queued before the process exits. */
export async function flushSentry(timeoutMs = 2_000): Promise<void> {
  if (Sentry.isInitialized()) await Sentry.flush(timeoutMs);
}
