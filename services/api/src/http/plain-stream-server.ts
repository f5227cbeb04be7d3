import type { Express } from 'express';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import type { AppDeps } from '../app.js';
import { setPrincipal } from '../auth/principal.js';
import { setMatchedRoute } from '../metrics/http-metrics.js';
import { jobStreamHandler } from '../routes/job-events.js';
import { notificationStreamHandler } from '../routes/notifications.js';
import { accessLog } from './access-log.js';
import { errorHandler, hasBody, invalidPercentEncoding } from './error-handler.js';
import type { ApiRequest, ApiResponse, PlainErrorHandler, PlainMiddleware } from './request-context.js';
import { parseJobId } from './request-params.js';
import { isStreamRequest, streamRouteOf, type StreamRoute } from './stream-routes.js';
import { traceRequests } from './trace-requests.js';

/**
 * A URL the front door parses the way Express does: under `/api/`, and without the characters
 * (white space, `#`) for which Express's URL parser takes a slower path of its own.
 */
const PLAIN_URL = /^\/api\/[^\t\n\f\r #\u00a0\ufeff]*$/;

/** The stream route of a request the front door serves, with its query; undefined: Express serves it. */
function plainStreamRequest(req: IncomingMessage): { route: StreamRoute; search: string } | undefined {
  const url = req.url ?? '';
  // A body (declared too large, or JSON to parse) goes to Express, whose middleware answers it as before.
  if (req.method !== 'GET' || !PLAIN_URL.test(url) || hasBody(req)) return undefined;
  const queryAt = url.indexOf('?');
  const pathUnderApi = url.slice('/api'.length, queryAt < 0 ? undefined : queryAt);
  if (!isStreamRequest(req.method, pathUnderApi)) return undefined;
  const route = streamRouteOf(pathUnderApi);
  return route && { route, search: queryAt < 0 ? '' : url.slice(queryAt + 1) };
}

/** A path parameter decoded as Express's router decodes it, or its 400. */
function decodeParam(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw invalidPercentEncoding();
  }
}

/**
 * Runs `steps` in turn the way Express runs middleware (each goes on by calling `next`), then
 * `last`; an error passed to `next`, thrown, or rejected goes to `fail`.
 */
function runSteps(steps: readonly PlainMiddleware[], req: ApiRequest, res: ApiResponse, last: () => Promise<void>, fail: (err: unknown) => void): void {
  let index = 0;
  const next = (err?: unknown): void => {
    if (err !== undefined) {
      fail(err);
      return;
    }
    const step = steps[index];
    index += 1;
    try {
      const result = step ? step(req, res, next) : last();
      if (result instanceof Promise) result.catch(fail);
    } catch (thrown) {
      fail(thrown);
    }
  };
  next();
}

/** Hands `err` through `handlers` in turn, as Express hands an error through its error handlers. */
function runErrorHandlers(handlers: readonly PlainErrorHandler[], err: unknown, req: ApiRequest, res: ApiResponse): void {
  let index = 0;
  const next = (passed?: unknown): void => {
    const handler = handlers[index];
    index += 1;
    handler?.(passed, req, res, next);
  };
  next(err);
}

/**
 * The api's request listener: SSE stream requests (a GET of a stream route, without a body) are
 * served here, everything else by the Express `app`. An open stream holds its request and
 * response for as long as it is open, and Express would keep with them everything it made for the
 * request (re-prototyped `req` and `res`, its routers' `next` closures, parsed URL, params and
 * query): several KB per stream, tens of thousands of times over. A stream request goes here
 * through the same steps as in `createApp`, in the same order, and ends in the same handlers, so
 * its answers, headers, log line, metrics and span are the ones Express gives.
 */
export function streamFrontDoor(deps: AppDeps, app: Express): RequestListener {
  // The steps of createApp a stream request goes through: helmet and the body parsers skip it,
  // and a request with a body never comes here.
  const steps: PlainMiddleware[] = [traceRequests, accessLog(deps.logger), ...(deps.operations ? [deps.operations.requestMetrics] : []), deps.security.cors];
  const errorHandlers: PlainErrorHandler[] = [...(deps.operations ? [deps.operations.errorReporter] : []), errorHandler(deps.logger)];
  const serveJob = jobStreamHandler(deps.streams, deps.streamSlots);
  const serveNotifications = notificationStreamHandler(deps.notifications);

  return (req: IncomingMessage, res: ServerResponse) => {
    const stream = plainStreamRequest(req);
    if (!stream) {
      app(req, res);
      return;
    }
    const { route } = stream;
    const query = parseQuery(stream.search);
    const plainRes: ApiResponse = Object.assign(res, { locals: Object.create(null) as Record<string, unknown> });
    const serve = async (): Promise<void> => {
      setPrincipal(plainRes, await deps.authenticate({ req, query, stream: true }));
      const request = { req, query };
      if (route.pattern === '/notifications/stream') {
        setMatchedRoute(plainRes, `/api${route.pattern}`);
        await serveNotifications(request, plainRes);
        return;
      }
      // As Express's router: a job id that does not percent-decode matches no route.
      const rawJobId = route.pattern === '/jobs/:id/events' ? decodeParam(route.encodedJobId) : query.jobId;
      setMatchedRoute(plainRes, `/api${route.pattern}`);
      await serveJob(request, plainRes, parseJobId(rawJobId));
    };
    runSteps(steps, req, plainRes, serve, (err) => runErrorHandlers(errorHandlers, err, req, plainRes));
  };
}
