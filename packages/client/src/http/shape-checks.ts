import type {
  AlertsResponse,
  ApiErrorBody,
  BudgetStatus,
  EnqueueResponse,
  ErrorDetail,
  JobListResponse,
  JobSnapshot,
  KillSwitchAuditEntry,
  KillSwitchState,
  LifecycleEventData,
  LifecycleEventName,
  BudgetChargesResponse,
  FeedProgressResponse,
  QueueBreakdownResponse,
  QueueStats,
  SystemEventsResponse,
  WorkersResponse,
} from '../contract-types.js';

/**
 * Checks of the answers and events the SDK reads, with the contract's types.
 *
 * Why not the contract's zod schemas: `@jobstream/contracts` is CommonJS over the whole of zod,
 * so using them at runtime put about 600 kB (minified; zod's locales alone are half of it) into
 * every browser bundle of the SDK, against about 30 kB without. The api builds every answer and
 * event from those schemas, and the SDK's tests parse what it yields with them, so here it is
 * enough to check what the SDK itself relies on (names, ids, the fields it reads) and to fail
 * loudly with a JobstreamProtocolError when an answer is something else entirely.
 * The types come from the contracts package (type-only imports: nothing of it is bundled).
 */
export type ShapeCheck<T> = (value: unknown) => value is T;

/** The building blocks of the checks here and in notification-checks.ts. */
export type Rec = Record<string, unknown>;
export const isRecord = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
export const str = (o: Rec, k: string): boolean => typeof o[k] === 'string';
export const num = (o: Rec, k: string): boolean => typeof o[k] === 'number';
export const bool = (o: Rec, k: string): boolean => typeof o[k] === 'boolean';
export const optStr = (o: Rec, k: string): boolean => o[k] === undefined || typeof o[k] === 'string';
const progressOk = (v: unknown): boolean => typeof v === 'number' || isRecord(v);

export const isErrorDetail: ShapeCheck<ErrorDetail> = (v): v is ErrorDetail => isRecord(v) && str(v, 'path') && str(v, 'message');

/** The API's error body; `code` may be one this SDK does not know yet. */
export const isApiErrorBody = (v: unknown): v is Omit<ApiErrorBody, 'code'> & { code: string } =>
  isRecord(v) && str(v, 'error') && str(v, 'code') && (v.details === undefined || (Array.isArray(v.details) && v.details.every(isErrorDetail)));

export const isJobSnapshot: ShapeCheck<JobSnapshot> = (v): v is JobSnapshot =>
  isRecord(v) &&
  str(v, 'jobId') &&
  str(v, 'type') &&
  str(v, 'state') &&
  progressOk(v.progress) &&
  num(v, 'attemptsMade') &&
  str(v, 'createdAt') &&
  optStr(v, 'error') &&
  optStr(v, 'startedAt') &&
  optStr(v, 'finishedAt');

export const isEnqueueResponse: ShapeCheck<EnqueueResponse> = (v): v is EnqueueResponse =>
  isRecord(v) && str(v, 'jobId') && str(v, 'type') && str(v, 'state') && isRecord(v.links) && str(v.links, 'self') && str(v.links, 'events');

export const isQueueStats: ShapeCheck<QueueStats> = (v): v is QueueStats =>
  isRecord(v) && str(v, 'queue') && isRecord(v.counts) && Object.values(v.counts).every((n) => typeof n === 'number');

export const isKillSwitchState: ShapeCheck<KillSwitchState> = (v): v is KillSwitchState => isRecord(v) && bool(v, 'enabled') && bool(v, 'auto');

export const isBudgetStatus: ShapeCheck<BudgetStatus> = (v): v is BudgetStatus =>
  isRecord(v) && str(v, 'period') && num(v, 'spent') && (v.limit === null || num(v, 'limit')) && isKillSwitchState(v.killSwitch);

export const isAlertsResponse: ShapeCheck<AlertsResponse> = (v): v is AlertsResponse =>
  isRecord(v) && isRecord(v.alerts) && num(v, 'alertsActive') && isRecord(v.values) && isRecord(v.thresholds) && str(v, 'evaluatedAt') && bool(v, 'stale');

export const isWorkersResponse = (v: unknown): v is WorkersResponse =>
  isRecord(v) &&
  str(v, 'at') &&
  Array.isArray(v.workers) &&
  v.workers.every((w) => isRecord(w) && str(w, 'workerId') && num(w, 'heartbeatAgeMs') && Array.isArray(w.activeJobs) && Array.isArray(w.breakers));

export const isSystemEvents = (v: unknown): v is SystemEventsResponse =>
  isRecord(v) && Array.isArray(v.events) && v.events.every((e) => isRecord(e) && str(e, 'id') && str(e, 'event') && isRecord(e.data));

export const isQueueBreakdown = (v: unknown): v is QueueBreakdownResponse =>
  isRecord(v) && str(v, 'state') && num(v, 'jobs') && Array.isArray(v.byOwner) && Array.isArray(v.byType) && Array.isArray(v.byError);

export const isBudgetCharges = (v: unknown): v is BudgetChargesResponse =>
  isRecord(v) && str(v, 'period') && num(v, 'jobsCharged') && num(v, 'total') && Array.isArray(v.jobs) && v.jobs.every((j) => isRecord(j) && str(j, 'jobId') && num(j, 'cost'));

export const isFeedProgress = (v: unknown): v is FeedProgressResponse => isRecord(v) && num(v, 'behindEntries') && num(v, 'behindMs') && 'metricsCursor' in v;

export const isKillSwitchAudit = (v: unknown): v is { entries: KillSwitchAuditEntry[] } =>
  isRecord(v) && Array.isArray(v.entries) && v.entries.every((e) => isRecord(e) && str(e, 'at') && bool(e, 'enabled'));

const base = (v: unknown): v is Rec => isRecord(v) && str(v, 'jobId') && str(v, 'timestamp');

/**
 * One check per lifecycle event. `satisfies` makes the compiler reject a missing or an extra
 * name, so a new event in the contract cannot be forgotten here.
 */
export const lifecycleDataChecks = {
  waiting: base,
  delayed: (v) => base(v) && str(v, 'delayedUntil'),
  active: base,
  progress: (v) => base(v) && progressOk(v.progress),
  stalled: base,
  completed: (v) => base(v) && (v.duration === null || num(v, 'duration')),
  failed: (v) => base(v) && str(v, 'error') && num(v, 'attemptsMade') && bool(v, 'willRetry'),
  cancelled: (v) => base(v) && str(v, 'by') && str(v, 'previousState'),
} satisfies { [N in LifecycleEventName]: (v: unknown) => boolean };

export function isLifecycleEventName(name: string): name is LifecycleEventName {
  return Object.prototype.hasOwnProperty.call(lifecycleDataChecks, name);
}

export function isLifecycleData<N extends LifecycleEventName>(name: N, data: unknown): data is LifecycleEventData<N> {
  return lifecycleDataChecks[name](data);
}

/** The data of `connected` and `reset`: a snapshot of the job. */
/** `GET /api/jobs`: a page of the caller's jobs. */
export const isJobListResponse: ShapeCheck<JobListResponse> = (v): v is JobListResponse =>
  isRecord(v) && Array.isArray(v.jobs) && v.jobs.every(isJobSnapshot) && (v.nextCursor === null || typeof v.nextCursor === 'string');

export const isSnapshotEventData = (v: unknown): v is { jobId: string; timestamp: string; job: JobSnapshot } => base(v) && isJobSnapshot(v.job);
