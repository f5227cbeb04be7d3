import { z } from 'zod';
import { jobSnapshotSchema } from './jobs.js';

/** Redis stream entry ids (`<ms>-<seq>`) are the SSE event ids; clients send them back as Last-Event-ID. */
export const eventIdSchema = z.string().regex(/^\d{1,16}-\d{1,16}$/, 'must look like 1700000000000-0');

const base = { jobId: z.string(), timestamp: z.string() };

/** Default of EVENT_RESULT_INLINE_MAX_BYTES (api and worker): results up to 16 KiB of JSON travel in events. */
export const EVENT_RESULT_INLINE_MAX_BYTES = 16_384;

/**
 * How an event or a stream's snapshot says it left a job's result out: the result's JSON was larger
 * than EVENT_RESULT_INLINE_MAX_BYTES (`resultBytes` long). `GET /api/jobs/:id` always has it.
 */
const resultOmitted = {
  resultOmitted: z.literal(true).optional(),
  resultBytes: z.number().int().nonnegative().optional(),
};

/**
 * On an outcome a stream replays although the job ran again after it (it was retried): `true`.
 * Such an outcome does not end the stream; the later run's events follow. Never stored: the api
 * adds it when it sends an outcome older than the job's newest event.
 */
const retried = { retried: z.literal(true).optional() };

/** The job as `connected` and `reset` carry it: the snapshot, its result left out when too large. */
export const streamJobSnapshotSchema = jobSnapshotSchema.extend(resultOmitted);

/**
 * The job lifecycle events: stored in the job's history and delivered with an SSE `id:`.
 * Each entry is the event's name and the schema of its one-line JSON `data:`.
 */
export const lifecycleEventSchemas = {
  /** The job is queued and waits for a worker (also after a retry or a stall). */
  waiting: z.object(base),
  /** The job waits for a retry backoff to pass. */
  delayed: z.object({ ...base, delayedUntil: z.string() }),
  /** A worker started an attempt. */
  active: z.object(base),
  /** The processor reported progress (a percentage, or an object of its own). */
  progress: z.object({ ...base, progress: z.union([z.number(), z.record(z.string(), z.unknown())]) }),
  /** The worker running the job stopped answering; the job goes back to waiting for another worker. */
  stalled: z.object(base),
  /**
   * Terminal: the job succeeded. `duration` is the successful attempt's run time in ms. A result
   * larger than EVENT_RESULT_INLINE_MAX_BYTES is left out (`resultOmitted`, `resultBytes`): it
   * would be copied into the job's history, its owner's channel and every stream message.
   */
  completed: z.object({ ...base, result: z.unknown().optional(), duration: z.number().nonnegative().nullable(), ...resultOmitted }),
  /** An attempt failed. Terminal when `willRetry` is false (and the job was not `retried` since). */
  failed: z.object({
    ...base,
    error: z.string(),
    attemptsMade: z.number().int().nonnegative(),
    willRetry: z.boolean(),
    ...retried,
  }),
  /**
   * Terminal: the job was cancelled by its owner or an admin (`by`). A job cancelled before it ran
   * (`previousState` waiting, delayed or prioritized) is removed; a running one was stopped. Not
   * terminal when `retried`: the job ran again after it.
   */
  cancelled: z.object({
    ...base,
    by: z.enum(['owner', 'admin']),
    previousState: z.enum(['waiting', 'delayed', 'prioritized', 'active']),
    ...retried,
  }),
} as const;

/** Events that belong to one connection rather than to the job's history: they carry no `id:`. */
export const streamEventSchemas = {
  /** First event of every stream: the job as it is now. */
  connected: z.object({ ...base, job: streamJobSnapshotSchema }),
  /** Keeps proxies from closing an idle stream. */
  heartbeat: z.object(base),
  /**
   * The history no longer covers the client's Last-Event-ID: here is the job as it is now.
   * Every event still stored follows, with its id, so the next reconnect resumes from there.
   */
  reset: z.object({ ...base, reason: z.enum(['history_unavailable']), job: streamJobSnapshotSchema }),
} as const;

export type LifecycleEventName = keyof typeof lifecycleEventSchemas;
export type StreamEventName = keyof typeof streamEventSchemas;
export type JobEventName = LifecycleEventName | StreamEventName;

export type LifecycleEventData<N extends LifecycleEventName = LifecycleEventName> = z.infer<
  (typeof lifecycleEventSchemas)[N]
>;
export type StreamEventData<N extends StreamEventName = StreamEventName> = z.infer<(typeof streamEventSchemas)[N]>;
export type StreamJobSnapshot = z.infer<typeof streamJobSnapshotSchema>;

/** A lifecycle event as stored and delivered: its id, its name and its data. */
export type LifecycleEvent = {
  [N in LifecycleEventName]: { id: string; event: N; data: LifecycleEventData<N> };
}[LifecycleEventName];

export const lifecycleEventNames = Object.keys(lifecycleEventSchemas) as LifecycleEventName[];

/** Parses a stored event; throws a ZodError when the name is unknown or the data does not fit. */
export function parseLifecycleEvent(id: string, event: string, data: unknown): LifecycleEvent {
  if (!Object.prototype.hasOwnProperty.call(lifecycleEventSchemas, event)) {
    throw new z.ZodError([{ code: 'custom', path: ['event'], message: `unknown event "${event}"`, input: event }]);
  }
  const name = event as LifecycleEventName;
  return { id, event: name, data: lifecycleEventSchemas[name].parse(data) } as LifecycleEvent;
}

/** True for the event after which nothing more happens to the job (an outcome marked `retried` is not one). */
export function isTerminalEvent(event: Pick<LifecycleEvent, 'event' | 'data'>): boolean {
  if (event.event === 'completed') return true;
  if (event.event === 'cancelled') return !(event.data as LifecycleEventData<'cancelled'>).retried;
  if (event.event !== 'failed') return false;
  const data = event.data as LifecycleEventData<'failed'>;
  return !data.willRetry && !data.retried;
}
