import { request, type IncomingMessage, type ClientRequest } from 'node:http';
import { withDefaultAuth } from './auth';

/** One parsed SSE message as a browser would dispatch it. */
export interface ReceivedEvent {
  event: string;
  id?: string;
  data: Record<string, unknown>;
  retry?: number;
  /** `Date.now()` when the message was parsed, for latency measurements. */
  receivedAt: number;
}

export interface SseConnection {
  status: number;
  headers: IncomingMessage['headers'];
  events: ReceivedEvent[];
  /**
   * Every `retry:` value received, in order, including those sent without data (a browser applies
   * a retry field as soon as it parses it, so the close hint at shutdown is one of these).
   */
  retries: number[];
  /** `Date.now()` when the stream ended, once it did. */
  endedAt?: number;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  /** Waits until `predicate` holds for the events received so far. */
  waitFor(predicate: (events: ReceivedEvent[]) => boolean, timeoutMs?: number): Promise<ReceivedEvent[]>;
  /** Lifecycle events only (the ones with an id). */
  lifecycle(): ReceivedEvent[];
  close(): void;
  /** Stops reading from the socket without closing it (a slow client). */
  pause(): void;
  /** Reads again after `pause()`. */
  resume(): void;
}

/** Parses a text/event-stream body per the WHATWG rules the tests rely on (event, id, data, retry). */
function createParser(onEvent: (e: ReceivedEvent) => void, onRetry: (ms: number) => void = () => undefined) {
  let buffer = '';
  let current: { event?: string; id?: string; data: string[]; retry?: number } = { data: [] };
  return (chunk: string) => {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline).replace(/\r$/, '');
      buffer = buffer.slice(newline + 1);
      if (line === '') {
        if (current.data.length > 0) {
          onEvent({
            event: current.event ?? 'message',
            ...(current.id !== undefined ? { id: current.id } : {}),
            ...(current.retry !== undefined ? { retry: current.retry } : {}),
            data: JSON.parse(current.data.join('\n')) as Record<string, unknown>,
            receivedAt: Date.now(),
          });
        }
        current = { data: [] };
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') current.event = value;
      else if (field === 'id') current.id = value;
      else if (field === 'data') current.data.push(value);
      else if (field === 'retry' && /^\d+$/.test(value)) {
        current.retry = Number(value);
        onRetry(current.retry);
      }
    }
  };
}

/**
 * Opens an SSE stream over real HTTP. Resolves once the response headers arrived. Acts as the
 * default test user unless `headers` has an `authorization` (`''`: send none).
 */
export async function connectSse(url: string, headers: Record<string, string> = {}): Promise<SseConnection> {
  const sent = await withDefaultAuth(headers);
  return new Promise((resolve, reject) => {
    const events: ReceivedEvent[] = [];
    const retries: number[] = [];
    const waiters = new Set<() => void>();
    let markEnded!: () => void;
    const ended = new Promise<void>((r) => (markEnded = r));
    let connection: SseConnection | undefined;
    const endedResolve = (): void => {
      if (connection && connection.endedAt === undefined) connection.endedAt = Date.now();
      markEnded();
    };
    const req: ClientRequest = request(url, { headers: { Accept: 'text/event-stream', ...sent } }, (res) => {
      res.setEncoding('utf8');
      const parse = createParser(
        (e) => {
          events.push(e);
          for (const w of waiters) w();
        },
        (ms) => retries.push(ms),
      );
      res.on('data', (chunk: string) => parse(chunk));
      res.on('end', () => endedResolve());
      res.on('close', () => {
        endedResolve();
        for (const w of waiters) w();
      });
      res.on('error', () => endedResolve());
      connection = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        events,
        retries,
        ended,
        lifecycle: () => events.filter((e) => e.id !== undefined),
        waitFor(predicate, timeoutMs = 20_000) {
          return new Promise((ok, fail) => {
            if (predicate(events)) return ok(events);
            const timer = setTimeout(() => {
              waiters.delete(check);
              fail(new Error(`timed out waiting; got ${events.map((e) => e.event).join(',')}`));
            }, timeoutMs);
            const check = (): void => {
              if (!predicate(events)) return;
              clearTimeout(timer);
              waiters.delete(check);
              ok(events);
            };
            waiters.add(check);
          });
        },
        close: () => req.destroy(),
        pause: () => res.pause(),
        resume: () => res.resume(),
      };
      resolve(connection);
    });
    req.on('error', reject);
    req.end();
  });
}
