import type { JobSnapshot, StreamJobSnapshot } from '@jobstream/contracts';

/**
 * The job as `connected` and `reset` carry it. A result of more than `maxBytes` of JSON is left out
 * and marked (`resultOmitted`, `resultBytes`), as the relay does in `completed`: every (re)connect
 * of every stream of the job would copy it again, and a client that needs it fetches it once with
 * `GET /api/jobs/:id`. `maxBytes` 0 keeps every result.
 */
export function streamSnapshot(job: JobSnapshot, maxBytes: number): StreamJobSnapshot {
  if (maxBytes <= 0 || job.result === undefined) return job;
  const bytes = Buffer.byteLength(JSON.stringify(job.result) ?? '');
  if (bytes <= maxBytes) return job;
  const { result: _result, ...rest } = job;
  return { ...rest, resultOmitted: true, resultBytes: bytes };
}
