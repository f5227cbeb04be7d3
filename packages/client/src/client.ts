import type {
  AdminJobListResponse,
  AdminJobState,
  AlertsResponse,
  BudgetStatus,
  CancelJobResponse,
  CleanJobsRequest,
  CleanJobsResponse,
  EnqueueResponse,
  JobListResponse,
  JobPayloadInput,
  JobTypeName,
  KillSwitchAuditEntry,
  KillSwitchState,
  Notification,
  NotificationRequest,
  BudgetChargesResponse,
  FeedProgressResponse,
  QueueBreakdownResponse,
  QueueStats,
  SystemEventName,
  SystemEventsResponse,
  WorkersResponse,
} from './contract-types.js';
import {
  isAlertsResponse,
  isBudgetStatus,
  isEnqueueResponse,
  isJobListResponse,
  isJobSnapshot,
  isKillSwitchAudit,
  isKillSwitchState,
  isBudgetCharges,
  isFeedProgress,
  isQueueBreakdown,
  isQueueStats,
  isSystemEvents,
  isWorkersResponse,
} from './http/shape-checks.js';
import { isAdminJobListResponse, isCancelJobResponse, isCleanJobsResponse } from './http/job-control-checks.js';
import { isMeResponse, type MeResponse } from './http/me-response.js';
import { isNotification } from './http/notification-checks.js';
import { Transport, type FetchLike, type TokenProvider } from './http/transport.js';
import { createInbox, type Inbox } from './inbox.js';
import { createWebhooks, type Webhooks } from './webhooks.js';
import { createPushDevices, type PushDevices } from './push.js';
import { selectStreamOpener, streamTransports, type StreamTransport } from './sse/stream-transport.js';
import type { XhrConstructor } from './sse/xhr-stream.js';
import { resolveStreamOptions, type ResolvedStreamOptions, type StreamOptions } from './sse/stream-options.js';
import { JobWatch, type KnownJobType, type TypedJobSnapshot, type WatchJobOptions } from './watch/job-watch.js';
import { NotificationWatch, type NotificationFilters, type WatchNotificationsOptions } from './watch/notification-watch.js';

export interface ClientOptions {
  /**
   * Where the api answers: `https://jobs.example.com` (a path prefix is kept). In a page the api
   * serves itself, `''` (same origin) or a path such as `/jobstream` works too.
   */
  baseUrl: string;
  /** A bearer token sent as `Authorization: Bearer <token>`. Use `getToken` instead when it expires. */
  token?: string;
  /**
   * Returns the bearer token (sync or async); called before every request and every stream
   * (re)connect, so a refreshed token is picked up at the next one. When the api answers
   * `401 TOKEN_EXPIRED`, it is called once more with `{ forceRefresh: true }` and the request (or
   * connect) is sent again at once; a second refusal is final. Exclusive with `token`.
   */
  getToken?: TokenProvider;
  /**
   * The fetch to use. Default: the global one (browsers, Node 20). React Native's built-in fetch
   * cannot stream response bodies: watches then read their streams through XMLHttpRequest (see
   * `transport`), or pass a fetch that can (e.g. `fetch` from `expo/fetch`).
   */
  fetch?: FetchLike;
  /**
   * How watches read their event streams. Default `auto`: fetch where its responses have readable
   * body streams, XMLHttpRequest progress events otherwise (React Native). `fetch` never uses
   * XMLHttpRequest (without streaming bodies, watches poll); `xhr` always does.
   */
  transport?: StreamTransport;
  /**
   * The XMLHttpRequest for the `xhr` transport. Default: the global one (browsers, React Native);
   * in Node, pass an implementation whose `responseText` grows as the response arrives.
   */
  XMLHttpRequest?: XhrConstructor;
  /** Defaults for every watch (each `watchJob` may override them). */
  stream?: StreamOptions;
}

export interface EnqueueOptions {
  /** The same key always names the same job: a retried submission enqueues nothing twice. */
  idempotencyKey?: string;
  /** Where the job's outcome is POSTed, signed with the job-callbacks secret (see `webhooks.jobCallbacks()`). */
  callbackUrl?: string;
  signal?: AbortSignal;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

export interface JobListOptions extends RequestOptions {
  /** Jobs per page, 1-100. Default 20. */
  limit?: number;
  /** The `nextCursor` of the page before. */
  cursor?: string;
}

export interface AdminJobListOptions extends JobListOptions {
  /** Which jobs: `waiting`, `active`, `delayed`, `prioritized`, `completed` or `failed`. */
  state: AdminJobState;
}

export type { JobPayloadInput };

/**
 * A job id that remembers its job type at compile time: `enqueue` returns one, and `watchJob` and
 * `getJob` then type the job's result by it. A plain string is a JobId of no known type.
 */
export type JobId<T extends KnownJobType = string> = string & { readonly __jobType?: T };

/** `enqueue`'s answer: the contract's EnqueueResponse, its `jobId` and `type` typed by the job type. */
export type TypedEnqueueResponse<T extends JobTypeName> = Omit<EnqueueResponse, 'jobId' | 'type'> & { jobId: JobId<T>; type: T };

/**
 * What a publisher sends (`POST /api/notifications`): the contract's NotificationRequest, with
 * exactly one of `userId` (stored in that user's inbox and sent on their stream) and `topic` (sent
 * live to the streams that follow the topic; no inbox) required by the type as the api requires it.
 */
export type PublishNotificationInput = Omit<NotificationRequest, 'userId' | 'topic'> &
  ({ userId: string; topic?: undefined } | { topic: string; userId?: undefined });

function checkOptions(options: ClientOptions): void {
  if (typeof options !== 'object' || options === null) throw new TypeError('jobstream: createClient needs an options object ({ baseUrl, ... })');
  if (typeof options.baseUrl !== 'string' || !(options.baseUrl === '' || options.baseUrl.startsWith('/') || /^https?:\/\/[^/]/i.test(options.baseUrl))) {
    throw new TypeError(`jobstream: baseUrl must be an http(s) URL such as "http://localhost:3000" (or a same-origin path in a browser), got ${JSON.stringify(options.baseUrl)}`);
  }
  if (options.token !== undefined && options.getToken !== undefined) throw new TypeError('jobstream: pass either token or getToken, not both');
  if (options.token !== undefined && (typeof options.token !== 'string' || options.token === '')) throw new TypeError('jobstream: token must be a non-empty string');
  if (options.getToken !== undefined && typeof options.getToken !== 'function') throw new TypeError('jobstream: getToken must be a function returning the token (or a promise of it)');
  if (options.fetch === undefined && typeof globalThis.fetch !== 'function') throw new TypeError('jobstream: no global fetch here; pass one as the fetch option');
  if (options.transport !== undefined && !streamTransports.includes(options.transport)) {
    throw new TypeError(`jobstream: transport must be one of ${streamTransports.join(', ')}, got ${JSON.stringify(options.transport)}`);
  }
  if (options.XMLHttpRequest !== undefined && typeof options.XMLHttpRequest !== 'function') throw new TypeError('jobstream: XMLHttpRequest must be a constructor');
  if (options.transport === 'xhr' && xhrConstructor(options) === undefined) {
    throw new TypeError('jobstream: the xhr transport needs an XMLHttpRequest: there is no global one here; pass one as the XMLHttpRequest option');
  }
}

/** The XMLHttpRequest the options name, or the global one. */
function xhrConstructor(options: ClientOptions): XhrConstructor | undefined {
  // Typed loosely: the SDK compiles without the DOM library too (the repository's tests do).
  const global = (globalThis as { XMLHttpRequest?: XhrConstructor }).XMLHttpRequest;
  return options.XMLHttpRequest ?? (typeof global === 'function' ? global : undefined);
}

/** The jobstream SDK: one per api (and token source). Safe to share across a whole app. */
export class JobstreamClient {
  readonly baseUrl: string;
  /** The user's notification inbox. */
  readonly inbox: Inbox;
  /** The caller's webhook endpoints and their delivery logs. */
  readonly webhooks: Webhooks;
  /** The user's push devices (browsers and React Native apps). */
  readonly push: PushDevices;
  private readonly transport: Transport;
  private readonly streamDefaults: ResolvedStreamOptions;

  constructor(options: ClientOptions) {
    checkOptions(options);
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    const token = options.token;
    const tokenProvider = options.getToken ?? (token === undefined ? undefined : () => token);
    const fetchFn: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    // A fixed token cannot be refreshed: a TOKEN_EXPIRED is then final at once.
    const streams = selectStreamOpener(options.transport ?? 'auto', fetchFn, options.fetch === undefined, xhrConstructor(options));
    this.transport = new Transport(this.baseUrl, fetchFn, tokenProvider, options.getToken !== undefined, streams);
    this.streamDefaults = resolveStreamOptions(options.stream);
    this.inbox = createInbox(this.transport);
    this.webhooks = createWebhooks(this.transport);
    this.push = createPushDevices(this.transport);
  }

  /** Who the api takes the caller for (`GET /api/me`): user id, roles and the api's auth mode. */
  me(options: RequestOptions = {}): Promise<MeResponse> {
    return this.transport.json('GET', '/api/me', { check: isMeResponse, expected: 'a { userId, roles, authMode } answer', ...(options.signal ? { signal: options.signal } : {}) });
  }

  /**
   * Service or admin: publishes a notification (`POST /api/notifications`) to one user or to a
   * topic; resolves with it as stored and sent. A plain user gets a ForbiddenError (`FORBIDDEN`).
   */
  publishNotification(notification: PublishNotificationInput, options: RequestOptions = {}): Promise<Notification> {
    return this.transport.json('POST', '/api/notifications', {
      body: notification,
      check: isNotification,
      expected: 'a notification',
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  /**
   * Submits a job (`POST /api/jobs`); resolves with its id as soon as it is queued. The id carries
   * the job type: `watchJob(jobId)` and `getJob(jobId)` then type the result by it.
   */
  async enqueue<T extends JobTypeName>(type: T, payload: JobPayloadInput<T>, options: EnqueueOptions = {}): Promise<TypedEnqueueResponse<T>> {
    const answer = await this.transport.json('POST', '/api/jobs', {
      body: {
        type,
        payload,
        ...(options.idempotencyKey !== undefined ? { idempotencyKey: options.idempotencyKey } : {}),
        ...(options.callbackUrl !== undefined ? { callbackUrl: options.callbackUrl } : {}),
      },
      check: isEnqueueResponse,
      expected: 'an enqueue answer',
      ...(options.signal ? { signal: options.signal } : {}),
    });
    // The api answers with the type it was sent.
    return answer as TypedEnqueueResponse<T>;
  }

  /** The job as it is now (`GET /api/jobs/:id`); its result typed by the job type `T` when the id (or the caller) names it. */
  async getJob<T extends KnownJobType = string>(jobId: JobId<T>, options: RequestOptions = {}): Promise<TypedJobSnapshot<T>> {
    const job = await this.transport.json('GET', `/api/jobs/${encodeURIComponent(jobId)}`, { check: isJobSnapshot, expected: 'a job snapshot', ...(options.signal ? { signal: options.signal } : {}) });
    return job as TypedJobSnapshot<T>;
  }

  /** The caller's own jobs, newest first (`GET /api/jobs`); pass the answer's `nextCursor` for the next page. */
  listJobs(options: JobListOptions = {}): Promise<JobListResponse> {
    return this.transport.json('GET', '/api/jobs', {
      query: { limit: options.limit, cursor: options.cursor },
      check: isJobListResponse,
      expected: 'a page of jobs',
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  /**
   * Cancels a job (`POST /api/jobs/:id/cancel`, its owner or an admin): one that has not started is
   * removed, a running one is asked to stop; either way its watch ends with `cancelled`. A job that
   * already finished rejects with a ConflictError (`JOB_ALREADY_FINISHED`).
   */
  cancelJob(jobId: string, options: RequestOptions = {}): Promise<CancelJobResponse> {
    return this.transport.json('POST', `/api/jobs/${encodeURIComponent(jobId)}/cancel`, {
      body: {},
      check: isCancelJobResponse,
      expected: 'a cancel answer',
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  /**
   * Runs a failed job again under its id (`POST /api/jobs/:id/retry`); a watch resumed with its last
   * event id sees the new run. A job that is not failed rejects with a ConflictError
   * (`JOB_NOT_RETRYABLE`); the kill-switch with a BudgetLimitError, like a new job.
   */
  retryJob(jobId: string, options: RequestOptions = {}): Promise<EnqueueResponse> {
    return this.transport.json('POST', `/api/jobs/${encodeURIComponent(jobId)}/retry`, {
      body: {},
      check: isEnqueueResponse,
      expected: 'a retry answer',
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  /**
   * Watches a job live: iterate it (`for await (const e of client.watchJob(id))`) or listen
   * (`.on('progress', fn).on('state', fn)`). It reconnects, resumes, falls back to polling, and
   * ends after the job's terminal event. Its jobs and results are typed by the job type `T` when
   * the id came from `enqueue` or the caller names it (`watchJob<'flashcards.generate'>(id)`).
   */
  watchJob<T extends KnownJobType = string>(jobId: JobId<T>, options: WatchJobOptions = {}): JobWatch<T> {
    return new JobWatch<T>(jobId, this.transport, resolveStreamOptions(this.streamDefaults, options), options);
  }

  /**
   * Watches the caller's notification stream (`GET /api/notifications/stream`): their job events,
   * their notifications and unread count, the topics asked for, and (admins) system events;
   * filtered on the server.
   */
  watchNotifications(filters: NotificationFilters = {}, options: WatchNotificationsOptions = {}): NotificationWatch {
    return new NotificationWatch(this.transport, filters, resolveStreamOptions(this.streamDefaults, options), options);
  }

  /** Job counts per state (`GET /api/queue/stats`). */
  queueStats(options: RequestOptions = {}): Promise<QueueStats> {
    return this.transport.json('GET', '/api/queue/stats', { check: isQueueStats, expected: 'queue stats', ...(options.signal ? { signal: options.signal } : {}) });
  }

  /** Admin: this month's spend, the limit and the kill-switch (`GET /api/admin/budget/status`). */
  budget(options: RequestOptions = {}): Promise<BudgetStatus> {
    return this.transport.json('GET', '/api/admin/budget/status', { check: isBudgetStatus, expected: 'a budget status', ...(options.signal ? { signal: options.signal } : {}) });
  }

  /** Admin: turns the kill-switch on (a reason is required) or off; resolves with its new state. */
  setKillSwitch(enabled: boolean, reason?: string, options: RequestOptions = {}): Promise<KillSwitchState> {
    return this.transport.json('POST', '/api/admin/budget/kill-switch', {
      body: { enabled, ...(reason !== undefined ? { reason } : {}) },
      check: isKillSwitchState,
      expected: 'the kill-switch state',
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  /** Admin: who changed the kill-switch, when and why, newest first. */
  async killSwitchAudit(limit = 20, options: RequestOptions = {}): Promise<KillSwitchAuditEntry[]> {
    const answer = await this.transport.json('GET', '/api/admin/budget/kill-switch/audit', {
      query: { limit },
      check: isKillSwitchAudit,
      expected: 'the kill-switch audit',
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return answer.entries;
  }

  /** Admin: every worker's latest heartbeat, its jobs and circuit breakers (`GET /api/admin/workers`). */
  workers(options: RequestOptions = {}): Promise<WorkersResponse> {
    return this.transport.json('GET', '/api/admin/workers', { check: isWorkersResponse, expected: 'the workers', ...(options.signal ? { signal: options.signal } : {}) });
  }

  /** Admin: the latest system notifications, newest first, optionally of one kind (`GET /api/admin/system-events`). */
  async systemEvents(query: { limit?: number; event?: SystemEventName } = {}, options: RequestOptions = {}): Promise<SystemEventsResponse['events']> {
    const answer = await this.transport.json('GET', '/api/admin/system-events', {
      query: { limit: query.limit, event: query.event },
      check: isSystemEvents,
      expected: 'the system events',
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return answer.events;
  }

  /**
   * Admin: who submitted the oldest waiting or the newest failed jobs, their types and (failed)
   * their errors, most jobs first (`GET /api/admin/queue/breakdown`).
   */
  queueBreakdown(state: 'waiting' | 'failed', limit?: number, options: RequestOptions = {}): Promise<QueueBreakdownResponse> {
    return this.transport.json('GET', '/api/admin/queue/breakdown', {
      query: { state, limit },
      check: isQueueBreakdown,
      expected: 'a queue breakdown',
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  /** Admin: every user's jobs in one state, newest first (`GET /api/admin/jobs`); pass `nextCursor` for the next page. */
  listJobsByState(options: AdminJobListOptions): Promise<AdminJobListResponse> {
    return this.transport.json('GET', '/api/admin/jobs', {
      query: { state: options.state, limit: options.limit, cursor: options.cursor },
      check: isAdminJobListResponse,
      expected: 'a page of jobs',
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  /**
   * Admin: removes up to `limit` (default 1,000) jobs that finished in `state` at least
   * `olderThanSeconds` ago, with their history (`POST /api/admin/jobs/clean`); resolves with how many.
   */
  cleanJobs(request: CleanJobsRequest, options: RequestOptions = {}): Promise<CleanJobsResponse> {
    return this.transport.json('POST', '/api/admin/jobs/clean', {
      body: request,
      check: isCleanJobsResponse,
      expected: 'a clean answer',
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  /** Admin: a month's most expensive jobs and their owners (`GET /api/admin/budget/charges`). */
  budgetCharges(query: { period?: string; limit?: number } = {}, options: RequestOptions = {}): Promise<BudgetChargesResponse> {
    return this.transport.json('GET', '/api/admin/budget/charges', {
      query: { period: query.period, limit: query.limit },
      check: isBudgetCharges,
      expected: 'the budget charges',
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  /** Admin: how far the metrics service has read the live feed (`GET /api/admin/feed`). */
  feedProgress(options: RequestOptions = {}): Promise<FeedProgressResponse> {
    return this.transport.json('GET', '/api/admin/feed', { check: isFeedProgress, expected: 'the feed progress', ...(options.signal ? { signal: options.signal } : {}) });
  }

  /** The alert evaluation (`GET /api/metrics/alerts`); `stale` means the metrics service is not running. */
  alerts(options: RequestOptions = {}): Promise<AlertsResponse> {
    return this.transport.json('GET', '/api/metrics/alerts', { check: isAlertsResponse, expected: 'the alerts answer', ...(options.signal ? { signal: options.signal } : {}) });
  }
}

/** Creates a client; configuration mistakes throw here, naming the option. */
export function createClient(options: ClientOptions): JobstreamClient {
  return new JobstreamClient(options);
}
