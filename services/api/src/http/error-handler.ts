import { isRedisUnavailableError, type Logger } from '@jobstream/runtime';
import type { RequestHandler } from 'express';
import type { IncomingMessage } from 'node:http';
import { ApiError } from './api-error.js';
import { REQUEST_ID_HEADER, requestIdOf, requestLog, requestPathOf, type ApiResponse, type PlainErrorHandler, type RequestLocals } from './request-context.js';
import { STREAM_SECURITY_HEADERS } from './security-headers.js';

interface BodyParserError extends Error {
  type?: string;
  status?: number;
  limit?: number;
  /** Set by zlib on a compressed body that does not decompress (`Z_DATA_ERROR`, brotli's `ERR__ERROR_FORMAT_...`). */
  errno?: number;
}

/** A path parameter that does not percent-decode names nothing. */
export function invalidPercentEncoding(): ApiError {
  return new ApiError(400, 'VALIDATION_FAILED', 'The request path is not valid percent-encoding', [{ path: '(path)', message: 'is not valid percent-encoding' }]);
}

/** The one mapping from thrown errors to HTTP answers. Anything unexpected is a 500 and is logged as a bug. */
export function toApiError(err: unknown): ApiError | undefined {
  if (err instanceof ApiError) return err;
  const e = err as BodyParserError;
  switch (e?.type) {
    case 'entity.too.large':
      return new ApiError(413, 'PAYLOAD_TOO_LARGE', `Request body is larger than ${e.limit ?? 'the limit'} bytes`);
    case 'entity.parse.failed':
      return new ApiError(400, 'INVALID_JSON', 'Request body is not valid JSON');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Request body must be UTF-8 JSON');
    case 'request.aborted':
    case 'request.size.invalid':
      return new ApiError(400, 'VALIDATION_FAILED', 'Request body was not received completely');
    default:
      break;
  }
  // body-parser passes a body that fails to decompress on as zlib's own error, with status 400.
  if (e?.status === 400 && typeof e.errno === 'number') {
    return new ApiError(400, 'INVALID_JSON', 'Request body could not be decompressed (Content-Encoding)');
  }
  // The router could not percent-decode a path parameter (`/api/jobs/%E0%A4%A`): it names nothing.
  if (err instanceof URIError && e.status === 400) return invalidPercentEncoding();
  if (isRedisUnavailableError(err)) return ApiError.redisUnavailable();
  return undefined;
}

/** Where the error handler leaves the stable code of the answer it sent, for the request metrics. */
const ERROR_CODE = 'jobstreamErrorCode';

/** The stable code of the error answer this response carries, if it is one. */
export function errorCodeOf(res: RequestLocals): string | undefined {
  const code: unknown = res.locals[ERROR_CODE];
  return typeof code === 'string' ? code : undefined;
}

function setHeaders(res: ApiResponse, headers: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
}

/** Sends `body` as JSON with `status`, as Express's `res.status(status).json(body)` does. */
function sendJson(res: ApiResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(json));
  res.end(json);
}

/** The one error answer, for Express's routes and for the streams served without Express (plain-stream-server.ts). */
export function errorHandler(logger: Logger): PlainErrorHandler {
  // Four parameters: Express tells an error handler from a middleware by its arity.
  return (err, req, res, _next) => {
    const apiError = toApiError(err);
    // Made only for a line: most error answers (401, 404, 429 under a flood) log nothing here.
    const log = (): Logger => requestLog(res, logger);
    if (res.headersSent) {
      log().warn({ err, method: req.method, path: requestPathOf(req) }, 'error after the response started');
      res.end();
      return;
    }
    // Error answers of stream routes did not go through helmet (see STREAM_SECURITY_HEADERS).
    if (!res.hasHeader('X-Content-Type-Options')) setHeaders(res, STREAM_SECURITY_HEADERS);
    const requestId = requestIdOf(res);
    if (requestId !== undefined && !res.hasHeader(REQUEST_ID_HEADER)) res.setHeader(REQUEST_ID_HEADER, requestId);
    if (apiError) {
      if (apiError.status >= 500) log().warn({ err, code: apiError.code, method: req.method, path: requestPathOf(req) }, apiError.message);
      res.locals[ERROR_CODE] = apiError.code;
      setHeaders(res, apiError.headers);
      sendJson(res, apiError.status, apiError.toBody());
      return;
    }
    // The path, never the URL: the query may hold an access_token.
    log().error({ err, method: req.method, path: requestPathOf(req) }, 'unhandled error');
    res.locals[ERROR_CODE] = 'INTERNAL_ERROR';
    sendJson(res, 500, { error: 'Internal server error', code: 'INTERNAL_ERROR' });
  };
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new ApiError(404, 'NOT_FOUND', `No route for ${req.method} ${req.path}`));
};

/** Whether the request carries a body (the test type-is's hasBody makes). */
export function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
}

/** The `charset` parameter of a Content-Type, lowercased, if it has one. */
function charsetOf(contentType: string | undefined): string | undefined {
  const match = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(contentType ?? '');
  return match?.[1]?.toLowerCase();
}

/**
 * POST bodies must be UTF-8 JSON; anything else is a 415 rather than an empty body or a parse error
 * (a body declared `charset=utf-16` is refused for its type, not read as broken JSON). A POST with no
 * body and no Content-Type (`curl -X POST .../read-all`) goes on: its route validates `undefined`.
 */
export const requireJson: RequestHandler = (req, _res, next) => {
  const declaresOrSendsBody = hasBody(req) || req.headers['content-type'] !== undefined;
  if (req.method === 'POST' && declaresOrSendsBody && !req.is('application/json')) {
    next(new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json'));
    return;
  }
  const charset = charsetOf(req.headers['content-type']);
  if (req.method === 'POST' && charset !== undefined && charset !== 'utf-8') {
    next(new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', `Request body must be UTF-8 JSON (got charset=${charset.slice(0, 32)})`));
    return;
  }
  next();
};
