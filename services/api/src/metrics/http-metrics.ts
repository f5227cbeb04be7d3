import type { Request, RequestHandler } from 'express';
import type { ApiMetrics } from './api-metrics.js';

/**
 * The route pattern a request matched (`/api/jobs/:id`), never its raw path: job ids in labels
 * would make one time series per job. Requests that matched no route share one label.
 */
function routeLabel(req: Request): string {
  const pattern = (req.route as { path?: unknown } | undefined)?.path;
  return typeof pattern === 'string' ? `${req.baseUrl}${pattern}` : 'unmatched';
}

/** Counts and times every request when its response finishes (or the client goes away). */
export function httpMetrics(metrics: ApiMetrics): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    let recorded = false;
    const record = (): void => {
      if (recorded) return;
      recorded = true;
      const route = routeLabel(req);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
      metrics.httpDuration.observe({ method: req.method, route }, seconds);
    };
    res.on('finish', record);
    res.on('close', record);
    next();
  };
}
