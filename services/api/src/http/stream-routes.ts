/** The SSE routes, as paths under `/api`: job streams (and their alias) and the notification stream. */
const STREAM_PATH = /^\/(?:jobs\/[^/]+\/events|job-events|notifications\/stream)\/?$/;

/** Whether a request is for an SSE stream; `pathUnderApi` is the path below `/api` (`/jobs/abc/events`). */
export function isStreamRequest(method: string, pathUnderApi: string): boolean {
  return method === 'GET' && STREAM_PATH.test(pathUnderApi);
}
