import type { Logger } from '@jobstream/runtime';
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

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

/**
 * What a request's handlers leave for the ones after them (its id, its caller, its route): Express
 * gives every response `locals`, and the stream front door (plain-stream-server.ts) gives its plain
 * responses one too, so the same helpers read both.
 */
export interface RequestLocals {
  locals: Record<string, unknown>;
}

/** A response of either kind: Express's, or a plain one the stream front door answers. */
export type ApiResponse = ServerResponse & RequestLocals;

/** A request as the helpers shared by Express and the stream front door see it (Express's adds `originalUrl`). */
export type ApiRequest = IncomingMessage & { originalUrl?: string };

/** A middleware that needs nothing of Express: the app runs it, and so does the stream front door. */
export type PlainMiddleware = (req: ApiRequest, res: ApiResponse, next: (err?: unknown) => void) => void | Promise<void>;

/** An error handler that needs nothing of Express (see PlainMiddleware). */
export type PlainErrorHandler = (err: unknown, req: ApiRequest, res: ApiResponse, next: (err?: unknown) => void) => void;

/** `locals` when `res` has them; a response no handler of the api saw (a sink in a unit test) has none. */
function localsOf(res: ServerResponse): Record<string, unknown> | undefined {
  return (res as Partial<ApiResponse>).locals;
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

/** A header's value as Express's `req.get` gives it (Node has already joined a repeated one with ", "). */
export function headerOf(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Longest path given in full by `requestPathOf`. */
const MAX_PATH = 200;

/**
 * The request's path as the client sent it, without the query (which may hold an access token)
 * and cut short when long (a hostile path can be kilobytes). From `originalUrl`: a router rewrites
 * `req.url` and `req.path` while it runs.
 */
export function requestPathOf(req: ApiRequest): string {
  const url = req.originalUrl ?? req.url ?? '';
  const query = url.indexOf('?');
  const path = query < 0 ? url : url.slice(0, query);
  return path.length > MAX_PATH ? `${path.slice(0, MAX_PATH)}...` : path;
}
