import { isTerminalEvent, type JobSnapshot } from '@jobstream/contracts';
import { readHistory, type JobstreamKeys, type Logger, type RedisClient } from '@jobstream/runtime';
import type { Response } from 'express';
import type { Principal } from '../auth/principal.js';
import { ApiError } from '../http/api-error.js';
import type { JobStore } from '../jobs/job-store.js';
import type { EventHub } from './event-hub.js';
import { planReplay } from './history-replay.js';
import { SSE_HEADERS } from './sse-format.js';
import { Subscriber, type CloseReason } from './subscriber.js';

export interface JobStreamDeps {
  redis: RedisClient;
  keys: JobstreamKeys;
  hub: EventHub;
  store: JobStore;
  logger: Logger;
  retryMs: number;
  maxBufferBytes: number;
  onClose?: (reason: CloseReason) => void;
}

/**
 * Opens the SSE stream of one job: `connected` with the snapshot, then every stored event after
 * the client's cursor, then live events, until the terminal event ends the stream.
 * The subscriber joins the hub before the history is read, so nothing falls between the two.
 */
export async function openJobStream(deps: JobStreamDeps, res: Response, viewer: Principal, jobId: string, afterId?: string): Promise<void> {
  const snapshot = await deps.store.getSnapshot(jobId, viewer);
  if (!snapshot) throw ApiError.jobNotFound(jobId);

  const subscriber = new Subscriber(jobId, res, deps.maxBufferBytes, (sub, reason) => {
    deps.hub.remove(sub);
    deps.onClose?.(reason);
  });
  subscriber.beginReplay();
  deps.hub.add(subscriber);
  // Also covers the paths below that answer with 204 or an error instead of a stream.
  res.on('close', () => subscriber.close('client_gone'));
  const read = await readHistory(deps.redis, deps.keys, jobId, afterId);
  const plan = planReplay(read, afterId, isTerminalEvent);
  if (plan.kind === 'finished') {
    res.status(204).end();
    return;
  }

  res.writeHead(200, SSE_HEADERS);
  res.socket?.setNoDelay(true);
  subscriber.open = true;
  const timestamp = new Date().toISOString();
  subscriber.send({ event: 'connected', data: { jobId, timestamp, job: snapshot }, retryMs: deps.retryMs });

  if (plan.kind === 'reset') {
    await sendReset(deps, subscriber, snapshot);
    return;
  }
  subscriber.endReplay(plan.events);
}

/** Brings an open stream up to date after the live feed may have missed events (Redis outage). */
export async function resyncStream(deps: JobStreamDeps, subscriber: Subscriber): Promise<void> {
  if (subscriber.closed) return;
  subscriber.beginReplay();
  try {
    const read = await readHistory(deps.redis, deps.keys, subscriber.jobId, subscriber.lastSentId);
    const plan = planReplay(read, subscriber.lastSentId, isTerminalEvent);
    if (plan.kind === 'reset') {
      const snapshot = await deps.store.getSnapshot(subscriber.jobId);
      if (snapshot) {
        await sendReset(deps, subscriber, snapshot);
        return;
      }
    }
    subscriber.endReplay(plan.kind === 'replay' ? plan.events : []);
  } catch (err) {
    subscriber.endReplay([]);
    throw err;
  }
}

/** Tells the client its cursor is not covered, sends the job as it is, then everything still stored. */
async function sendReset(deps: JobStreamDeps, subscriber: Subscriber, snapshot: JobSnapshot): Promise<void> {
  const read = await readHistory(deps.redis, deps.keys, subscriber.jobId);
  subscriber.send({
    event: 'reset',
    data: { jobId: subscriber.jobId, timestamp: new Date().toISOString(), reason: 'history_unavailable', job: snapshot },
  });
  subscriber.lastSentId = undefined;
  subscriber.endReplay(read.events);
}
