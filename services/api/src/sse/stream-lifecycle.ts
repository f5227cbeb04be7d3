import type { Logger } from '@jobstream/runtime';
import { requestLog, withRequestId } from '../http/request-context.js';
import type { EventHub, HubStream } from './event-hub.js';
import { SSE_HEADERS } from './sse-format.js';

/**
 * What every stream does before it reads Redis: its live events wait until its first replay
 * reached the end, it joins the hub (so nothing falls between the read and the live feed), and it
 * closes, leaving the hub, when its client goes, also before it was answered (errors, 204).
 */
export function joinHub(hub: EventHub, stream: HubStream): void {
  stream.beginReplay();
  hub.add(stream);
  stream.res.on('close', () => stream.close('client_gone'));
}

/** Answers the request as an SSE stream: from now on the stream writes, heartbeats included. */
export function startSse(stream: HubStream): void {
  stream.res.writeHead(200, withRequestId(stream.res, SSE_HEADERS));
  stream.res.socket?.setNoDelay(true);
  stream.open = true;
}

/**
 * A page could not be read in the middle of a replay. Going live would skip the pages not read,
 * so the stream ends with a retry hint and the client resumes from the last event it got.
 */
export function closeAfterReplayFailure(stream: HubStream, logger: Logger, retryMs: number, err: unknown, about: Record<string, string>): void {
  requestLog(stream.res, logger).warn({ err, ...about }, 'a replay page could not be read; closing the stream so that the client resumes');
  stream.close('replay_failed', retryMs);
}
