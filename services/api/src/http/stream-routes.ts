import type { IncomingMessage } from 'node:http';
import type { ParsedUrlQuery } from 'node:querystring';

/** The SSE routes, as paths under `/api`: job streams (and their alias) and the notification stream. */
const STREAM_PATH = /^\/(?:jobs\/[^/]+\/events|job-events|notifications\/stream)\/?$/;

/** Whether a request is for an SSE stream; `pathUnderApi` is the path below `/api` (`/jobs/abc/events`). */
export function isStreamRequest(method: string, pathUnderApi: string): boolean {
  return method === 'GET' && STREAM_PATH.test(pathUnderApi);
}

/** The path of a request's URL, without its query or fragment (what Express's `req.path` is at the app's level). */
export function pathnameOf(url: string): string {
  const end = url.search(/[?#]/);
  return end < 0 ? url : url.slice(0, end);
}

/** A stream route, matched without Express's router: its pattern under `/api`, and the job id still percent-encoded. */
export type StreamRoute = { pattern: '/jobs/:id/events'; encodedJobId: string } | { pattern: '/job-events' } | { pattern: '/notifications/stream' };

const JOB_EVENTS_PATH = /^\/jobs\/([^/]+)\/events\/?$/;

/** The stream route of a stream request's path under `/api` (one `isStreamRequest` accepted). */
export function streamRouteOf(pathUnderApi: string): StreamRoute | undefined {
  const jobEvents = JOB_EVENTS_PATH.exec(pathUnderApi);
  if (jobEvents?.[1] !== undefined) return { pattern: '/jobs/:id/events', encodedJobId: jobEvents[1] };
  if (/^\/job-events\/?$/.test(pathUnderApi)) return { pattern: '/job-events' };
  if (/^\/notifications\/stream\/?$/.test(pathUnderApi)) return { pattern: '/notifications/stream' };
  return undefined;
}

/** What a stream handler reads of its request, whether Express or the stream front door serves it. */
export interface StreamRequest {
  req: IncomingMessage;
  /** The query as Express's default ("simple") parser gives it: `querystring.parse`. */
  query: ParsedUrlQuery;
}
