import { isTerminalEvent, type JobSnapshot, type LifecycleEvent } from '@jobstream/contracts';
import { readHistory, type JobstreamKeys, type Logger, type RedisClient } from '@jobstream/runtime';
import type { ServerResponse } from 'node:http';
import type { Principal } from '../auth/principal.js';
import { ApiError } from '../http/api-error.js';
import { withRequestId } from '../http/request-context.js';
import type { JobStore, JobStreamStart } from '../jobs/job-store.js';
import type { EventHub } from './event-hub.js';
import { markRetriedOutcomes, planReplay } from './history-replay.js';
import { REPLAY_PAGE_SIZE, type ReplayPage } from './replaying-sink.js';
import { closeAfterReplayFailure, joinHub, startSse } from './stream-lifecycle.js';
import { streamSnapshot } from './stream-snapshot.js';
import type { CloseReason } from './stream-sink.js';
import { Subscriber } from './subscriber.js';

export interface JobStreamDeps {
  redis: RedisClient;
  keys: JobstreamKeys;
  hub: EventHub;
  store: JobStore;
  logger: Logger;
  retryMs: number;
  maxBufferBytes: number;
  /** Results of more JSON bytes than this are left out of the snapshots in `connected` and `reset` (0: none). */
  resultInlineMaxBytes: number;
  /** Called when a stream closes, with its response (for its request's log lines). */
  onClose?: (reason: CloseReason, res: ServerResponse) => void;
}

/**
 * Opens the SSE stream of one job: `connected` with the snapshot, then every stored event after
 * the client's cursor (page by page, as the client reads), then live events, until the terminal
 * event ends the stream. The subscriber joins the hub before the job and its history are read (one
 * script), so nothing falls between the read and the live feed.
 */
export async function openJobStream(deps: JobStreamDeps, res: ServerResponse, viewer: Principal, jobId: string, afterId?: string): Promise<void> {
  const subscriber: Subscriber = new Subscriber(jobId, res, deps.maxBufferBytes, deps.hub.replays, {
    onClose: (reason) => {
      deps.hub.remove(subscriber);
      deps.onClose?.(reason, res);
    },
    resync: () => replayHistory(deps, subscriber),
  });
  joinHub(deps.hub, subscriber);
  let start: JobStreamStart | undefined;
  try {
    start = await deps.store.getStreamStart(jobId, viewer, afterId, REPLAY_PAGE_SIZE);
  } finally {
    // Not a stream: the hub lets go of it at once, not when the error answer is out.
    if (!start) deps.hub.remove(subscriber);
  }
  if (!start) throw ApiError.jobNotFound(jobId);
  if (subscriber.closed) return;
  const { snapshot } = start;
  const plan = planReplay(start.history, afterId, isTerminalEvent);
  if (plan.kind === 'finished') {
    res.writeHead(204, withRequestId(res, {})).end();
    return;
  }

  startSse(subscriber);
  const timestamp = new Date().toISOString();
  subscriber.send({ event: 'connected', data: { jobId, timestamp, job: streamSnapshot(snapshot, deps.resultInlineMaxBytes) }, retryMs: deps.retryMs });

  let first: ReplayPage<LifecycleEvent> | undefined;
  if (plan.kind === 'reset') sendReset(deps, subscriber, snapshot);
  else {
    subscriber.lastSentId = afterId;
    first = { events: markRetriedOutcomes(plan.events, start.history.last?.id), end: plan.events.length < REPLAY_PAGE_SIZE };
  }
  await replayHistory(deps, subscriber, first).catch((err: unknown) => closeAfterFailure(deps, subscriber, err));
}

/** Replays what is stored after `subscriber.lastSentId` (from the start when undefined), then goes live. */
function replayHistory(deps: JobStreamDeps, subscriber: Subscriber, first?: ReplayPage<LifecycleEvent>): Promise<void> {
  return subscriber.replay(
    () => readPage(deps, subscriber),
    (err) => closeAfterFailure(deps, subscriber, err),
    first,
  );
}

/**
 * The page after what the client has. The coverage rule is checked on every page: an entry
 * trimmed between two pages makes the stream's position older than the oldest stored entry, which
 * is a `reset` (then everything still stored follows), never a silent gap.
 */
async function readPage(deps: JobStreamDeps, subscriber: Subscriber): Promise<ReplayPage<LifecycleEvent>> {
  const afterId = subscriber.lastSentId;
  const read = await readHistory(deps.redis, deps.keys, subscriber.jobId, afterId, REPLAY_PAGE_SIZE);
  const plan = planReplay(read, afterId, isTerminalEvent);
  if (plan.kind === 'finished') return { events: [], end: true };
  if (plan.kind === 'reset') {
    const snapshot = await deps.store.getSnapshot(subscriber.jobId);
    // The job itself is gone (past its retention): nothing is left to send.
    if (!snapshot) return { events: [], end: true };
    sendReset(deps, subscriber, snapshot);
    return { events: [], end: false };
  }
  return { events: markRetriedOutcomes(plan.events, read.last?.id), end: plan.events.length < REPLAY_PAGE_SIZE };
}

/** Tells the client its cursor is not covered and sends the job as it is; the replay goes on from the oldest stored event. */
function sendReset(deps: JobStreamDeps, subscriber: Subscriber, snapshot: JobSnapshot): void {
  subscriber.send({
    event: 'reset',
    data: {
      jobId: subscriber.jobId,
      timestamp: new Date().toISOString(),
      reason: 'history_unavailable',
      job: streamSnapshot(snapshot, deps.resultInlineMaxBytes),
    },
  });
  subscriber.lastSentId = undefined;
}

function closeAfterFailure(deps: JobStreamDeps, subscriber: Subscriber, err: unknown): void {
  closeAfterReplayFailure(subscriber, deps.logger, deps.retryMs, err, { jobId: subscriber.jobId });
}
