import type { Request, RequestHandler, Response } from 'express';
import { errorCodeOf } from '../http/error-handler.js';
import type { ApiMetrics } from './api-metrics.js';

/**
 * The route pattern a request matched (`/api/jobs/:id`), never its raw path: job ids in labels
 * would make one time series per job. Requests that matched no route share one label.
 */
export function routeLabel(req: Request, res: Response): string {
  const pattern = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof pattern !== 'string') return 'unmatched';
  const mountPath: unknown = res.locals[MOUNT_PATH];
  return `${typeof mountPath === 'string' ? mountPath : req.baseUrl}${pattern}`;
}

const MOUNT_PATH = 'jobstreamMountPath';

/**
 * Remembers where the router a request entered is mounted (`/api`). Express restores `baseUrl`
 * when an error leaves that router, so without this an error answer of `/api/jobs` would be
 * labelled `/jobs`. Mounted with the routers: `app.use('/api', rememberMountPath)`.
 */
export const rememberMountPath: RequestHandler = (req, res, next) => {
  res.locals[MOUNT_PATH] = req.baseUrl;
  next();
};

/** Counts and times every request when its response finishes (or the client goes away). */
export function httpMetrics(metrics: ApiMetrics): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    let recorded = false;
    const record = (): void => {
      if (recorded) return;
      recorded = true;
      const route = routeLabel(req, res);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
      metrics.httpDuration.observe({ method: req.method, route }, seconds);
      const code = errorCodeOf(res);
      if (code !== undefined) metrics.httpErrors.inc({ route, code });
    };
    res.on('finish', record);
    res.on('close', record);
    next();
  };
}
