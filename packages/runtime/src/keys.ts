import type { QueueSettings } from './config.js';

/**
 * Every Redis key jobstream uses. They all start with BullMQ's own `<prefix>:<queue>` so that,
 * with a hash tag in the prefix, one queue and its event history live in one cluster slot
 * (the relay's Lua script writes several of them atomically).
 */
export interface JobstreamKeys {
  /** BullMQ's event stream for the queue: the source the relay reads. */
  bullEvents: string;
  /** BullMQ's hash for one job. */
  job(jobId: string): string;
  /** Prefix of the per-job history streams; the full key is this plus the job id. */
  historyPrefix: string;
  /** One job's lifecycle events, ids equal to the BullMQ event ids. */
  history(jobId: string): string;
  /** The live feed the api replicas follow: one small entry (job id, history id) per event. */
  feed: string;
  /** The id of the last BullMQ event the relay has written out. */
  relayCursor: string;
  /** Held by the one worker process that currently relays. */
  relayLock: string;
  /** Scratch key the relay copies a finished job's history through, to store it compactly (never left behind). */
  relayCompact: string;
  /** Operations: hash with the kill-switch state (enabled, reason, auto, changedAt, changedBy). */
  killSwitch: string;
  /** Capped stream: the kill-switch audit trail (who, when, why). */
  killSwitchAudit: string;
  /** Hash of one calendar month's budget (`YYYY-MM`): spent, limit and the thresholds already acted on. */
  budget(period: string): string;
  /** Hash of one month's charged jobs (job id to cost): a job is charged at most once. */
  budgetCharged(period: string): string;
  /** The id of the last feed entry the metrics service has accounted for. */
  metricsCursor: string;
  /** Hash of finished-job counts for one time bucket (bucket start in ms), for the failure rate. */
  outcomes(bucketStartMs: number): string;
  /**
   * A random secret made by the first api replica that needs it (SET NX) and shared by all: keys the
   * ids of jobs submitted with an idempotency key when JOB_ID_SECRET is not set.
   */
  jobIdSecret: string;
  /** The latest alert evaluation (JSON), written by the metrics service, read by every api replica. */
  alerts: string;
  /** Hash: worker id to its latest heartbeat (JSON: active jobs, circuit breaker state). */
  workers: string;
  /** Capped stream of system notifications (alerts, kill-switch, circuit breaker) for admins. */
  system: string;
  /** Prefix of the per-user enqueue rate-limit counters (rate-limiter-flexible appends `:<userId>`). */
  enqueueRateLimit: string;
  /** Prefix of the per-user cancel counters (the user id is appended): cancels have an allowance of their own. */
  cancelRateLimit: string;
  /** Sorted set of one user's open-stream leases: member `<replica>:<stream>`, score its expiry in ms. */
  streamLeases(userId: string): string;
  /**
   * Sorted set of one user's running jobs (MAX_ACTIVE_JOBS_PER_USER): member the job id, score the
   * expiry in ms of its slot, which the worker running it renews.
   */
  activeJobSlots(userId: string): string;
  /**
   * Sorted set of one user's jobs held back because the user is at the active cap: member the job id,
   * score when it was first held (ms). A worker that frees one of the user's slots wakes the oldest.
   */
  heldJobs(userId: string): string;
  /**
   * Sorted set of one user's jobs not finished yet (MAX_QUEUED_JOBS_PER_USER): member the job id,
   * score when the api accepted it (ms). The worker removes a job after its last attempt.
   */
  unfinishedJobs(userId: string): string;
  /**
   * Hash of the bytes one user's jobs keep in Redis (MAX_STORED_BYTES_PER_USER): field the start
   * (ms) of a time bucket, value the bytes charged in it (see `stored-bytes.ts`).
   */
  storedBytes(userId: string): string;
  /**
   * Prefix of the per-user channels; the full key is this, the user id and `userChannelSuffix`. The
   * relay's Lua script builds the key of a job's owner from the two.
   */
  userChannelPrefix: string;
  /** The end of every user channel's key, after the user id. */
  userChannelSuffix: string;
  /** One user's channel: capped stream of their job events, their notifications and `unread_count`. */
  userChannel(userId: string): string;
  /**
   * Sorted set of one user's jobs, for `GET /api/jobs`: member the job id, score its creation time
   * in ms. Written by the api at enqueue, capped and trimmed to the job retention.
   */
  userJobs(userId: string): string;
  /** One topic's channel: capped stream of the notifications published to it. */
  topicChannel(topic: string): string;
  /**
   * One user's inbox: `all` and `unread` are sorted sets of notification ids (which sort by time),
   * `data` a hash of id to the notification's JSON.
   */
  inbox(userId: string): InboxKeys;
  /**
   * A request to stop a running job (its value: who asked, `owner` or `admin`): a worker that starts
   * the job, or runs it when the request is published, stops it. Expires with the job retention.
   */
  cancelRequest(jobId: string): string;
  /** Pub/sub channel every worker listens on for cancel requests (message: the JSON of `CancelMessage`). */
  cancelChannel: string;
  /** One sign-in code (JSON: the token, its user, roles and exp), read and deleted at once (GETDEL); expires (PXAT) within 120 s, never after the token. */
  signInCode(code: string): string;
  /** Prefix of the sign-in code rate-limit counters (rate-limiter-flexible appends `:<user or address>`). */
  signInCodeRateLimit: string;
  /** Hash of one user's webhook endpoints: endpoint id to its JSON (url, events, secret, state). */
  webhookEndpoints(userId: string): string;
  /** Sorted set of one user's deliveries not finished yet (WEBHOOK_MAX_PENDING_PER_USER): member the delivery id, score when it was queued (ms). */
  webhookPending(userId: string): string;
  /** One endpoint's delivery log: `order` sorts delivery ids by creation time (ms), `data` maps them to their record. */
  webhookDeliveries(endpointId: string): { order: string; data: string };
  /** The `callbackUrl` a job was submitted with; expires with the job's retention. */
  jobCallback(jobId: string): string;
  /** The id of the last feed entry the webhook dispatcher has turned into deliveries. */
  webhookCursor: string;
  /** Held by the one worker process that currently dispatches webhooks. */
  webhookLock: string;
  /** Hash of one user's push subscriptions: subscription id to its JSON (endpoint and keys, or an Expo token). */
  pushSubscriptions(userId: string): string;
  /** Set of the users with at least one push subscription: the dispatcher reads nothing for anyone else. */
  pushUsers: string;
  /** Hash: hash of an endpoint (or Expo token) to the user it is registered to, so one device belongs to one user. */
  pushEndpoints: string;
  /** The id of the last feed entry the push dispatcher has handed to its queue. */
  pushCursor: string;
  /** Held by the one worker process that currently dispatches pushes. */
  pushLock: string;
  /** Counter of the pushes one user was sent in one minute (start in ms). */
  pushRate(userId: string, minuteStartMs: number): string;
  /** Counter of the pushes one device (subscription) was sent in one minute (start in ms). */
  pushDeviceRate(subscriptionId: string, minuteStartMs: number): string;
}

/** The keys of one user's inbox (see `JobstreamKeys.inbox`). */
export interface InboxKeys {
  all: string;
  unread: string;
  data: string;
}

export function jobstreamKeys(queue: Pick<QueueSettings, 'prefix' | 'name'>): JobstreamKeys {
  const base = `${queue.prefix}:${queue.name}`;
  const historyPrefix = `${base}:js:history:`;
  return {
    bullEvents: `${base}:events`,
    job: (jobId) => `${base}:${jobId}`,
    historyPrefix,
    history: (jobId) => `${historyPrefix}${jobId}`,
    feed: `${base}:js:feed`,
    relayCursor: `${base}:js:relay:cursor`,
    relayLock: `${base}:js:relay:lock`,
    relayCompact: `${base}:js:relay:compact`,
    killSwitch: `${base}:js:ops:kill-switch`,
    killSwitchAudit: `${base}:js:ops:kill-switch:audit`,
    budget: (period) => `${base}:js:ops:budget:${period}`,
    budgetCharged: (period) => `${base}:js:ops:budget:${period}:charged`,
    metricsCursor: `${base}:js:ops:metrics:cursor`,
    outcomes: (bucketStartMs) => `${base}:js:ops:outcomes:${bucketStartMs}`,
    alerts: `${base}:js:ops:alerts`,
    jobIdSecret: `${base}:js:secret:job-id`,
    workers: `${base}:js:ops:workers`,
    system: `${base}:js:system`,
    enqueueRateLimit: `${base}:js:limits:enqueue`,
    cancelRateLimit: `${base}:js:limits:cancel`,
    streamLeases: (userId) => `${base}:js:limits:streams:${userId}`,
    // The per-user limit keys end in the user id: no kind's prefix is a prefix of another's.
    activeJobSlots: (userId) => `${base}:js:limits:active:${userId}`,
    heldJobs: (userId) => `${base}:js:limits:held:${userId}`,
    unfinishedJobs: (userId) => `${base}:js:limits:queued:${userId}`,
    storedBytes: (userId) => `${base}:js:limits:stored:${userId}`,
    // Every key of a user ends in a suffix no other one ends in, so user ids containing ":" cannot collide.
    userChannelPrefix: `${base}:js:user:`,
    userChannelSuffix: ':events',
    userChannel: (userId) => `${base}:js:user:${userId}:events`,
    userJobs: (userId) => `${base}:js:user:${userId}:jobs`,
    topicChannel: (topic) => `${base}:js:topic:${topic}:events`,
    inbox: (userId) => ({
      all: `${base}:js:user:${userId}:inbox`,
      unread: `${base}:js:user:${userId}:inbox:unread`,
      data: `${base}:js:user:${userId}:inbox:data`,
    }),
    cancelRequest: (jobId) => `${base}:js:cancel:${jobId}`,
    cancelChannel: `${base}:js:cancel`,
    signInCode: (code) => `${base}:js:sign-in:${code}`,
    signInCodeRateLimit: `${base}:js:limits:sign-in`,
    webhookEndpoints: (userId) => `${base}:js:user:${userId}:webhooks`,
    webhookPending: (userId) => `${base}:js:user:${userId}:webhooks:pending`,
    webhookDeliveries: (endpointId) => ({
      order: `${base}:js:webhook:${endpointId}:deliveries`,
      data: `${base}:js:webhook:${endpointId}:deliveries:data`,
    }),
    jobCallback: (jobId) => `${base}:js:callback:${jobId}`,
    webhookCursor: `${base}:js:webhook:cursor`,
    webhookLock: `${base}:js:webhook:lock`,
    pushSubscriptions: (userId) => `${base}:js:user:${userId}:push`,
    pushUsers: `${base}:js:push:users`,
    pushEndpoints: `${base}:js:push:endpoints`,
    pushCursor: `${base}:js:push:cursor`,
    pushLock: `${base}:js:push:lock`,
    pushRate: (userId, minuteStartMs) => `${base}:js:limits:push:${minuteStartMs}:${userId}`,
    pushDeviceRate: (subscriptionId, minuteStartMs) => `${base}:js:limits:push-device:${minuteStartMs}:${subscriptionId}`,
  };
}
