import type { AdminJobListResponse, AdminJobRow, CancelJobResponse, CleanJobsResponse } from '../contract-types.js';
import { isRecord, num, optStr, str, type ShapeCheck } from './shape-checks.js';

/** Checks of the job control answers (cancel, the admin's job browser and clean-up), like shape-checks.ts. */

export const isCancelJobResponse: ShapeCheck<CancelJobResponse> = (v): v is CancelJobResponse =>
  isRecord(v) && str(v, 'jobId') && (v.action === 'removed' || v.action === 'stop_requested');

const isAdminJobRow: ShapeCheck<AdminJobRow> = (v): v is AdminJobRow =>
  isRecord(v) &&
  str(v, 'jobId') &&
  str(v, 'type') &&
  (v.owner === null || str(v, 'owner')) &&
  str(v, 'state') &&
  str(v, 'createdAt') &&
  num(v, 'attemptsMade') &&
  optStr(v, 'startedAt') &&
  optStr(v, 'finishedAt') &&
  optStr(v, 'failedReason') &&
  optStr(v, 'cancelledBy');

export const isAdminJobListResponse: ShapeCheck<AdminJobListResponse> = (v): v is AdminJobListResponse =>
  isRecord(v) && Array.isArray(v.jobs) && v.jobs.every(isAdminJobRow) && (v.nextCursor === null || typeof v.nextCursor === 'string');

export const isCleanJobsResponse: ShapeCheck<CleanJobsResponse> = (v): v is CleanJobsResponse => isRecord(v) && str(v, 'state') && num(v, 'removed');
