import { reportError, sentryEnabled } from '@jobstream/runtime';
import { toApiError } from '../http/error-handler.js';
import { requestIdOf, requestPathOf, type PlainErrorHandler } from '../http/request-context.js';
import { routeLabel } from './http-metrics.js';

/**
 * Reports the errors that become a 500 (bugs) to Sentry, then hands them on to the error handler.
 * Expected errors (validation, 404, 429, Redis away) are answers, not bugs, and are not reported.
 * Each report is tagged with its route pattern (mount path included) and its request id.
 */
export const sentryErrorReporter: PlainErrorHandler = (err, req, res, next) => {
  if (sentryEnabled() && !toApiError(err)) {
    const requestId = requestIdOf(res);
    reportError(err, {
      // The request id finds the request's log lines from the report.
      tags: { route: routeLabel(req, res), ...(requestId ? { requestId } : {}) },
      contexts: { request: { method: req.method, path: requestPathOf(req) } },
    });
  }
  next(err);
};
