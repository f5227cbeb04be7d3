import type { Logger } from '@jobstream/runtime';
import * as Sentry from '@sentry/node';
import type { ErrorRequestHandler } from 'express';
import { toApiError } from '../http/error-handler.js';

/**
 * Starts Sentry when a DSN is configured and does nothing otherwise. Default integrations report
 * uncaught exceptions and unhandled rejections; tracing stays off (latency is Prometheus' job).
 */
export function initSentry(options: { dsn?: string | undefined; environment?: string | undefined; logger: Logger }): boolean {
  if (!options.dsn) return false;
  if (Sentry.isInitialized()) return true;
  Sentry.init({
    dsn: options.dsn,
    ...(options.environment ? { environment: options.environment } : {}),
    serverName: 'jobstream-api',
    initialScope: { tags: { service: 'api' } },
  });
  options.logger.info('sentry enabled');
  return true;
}

/**
 * Reports the errors that become a 500 (bugs) to Sentry, then hands them on to the error handler.
 * Expected errors (validation, 404, 429, Redis away) are answers, not bugs, and are not reported.
 */
export const sentryErrorReporter: ErrorRequestHandler = (err, req, _res, next) => {
  if (Sentry.isInitialized() && !toApiError(err)) {
    Sentry.withScope((scope) => {
      scope.setTag('route', `${req.baseUrl}${(req.route as { path?: string } | undefined)?.path ?? ''}`);
      scope.setContext('request', { method: req.method, path: req.path });
      Sentry.captureException(err);
    });
  }
  next(err);
};

export async function flushSentry(timeoutMs = 2_000): Promise<void> {
  if (Sentry.isInitialized()) await Sentry.flush(timeoutMs);
}
