import type { Logger } from '@jobstream/runtime';
import type { ServerResponse } from 'node:http';
import type { Level } from 'pino';
import { callerIdOf } from '../auth/principal.js';
import { routeLabel } from '../metrics/http-metrics.js';
import { REQUEST_ID_HEADER, requestIdFrom, requestPathOf, setRequestId, type ApiRequest, type PlainMiddleware } from './request-context.js';
import { isStreamRequest, pathnameOf } from './stream-routes.js';

/** Probes and scrapes: every few seconds from every replica's load balancer and Prometheus. */
const PROBE_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * One line per request: 5xx at `error` (a bug or an outage), everything else at `info` (a 4xx is
 * the client's mistake, and a hostile client could flood `warn`). Probes at `debug` whatever their
 * status: `/readyz` answers 503 every few seconds for as long as Redis is away.
 */
function levelOf(path: string, res: ServerResponse): Level {
  if (PROBE_PATHS.has(path)) return 'debug';
  return res.statusCode >= 500 ? 'error' : 'info';
}

/** Whether a request to the app's full path is for an SSE stream. */
function isStream(req: ApiRequest): boolean {
  const path = pathnameOf(req.url ?? '');
  return path.startsWith('/api/') && isStreamRequest(req.method ?? '', path.slice('/api'.length));
}

/**
 * Gives every request its id (the caller's `X-Request-Id` when it is sane, a new one otherwise),
 * sends it back in `X-Request-Id`, and logs the request once when its connection is done with it
 * (a stream when it closes): method, route pattern, path, status, duration, request id and user
 * id. Never the query or a header: the query may hold an access token, a header a credential.
 * Written here rather than with pino-http, which would serialize the whole request and make a
 * child logger for every one; here a child is made only for a request that logs more than this.
 */
export function accessLog(logger: Logger): PlainMiddleware {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const requestId = requestIdFrom(req.headers['x-request-id']);
    setRequestId(res, requestId);
    // A stream writes all its headers in one writeHead (see STREAM_SECURITY_HEADERS), the id among them.
    if (!isStream(req)) res.setHeader(REQUEST_ID_HEADER, requestId);
    res.once('close', () => {
      const path = requestPathOf(req);
      const level = levelOf(path, res);
      // Nothing is built for a line the level drops.
      if (!logger.isLevelEnabled(level)) return;
      const line: Record<string, unknown> = {
        requestId,
        method: req.method,
        route: routeLabel(req, res),
        // The path too: a route pattern names no job.
        path,
        status: res.statusCode,
        ms: Math.round(Number(process.hrtime.bigint() - started) / 1e6),
      };
      const userId = callerIdOf(res);
      if (userId !== undefined) line.userId = userId;
      // The client went away before the answer was complete: the usual end of a stream.
      if (!res.writableFinished) line.aborted = true;
      logger[level](line, 'request');
    });
    next();
  };
}
