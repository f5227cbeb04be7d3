import type { Logger } from '@jobstream/runtime';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The header a request id comes in and goes back out in. */
export const REQUEST_ID_HEADER = 'X-Request-Id';

/**
 * A request id worth keeping: 1 to 128 visible ASCII characters, no spaces. Anything else (a
 * control character, a line break, a 10 KB value, two headers joined with ", ") is replaced, so a
 * hostile value never reaches a response header or a log line.
 */
const SANE_REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/** The caller's request id when it is sane, a new one otherwise. */
export function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === 'string' && SANE_REQUEST_ID.test(header) ? header : randomUUID();
}

const REQUEST_ID = 'jobstreamRequestId';
const REQUEST_LOG = 'jobstreamRequestLog';

/** Express keeps `locals` on every response; a plain ServerResponse (an SSE sink's) is the same object. */
function localsOf(res: ServerResponse): Record<string, unknown> | undefined {
  return (res as ServerResponse & { locals?: Record<string, unknown> }).locals;
}

/** Records the request id on the response, for the log lines and headers written after. */
export function setRequestId(res: ServerResponse, requestId: string): void {
  const locals = localsOf(res);
  if (locals) locals[REQUEST_ID] = requestId;
}

/** The request id of this response, once the access log middleware ran. */
export function requestIdOf(res: ServerResponse): string | undefined {
  const id = localsOf(res)?.[REQUEST_ID];
  return typeof id === 'string' ? id : undefined;
}

/**
 * The logger for lines about this request: `logger` with its `requestId`. The child is made on the
 * first line and kept, so a request that logs nothing (nearly all of them) pays nothing for it;
 * every caller passes the api's logger, so the one kept is the same whoever asked first.
 */
export function requestLog(res: ServerResponse, logger: Logger): Logger {
  const locals = localsOf(res);
  const requestId = requestIdOf(res);
  if (!locals || requestId === undefined) return logger;
  const cached = locals[REQUEST_LOG] as Logger | undefined;
  if (cached) return cached;
  const child = logger.child({ requestId });
  locals[REQUEST_LOG] = child;
  return child;
}

/** The SSE response headers with this request's id: a stream writes all its headers in one `writeHead`. */
export function withRequestId(res: ServerResponse, headers: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  const requestId = requestIdOf(res);
  return requestId === undefined ? headers : { ...headers, [REQUEST_ID_HEADER]: requestId };
}

/** Longest path given in full by `requestPathOf`. */
const MAX_PATH = 200;

/**
 * The request's path as the client sent it, without the query (which may hold an access token)
 * and cut short when long (a hostile path can be kilobytes). From `originalUrl`: a router rewrites
 * `req.url` and `req.path` while it runs.
 */
export function requestPathOf(req: IncomingMessage & { originalUrl?: string }): string {
  const url = req.originalUrl ?? req.url ?? '';
  const query = url.indexOf('?');
  const path = query < 0 ? url : url.slice(0, query);
  return path.length > MAX_PATH ? `${path.slice(0, MAX_PATH)}...` : path;
}
