import { reportError, sentryEnabled } from '@jobstream/runtime';
import type { ErrorRequestHandler } from 'express';
import { toApiError } from '../http/error-handler.js';

/**
 * Reports the errors that become a 500 (bugs) to Sentry, then hands them on to the error handler.
 * Expected errors (validation, 404, 429, Redis away) are answers, not bugs, and are not reported.
 */
export const sentryErrorReporter: ErrorRequestHandler = (err, req, _res, next) => {
  if (sentryEnabled() && !toApiError(err)) {
    reportError(err, {
      tags: { route: `${req.baseUrl}${(req.route as { path?: string } | undefined)?.path ?? ''}` },
      contexts: { request: { method: req.method, path: req.path } },
    });
  }
  next(err);
};
