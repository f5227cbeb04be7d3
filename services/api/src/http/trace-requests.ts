import { traceHttpRequest } from '@jobstream/runtime';
import { routeLabel } from '../metrics/http-metrics.js';
import type { PlainMiddleware } from './request-context.js';

/**
 * One HTTP server span per request when tracing is on, named by the matched route pattern
 * (`POST /api/jobs`); what the request does (an enqueue, a stream) happens inside it.
 */
export const traceRequests: PlainMiddleware = (req, res, next) => {
  traceHttpRequest(req, res, () => next(), () => {
    const route = routeLabel(req, res);
    return route === 'unmatched' ? undefined : route;
  });
};
