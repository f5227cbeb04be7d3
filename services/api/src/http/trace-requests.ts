import { traceHttpRequest } from '@jobstream/runtime';
import type { RequestHandler } from 'express';
import { routeLabel } from '../metrics/http-metrics.js';

/**
 * One HTTP server span per request when tracing is on, named by the matched route pattern
 * (`POST /api/jobs`); what the request does (an enqueue, a stream) happens inside it.
 */
export const traceRequests: RequestHandler = (req, res, next) => {
  traceHttpRequest(req, res, next, () => {
    const route = routeLabel(req, res);
    return route === 'unmatched' ? undefined : route;
  });
};
