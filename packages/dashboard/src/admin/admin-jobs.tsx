import type { AdminJobRow, AdminJobState } from '@jobstream/client';
import { useState } from 'preact/hooks';
import { isolated } from '../ui/bidi.js';
import { formatDateTime, shortId } from '../ui/format.js';
import { Isolated } from '../ui/isolated.js';
import { useStore } from '../ui/store.js';
import type { AdminJobsModel } from './admin-jobs-model.js';

/** The states the api browses (the contracts' `adminJobStates`, kept here so no zod reaches the bundle). */
const STATES: readonly AdminJobState[] = ['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed', 'cancelled'];

function JobRow({ row }: { row: AdminJobRow }) {
  const at = row.finishedAt ?? row.startedAt ?? row.createdAt;
  const reason = row.cancelledBy ? (row.cancelledBy === 'admin' ? 'cancelled by an admin' : 'cancelled by its owner') : row.failedReason;
  return (
    <tr data-job-id={row.jobId}>
      <td>
        <code title={isolated(row.jobId)}>
          <Isolated text={shortId(row.jobId)} />
        </code>
      </td>
      <td>
        <Isolated text={row.type} />
      </td>
      <td>{row.owner === null ? '–' : <Isolated text={row.owner} />}</td>
      <td>{formatDateTime(at)}</td>
      <td>{row.attemptsMade}</td>
      <td class="reason">{reason !== undefined && <Isolated text={reason} />}</td>
    </tr>
  );
}

/** Every user's jobs in one state, newest first, a page at a time. */
function Browser({ model }: { model: AdminJobsModel }) {
  const state = useStore(model.state);
  return (
    <>
      <div class="field inline">
        <label for="admin-job-state">Browse jobs</label>
        <select id="admin-job-state" value={state.state} onChange={(e) => void model.show((e.target as HTMLSelectElement).value as AdminJobState)}>
          {STATES.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
      </div>
      {state.error !== undefined && (
        <p class="notice error small" role="alert">
          <Isolated text={state.error} />
        </p>
      )}
      {state.rows.length === 0 ? (
        <p class="muted small" data-testid="admin-jobs-empty">
          {state.loading ? 'Loading…' : `No ${state.state} jobs.`}
        </p>
      ) : (
        <table class="admin-jobs" aria-label={`${state.state} jobs`}>
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col">Type</th>
              <th scope="col">Owner</th>
              <th scope="col">When</th>
              <th scope="col">Attempts</th>
              <th scope="col">Reason</th>
            </tr>
          </thead>
          <tbody>
            {state.rows.map((row) => (
              <JobRow key={row.jobId} row={row} />
            ))}
          </tbody>
        </table>
      )}
      {state.nextCursor !== null && (
        <button type="button" class="button ghost small" disabled={state.loading} onClick={() => void model.loadMore()}>
          {state.loading ? 'Loading…' : 'Load more'}
        </button>
      )}
    </>
  );
}

const HOUR = 3_600;

/** Removes old finished jobs, after the admin confirmed what will go. */
function Clean({ model }: { model: AdminJobsModel }) {
  const state = useStore(model.state);
  const [target, setTarget] = useState<'completed' | 'failed'>('completed');
  const [hours, setHours] = useState('24');
  const [confirming, setConfirming] = useState(false);
  const age = Number(hours);
  const valid = hours.trim() !== '' && Number.isFinite(age) && age >= 0 && age <= 87_840;
  const ageText = age === 0 ? 'any time' : `more than ${age} h ago`;

  const confirm = async (): Promise<void> => {
    setConfirming(false);
    await model.clean(target, Math.round(age * HOUR));
  };

  return (
    <div class="admin-clean">
      <div class="field inline">
        <label for="clean-state">Clean</label>
        <select id="clean-state" value={target} onChange={(e) => setTarget((e.target as HTMLSelectElement).value as 'completed' | 'failed')} disabled={confirming}>
          <option value="completed">completed</option>
          <option value="failed">failed</option>
        </select>
        <label for="clean-hours">jobs older than (hours)</label>
        <input id="clean-hours" type="number" min={0} max={87_840} step="any" value={hours} aria-invalid={!valid} disabled={confirming} onInput={(e) => setHours((e.target as HTMLInputElement).value)} />
      </div>
      {confirming ? (
        <div class="confirm" role="alertdialog" aria-labelledby="clean-confirm-text">
          <p id="clean-confirm-text" class="small">
            Remove every {target} job that finished {ageText}, with its history? This cannot be undone.
          </p>
          <button type="button" class="button danger small" onClick={() => void confirm()}>
            Remove them
          </button>
          <button type="button" class="button ghost small" onClick={() => setConfirming(false)}>
            Keep them
          </button>
        </div>
      ) : (
        <button type="button" class="button ghost small" disabled={!valid || state.cleaning} onClick={() => setConfirming(true)}>
          {state.cleaning ? 'Cleaning…' : 'Clean…'}
        </button>
      )}
      {state.cleanResult !== undefined && (
        <p class="ok-line small" role="status" data-testid="clean-result">
          {state.cleanResult}
        </p>
      )}
      {state.cleanError !== undefined && (
        <p class="notice error small" role="alert">
          <Isolated text={state.cleanError} />
        </p>
      )}
    </div>
  );
}

/** The operations panel's jobs block: the browser and the clean-up. */
export function AdminJobs({ model }: { model: AdminJobsModel }) {
  return (
    <div class="admin-block admin-jobs-block" aria-labelledby="admin-jobs-title">
      <h3 id="admin-jobs-title">Jobs</h3>
      <Browser model={model} />
      <Clean model={model} />
    </div>
  );
}
