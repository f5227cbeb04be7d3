import type { RequestHandler } from 'express';
import type { IncomingMessage } from 'node:http';
import { errorCodeOf } from '../http/error-handler.js';
import type { PlainMiddleware, RequestLocals } from '../http/request-context.js';
import type { ApiMetrics } from './api-metrics.js';

/** A request as Express leaves it once a route matched: its route's path, the path of the routers it went through. */
type RoutedRequest = IncomingMessage & { route?: { path?: unknown }; baseUrl?: string };

/**
 * The route pattern a request matched (`/api/jobs/:id`), never its raw path: job ids in labels
 * would make one time series per job. Requests that matched no route share one label.
 */
export function routeLabel(req: RoutedRequest, res: RequestLocals): string {
  const matched: unknown = res.locals[MATCHED_ROUTE];
  if (typeof matched === 'string') return matched;
  const pattern = req.route?.path;
  if (typeof pattern !== 'string') return 'unmatched';
  const mountPath: unknown = res.locals[MOUNT_PATH];
  return `${typeof mountPath === 'string' ? mountPath : (req.baseUrl ?? '')}${pattern}`;
}

const MOUNT_PATH = 'jobstreamMountPath';
const MATCHED_ROUTE = 'jobstreamMatchedRoute';

/**
 * Remembers where the router a request entered is mounted (`/api`). Express restores `baseUrl`
 * when an error leaves that router, so without this an error answer of `/api/jobs` would be
 * labelled `/jobs`. Mounted with the routers: `app.use('/api', rememberMountPath)`.
 */
export const rememberMountPath: RequestHandler = (req, res, next) => {
  res.locals[MOUNT_PATH] = req.baseUrl;
  next();
};

/** Records the full route pattern (`/api/jobs/:id/events`) a request was matched to without Express's router. */
export function setMatchedRoute(res: RequestLocals, route: string): void {
  res.locals[MATCHED_ROUTE] = route;
}

/** Counts and times every request when its response finishes (or the client goes away). */
export function httpMetrics(metrics: ApiMetrics): PlainMiddleware {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    let recorded = false;
    const record = (): void => {
      if (recorded) return;
      recorded = true;
      const route = routeLabel(req, res);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const method = req.method ?? 'GET';
      metrics.httpRequests.inc({ method, route, status: String(res.statusCode) });
      metrics.httpDuration.observe({ method, route }, seconds);
      const code = errorCodeOf(res);
      if (code !== undefined) metrics.httpErrors.inc({ route, code });
    };
    res.on('finish', record);
    res.on('close', record);
    next();
  };
}
