import { JobstreamApiError } from '../errors/api-error.js';
import { errorFromResponse } from '../errors/error-from-response.js';
import type { JobstreamError } from '../errors/jobstream-error.js';
import { JobstreamProtocolError } from '../errors/protocol-error.js';
import { describe, type Transport } from '../http/transport.js';
import { SseParser, type SseMessage } from './sse-parser.js';
import type { StreamResponse } from './stream-response.js';

/** What handling a message or a poll tells the engine: go on, or everything has arrived. */
export type StreamProgress = 'continue' | 'done';

/** How one connection ended. */
export type StreamAttemptResult =
  | { kind: 'done' }
  | { kind: 'closed' }
  | { kind: 'fatal'; error: JobstreamError }
  /** It went live, then the stream ended or broke. */
  | { kind: 'dropped'; reason: string; retryAfterMs?: number | undefined }
  /** It never went live. */
  | { kind: 'failed'; reason: string; retryAfterMs?: number | undefined }
  /** No message within the stall window before going live: a buffering proxy, typically. */
  | { kind: 'stalled'; reason: string }
  /** The fetch gives no readable body stream (React Native's built-in fetch): only polling can work. */
  | { kind: 'unsupported'; reason: string }
  /** The engine gave up on it for a drain attempt (it had not gone live). */
  | { kind: 'superseded' };

/** The engine's hold on a running attempt: abort it, see whether it is live, mark it replaced. */
export interface StreamAttemptHandle {
  controller: AbortController;
  live: boolean;
  superseded: boolean;
}

export interface StreamAttemptParams {
  transport: Transport;
  url: string;
  /** Sent as `Last-Event-ID` when not empty. */
  lastEventId: string;
  /** No message for this long cuts the connection. */
  stallMs: number;
  isClosed(): boolean;
  /** The first message arrived. */
  onLive(): void;
  /** One message; the next is handed over only once a returned promise settled (a rejection ends the attempt). */
  onMessage(message: SseMessage): StreamProgress | Promise<StreamProgress>;
  onRetry(ms: number): void;
  onNoContent(): Promise<void>;
}

/** Answers that retrying cannot fix: the request itself is wrong, or the caller may not see it. */
const FINAL_STATUSES = new Set([400, 401, 403, 404, 410]);

export function isFinalError(err: unknown): err is JobstreamApiError {
  return err instanceof JobstreamApiError && FINAL_STATUSES.has(err.status);
}

/**
 * One SSE connection (fetch or XMLHttpRequest, see stream-transport.ts), from the request to the
 * end of its body: a fresh token (and one more, at once, when the api refuses it as expired), the
 * cursor, the status checks, the spec parser, and a watchdog that cuts the connection when no
 * message (or comment) arrives for `stallMs`. Never throws.
 */
export async function runStreamAttempt(handle: StreamAttemptHandle, p: StreamAttemptParams): Promise<StreamAttemptResult> {
  const { controller } = handle;
  let stalled = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const armWatchdog = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      controller.abort();
    }, p.stallMs);
  };
  try {
    armWatchdog();
    let res = await connect(p, controller.signal, false);
    // A non-2xx answer is read whole once: for the error, and for the expired-token check.
    let errorText = typeof res !== 'string' && !isSuccess(res.status) ? await res.text().catch(() => '') : '';
    // The api does not close a stream whose token expires while it is open, so a token is only
    // ever refused at a (re)connect: ask getToken for a new one and try once more at once.
    if (typeof res !== 'string' && p.transport.refusedTextAsExpired(res.status, errorText)) {
      res = await connect(p, controller.signal, true);
      errorText = typeof res !== 'string' && !isSuccess(res.status) ? await res.text().catch(() => '') : '';
    }
    if (typeof res === 'string') return { kind: 'failed', reason: res };

    if (res.status === 204) {
      res.cancel();
      await p.onNoContent();
      return { kind: 'done' };
    }
    if (!isSuccess(res.status)) {
      const error = errorFromResponse({ status: res.status, headers: { get: (name) => res.header(name) } }, parseMaybeJson(errorText));
      if (FINAL_STATUSES.has(res.status)) return { kind: 'fatal', error };
      return { kind: 'failed', reason: `HTTP ${res.status} ${error.code}`, retryAfterMs: error.retryAfterMs };
    }
    if (!/^text\/event-stream\b/i.test(res.header('content-type') ?? '')) {
      res.cancel();
      return { kind: 'failed', reason: `not an event stream (content-type ${res.header('content-type') ?? 'none'})` };
    }
    if (!res.streams) {
      res.cancel();
      return { kind: 'unsupported', reason: 'this fetch cannot stream response bodies; polling instead' };
    }

    // Messages of one chunk, handled in order after it was parsed: a handler may wait (a watch
    // fetching a result the event left out) and the messages after it wait with it.
    const parsed: SseMessage[] = [];
    // An object, not a `let`: the handler sets it, which narrowing cannot see.
    const result: { progress: StreamProgress } = { progress: 'continue' };
    const handleParsed = async (): Promise<void> => {
      for (const message of parsed.splice(0)) {
        if (result.progress === 'done') return;
        if (!handle.live) {
          handle.live = true;
          p.onLive();
        }
        const next = p.onMessage(message);
        result.progress = typeof next === 'string' ? next : await next;
        armWatchdog();
      }
    };
    const parser = new SseParser(
      {
        onMessage: (message) => {
          armWatchdog();
          parsed.push(message);
        },
        onRetry: (ms) => p.onRetry(ms),
        onComment: () => armWatchdog(),
      },
      p.lastEventId,
    );
    // Leaving the loop (break or throw) closes the connection.
    for await (const chunk of res.chunks()) {
      parser.feed(chunk);
      await handleParsed();
      if (result.progress === 'done') return { kind: 'done' };
    }
    return handle.live ? { kind: 'dropped', reason: 'the server ended the stream' } : { kind: 'failed', reason: 'the stream ended before its first event' };
  } catch (err) {
    if (p.isClosed()) return { kind: 'closed' };
    if (handle.superseded) return { kind: 'superseded' };
    // A message that breaks the contract, or a 404 while fetching the snapshot after a 204.
    if (err instanceof JobstreamProtocolError || isFinalError(err)) return { kind: 'fatal', error: err };
    if (stalled) {
      const reason = `no event for ${p.stallMs} ms`;
      return handle.live ? { kind: 'dropped', reason } : { kind: 'stalled', reason: `${reason} (a buffering proxy?)` };
    }
    const reason = describe(err);
    return handle.live ? { kind: 'dropped', reason } : { kind: 'failed', reason };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/** Opens the stream with a token from getToken; a string says why getToken failed. */
async function connect(p: StreamAttemptParams, signal: AbortSignal, forceRefresh: boolean): Promise<StreamResponse | string> {
  let auth: Record<string, string>;
  try {
    auth = await p.transport.authorization(forceRefresh);
  } catch (err) {
    return `getToken failed: ${describe(err)}`;
  }
  const headers: Record<string, string> = { Accept: 'text/event-stream', 'Cache-Control': 'no-cache', ...auth };
  if (p.lastEventId) headers['Last-Event-ID'] = p.lastEventId;
  return p.transport.openStream(p.url, headers, signal);
}

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

function parseMaybeJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
