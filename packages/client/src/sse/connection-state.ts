/**
 * Where a watch's connection is:
 * - `connecting`: the first connect has not delivered a message yet;
 * - `live`: a stream delivers messages;
 * - `reconnecting`: the stream was lost or refused; the next attempt waits for its backoff;
 * - `polling`: streaming keeps failing (or a proxy buffers it): the job is polled, and streams are
 *   still probed in the background to switch back to `live`;
 * - `closed`: finished (terminal event, 204, a final error, or `close()`); nothing more happens.
 */
export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'polling' | 'closed';

/** A connection state change, with what caused it, for a status indicator's detail. */
export interface ConnectionInfo {
  state: ConnectionState;
  previous: ConnectionState;
  /** Why it changed: `stream ended`, `HTTP 503 REDIS_UNAVAILABLE`, `no data for 30000 ms`, ... */
  reason: string | undefined;
  /** Failed connects in a row (0 while live). */
  failures: number;
  /** When the next connect (or stream probe) is due, ms since epoch; undefined when none is planned. */
  nextAttemptAt: number | undefined;
  /** The last event id: where a reconnect resumes. */
  lastEventId: string | undefined;
}
