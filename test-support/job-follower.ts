import { setTimeout as sleep } from 'node:timers/promises';
import { connectSse, type ReceivedEvent, type SseConnection } from './sse-client';

/** One successful connection of a follower: where, with which cursor, and what it brought. */
export interface FollowedConnection {
  base: string;
  /** The `Last-Event-ID` sent, if any. */
  lastEventId?: string;
  status: number;
  connection: SseConnection;
}

export interface JobFollower {
  /** Lifecycle events across all connections, in the order received. */
  events: ReceivedEvent[];
  /** Connections that got an answer (refused connects are not in here). */
  connections: FollowedConnection[];
  /** Connect attempts that failed before any answer (refused, reset). */
  failedConnects: number;
  /** Resolves once the terminal event or a 204 arrived; rejects after `maxConnects` or `timeoutMs`. */
  done: Promise<void>;
  /** Stops following and closes the open connection. */
  stop(): void;
}

export interface FollowOptions {
  /** Base URLs to try; the follower stays on one until a connect to it fails, then moves to the next. */
  bases: string[];
  /** Path of the job's stream, e.g. `/api/jobs/<id>/events`. */
  path: string;
  /** Upper bound on connect attempts, successful or not. Default 50. */
  maxConnects?: number;
  /** Default 60 s. */
  timeoutMs?: number;
  /** Wait before reconnecting when the server sent no `retry:` hint. Default 100 ms. */
  defaultRetryMs?: number;
  /** Resume after this id on the first connect (the events before it are not in `events`). */
  lastEventId?: string;
}

const isTerminal = (e: ReceivedEvent): boolean => e.event === 'completed' || (e.event === 'failed' && e.data.willRetry === false);

/**
 * Follows one job's stream the way a browser's EventSource does: reconnects after the server's
 * `retry:` hint with the last event id it received as `Last-Event-ID`, until the terminal event.
 * Unlike a browser it fails over to the next base URL when a connect is refused.
 */
export function followJob(options: FollowOptions): JobFollower {
  const maxConnects = options.maxConnects ?? 50;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const events: ReceivedEvent[] = [];
  const connections: FollowedConnection[] = [];
  let stopped = false;
  let current: SseConnection | undefined;
  const follower: JobFollower = {
    events,
    connections,
    failedConnects: 0,
    done: Promise.resolve(),
    stop() {
      stopped = true;
      current?.close();
    },
  };

  const run = async (): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    let baseIndex = 0;
    let retryMs = options.defaultRetryMs ?? 100;
    for (let attempt = 0; attempt < maxConnects; attempt += 1) {
      if (stopped) return;
      if (Date.now() > deadline) break;
      const base = options.bases[baseIndex % options.bases.length]!;
      const lastEventId = events.at(-1)?.id ?? options.lastEventId;
      let connection: SseConnection;
      try {
        connection = await connectSse(`${base}${options.path}`, lastEventId ? { 'Last-Event-ID': lastEventId } : {});
      } catch {
        follower.failedConnects += 1;
        baseIndex += 1;
        await sleep(retryMs);
        continue;
      }
      current = connection;
      connections.push({ base, status: connection.status, connection, ...(lastEventId ? { lastEventId } : {}) });
      if (connection.status === 204) return;
      if (connection.status !== 200) throw new Error(`${base}${options.path} answered ${connection.status}`);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([connection.ended, new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))))]);
      clearTimeout(timer);
      connection.close();
      for (const event of connection.events) if (event.id !== undefined) events.push(event);
      if (events.some(isTerminal)) return;
      retryMs = connection.retries.at(-1) ?? retryMs;
      await sleep(retryMs);
    }
    if (!stopped) {
      throw new Error(
        `gave up following ${options.path} after ${connections.length} connections, ${follower.failedConnects} failed connects; ` +
          `got ${events.map((e) => e.event).join(',')}`,
      );
    }
  };
  follower.done = run();
  // The caller awaits done; this only keeps an early rejection from being reported as unhandled.
  follower.done.catch(() => undefined);
  return follower;
}
