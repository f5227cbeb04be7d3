import cors from 'cors';
import type { RequestHandler } from 'express';
import helmet from 'helmet';
import { RATE_LIMIT_HEADER_NAMES } from '../limits/rate-limit-headers.js';
import type { PlainMiddleware } from './request-context.js';
import { isStreamRequest } from './stream-routes.js';

export interface SecurityHeadersOptions {
  /** Origins whose pages may call the api; empty: same-origin pages only. */
  corsOrigins: readonly string[];
}

export interface SecurityHeaders {
  /** helmet's headers for every response but SSE streams, which set the few that apply to them (STREAM_SECURITY_HEADERS). */
  headers: RequestHandler;
  /** CORS for `/api`: answers preflights itself, so it goes before authentication (a preflight carries no token). */
  cors: PlainMiddleware;
}

/** What a client sends: its token, JSON, a stream cursor, an idempotency key, its request id. */
const ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'Last-Event-ID', 'Idempotency-Key', 'X-Request-Id'];
/** What a client of another origin may read: where a job is, when to retry, whether it was a replay, its rate limit, the request id. */
const EXPOSED_HEADERS = ['Location', 'Retry-After', 'Idempotent-Replayed', 'X-Request-Id', ...RATE_LIMIT_HEADER_NAMES];

/**
 * What SSE streams and error answers on stream routes carry instead of helmet's full set. A
 * stream is never rendered as a document, so the document headers (frame options, referrer
 * policy, HSTS, which the page's own answers carry) do nothing on it; nosniff and a CSP that
 * allows nothing keep a browser from ever treating it as a page. (No Cross-Origin-Resource-Policy:
 * a cross-origin load without CORS carries no token, so it gets a 401, not a stream.)
 *
 * The middleware sets nothing on a stream request: a stream writes all its headers in one
 * `writeHead` (SSE_HEADERS includes these), and a response that had no header set before that
 * keeps no per-header table. Every open stream holds its response for as long as it is open, and
 * helmet's set cost about 3 KB of heap per stream; the error handler adds these to error answers.
 */
export const STREAM_SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
} as const;

/**
 * helmet with a Content-Security-Policy for the dashboard the api serves at `/` (a Vite build: its
 * scripts, styles and fonts are files of the same origin, its data comes from `/api` over fetch and
 * EventSource), and CORS by an allowlist. Neither touches the body, so SSE responses stream as before
 * (no compression, nothing buffered).
 */
export function securityHeaders(options: SecurityHeadersOptions): SecurityHeaders {
  const helmetHeaders = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        // No 'unsafe-inline' anywhere: an injected <script> or inline handler does not run.
        scriptSrc: ["'self'"],
        scriptSrcAttr: ["'none'"],
        // Vite emits CSS files; styles set from script through the CSSOM (Preact's `style`) are not inline styles to CSP.
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        // fetch and EventSource to the api on the same origin.
        connectSrc: ["'self'"],
        // The service worker that shows pushes (`/push-worker.js`) is a file of the same origin.
        workerSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        // No upgrade-insecure-requests: TLS is the proxy's business, and a demo served over plain
        // http on a LAN address would otherwise have its scripts rewritten to https and fail.
      },
    },
    // The same as frame-ancestors 'none', for browsers that predate CSP level 2.
    xFrameOptions: { action: 'deny' },
  });
  const corsHandler = cors({
    // An array: requests from a listed origin get it reflected in Access-Control-Allow-Origin, any
    // other origin gets no CORS header at all (its browser then refuses to expose the answer).
    origin: [...options.corsOrigins],
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ALLOWED_HEADERS,
    exposedHeaders: EXPOSED_HEADERS,
    // Tokens travel in Authorization or ?access_token=, never in cookies: no credentials mode.
    credentials: false,
    // Browsers cap this (Chromium at 2 h); 10 min keeps a config change effective soon.
    maxAge: 600,
  });
  const headers: RequestHandler = (req, res, next) => {
    const underApi = req.path.startsWith('/api/') ? req.path.slice('/api'.length) : undefined;
    if (underApi !== undefined && isStreamRequest(req.method, underApi)) next();
    else helmetHeaders(req, res, next);
  };
  // A request without Origin is not a cross-origin request from a browser: CORS headers would
  // only add bytes to it (and to the memory of every open stream).
  const corsWhenCrossOrigin: PlainMiddleware = (req, res, next) => {
    if (req.headers.origin === undefined) next();
    else corsHandler(req, res, next);
  };
  return { headers, cors: corsWhenCrossOrigin };
}
