import type { AlertsResponse, BudgetStatus } from '@jobstream/client';
import type { AlertName } from '@jobstream/contracts';
import { useState } from 'preact/hooks';
import { formatDateTime, formatUsd } from '../ui/format.js';
import { Isolated } from '../ui/isolated.js';
import { useStore } from '../ui/store.js';
import { AdminJobs } from './admin-jobs.js';
import type { AdminModel } from './admin-model.js';

const ALERTS: Record<AlertName, { label: string; detail(a: AlertsResponse): string }> = {
  queueDepthCritical: { label: 'Queue depth critical', detail: (a) => `${a.values.queueDepth} waiting (critical at ${a.thresholds.queueDepthCritical})` },
  queueDepthHigh: { label: 'Queue depth high', detail: (a) => `${a.values.queueDepth} waiting (high at ${a.thresholds.queueDepthHigh})` },
  failureRateHigh: {
    label: 'Failure rate high',
    detail: (a) => `${Math.round(a.values.failureRate * 100)}% of ${a.values.finishedInWindow} recent jobs failed (limit ${Math.round(a.thresholds.failureRate * 100)}%)`,
  },
  circuitBreakerOpen: { label: 'Circuit breaker open', detail: (a) => `${a.values.circuitBreakersOpen} worker(s) cannot reach their provider` },
  workerStalled: { label: 'Worker stalled', detail: (a) => `${a.values.workersStalled} worker(s) stopped making progress` },
  budgetExceeded: { label: 'Budget exceeded', detail: (a) => `${formatUsd(a.values.budgetSpent)} of ${formatUsd(a.values.budgetLimit)} spent` },
  killSwitchOn: { label: 'Kill-switch on', detail: () => 'new jobs are refused with 429; see the kill-switch below' },
};

function Alerts({ alerts, error }: { alerts: AlertsResponse | undefined; error: string | undefined }) {
  if (!alerts) return <p class="muted small">{error !== undefined ? <Isolated text={error} /> : 'Loading…'}</p>;
  const firing = (Object.keys(ALERTS) as AlertName[]).filter((name) => alerts.alerts[name]);
  return (
    <>
      {alerts.stale && (
        <p class="notice warning small">The metrics service has not evaluated alerts since {formatDateTime(alerts.evaluatedAt)}: these may be out of date.</p>
      )}
      {firing.length === 0 ? (
        <p class="ok-line" data-testid="no-alerts">
          No alerts firing
        </p>
      ) : (
        <ul class="alert-list" data-testid="alert-list">
          {firing.map((name) => (
            <li key={name} data-alert={name}>
              <strong>{ALERTS[name].label}</strong>
              <span class="muted small">{ALERTS[name].detail(alerts)}</span>
            </li>
          ))}
        </ul>
      )}
      <p class="muted small">
        {alerts.values.workersLive} worker(s) live · evaluated {formatDateTime(alerts.evaluatedAt)}
      </p>
    </>
  );
}

function Budget({ budget, error }: { budget: BudgetStatus | undefined; error: string | undefined }) {
  if (!budget) return <p class="muted small">{error !== undefined ? <Isolated text={error} /> : 'Loading…'}</p>;
  const ratio = budget.limit !== null && budget.limit > 0 ? budget.spent / budget.limit : undefined;
  // The warning level is the metrics service's (BUDGET_WARN_RATIO); 80% of the limit when an older one did not say.
  const warnAt = budget.warnAt ?? (budget.limit === null ? null : budget.limit * 0.8);
  const level = ratio === undefined ? 'ok' : ratio >= 1 ? 'over' : warnAt !== null && budget.spent >= warnAt ? 'warn' : 'ok';
  const percent = ratio === undefined ? 0 : Math.min(100, ratio * 100);
  return (
    <>
      <div
        class="meter"
        data-level={level}
        role="meter"
        aria-label={`Budget used in ${budget.period}`}
        aria-valuemin={0}
        aria-valuemax={budget.limit ?? 0}
        aria-valuenow={budget.spent}
        aria-valuetext={budget.limit !== null ? `${formatUsd(budget.spent)} of ${formatUsd(budget.limit)}` : `${formatUsd(budget.spent)}, no limit known`}
      >
        <div class="meter-fill" style={{ width: `${percent}%` }} />
      </div>
      <p class="small">
        {budget.limit !== null ? (
          <>
            <strong>{formatUsd(budget.spent)}</strong> of {formatUsd(budget.limit)} spent in {budget.period}
            {budget.remaining !== null && <> · {formatUsd(Math.max(0, budget.remaining))} left</>}
          </>
        ) : (
          <>
            <strong>{formatUsd(budget.spent)}</strong> spent in {budget.period}; no limit known yet (the metrics service sets it).
          </>
        )}
      </p>
    </>
  );
}

function KillSwitch({ model }: { model: AdminModel }) {
  const state = useStore(model.state);
  const [reason, setReason] = useState('');
  const [missingReason, setMissingReason] = useState(false);
  const killSwitch = state.budget?.killSwitch;
  if (!killSwitch) return <p class="muted small">{state.budgetError !== undefined ? <Isolated text={state.budgetError} /> : 'Loading…'}</p>;
  const on = killSwitch.enabled;

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    if (!on && reason.trim() === '') {
      setMissingReason(true);
      return;
    }
    if (await model.setKillSwitch(!on, on ? undefined : reason.trim())) setReason('');
  };

  return (
    <form class="kill-switch" onSubmit={(e) => void submit(e)} noValidate>
      <p class="kill-state" data-on={on} data-testid="kill-switch-state" aria-live="polite">
        <strong>{on ? 'On: new jobs are refused' : 'Off: new jobs are accepted'}</strong>
        {on && (
          <span class="small">
            {killSwitch.auto ? (
              'Turned on by the budget'
            ) : (
              <>
                By <Isolated text={killSwitch.changedBy ?? 'unknown'} />
              </>
            )}
            {killSwitch.changedAt !== null && <> at {formatDateTime(killSwitch.changedAt)}</>}
            {killSwitch.reason !== null && (
              <>
                : “<Isolated class="kill-reason" text={killSwitch.reason} />”
              </>
            )}
          </span>
        )}
      </p>
      {!on && (
        <div class="field">
          <label for="kill-reason">Reason (shown to refused clients)</label>
          <input
            id="kill-reason"
            name="reason"
            type="text"
            maxLength={500}
            required
            value={reason}
            aria-invalid={missingReason}
            aria-describedby={missingReason ? 'kill-reason-error' : undefined}
            onInput={(e) => {
              setReason((e.target as HTMLInputElement).value);
              setMissingReason(false);
            }}
          />
          {missingReason && (
            <p id="kill-reason-error" class="field-error">
              Say why: the reason is required to turn the kill-switch on.
            </p>
          )}
        </div>
      )}
      <button type="submit" class={on ? 'button' : 'button danger'} disabled={state.saving}>
        {on ? 'Turn kill-switch off' : 'Turn kill-switch on'}
      </button>
      {state.saveError !== undefined && (
        <p class="notice error small" role="alert">
          <Isolated text={state.saveError} />
        </p>
      )}
      {state.audit.length > 0 && (
        <details class="audit">
          <summary>Recent changes</summary>
          <ul>
            {state.audit.map((entry) => (
              <li key={entry.id} class="small">
                {formatDateTime(entry.at)} · <Isolated text={entry.by} /> turned it {entry.enabled ? 'on' : 'off'}
                {entry.reason !== null && (
                  <>
                    : “<Isolated text={entry.reason} />”
                  </>
                )}
              </li>
            ))}
          </ul>
        </details>
      )}
    </form>
  );
}

/** For admins: alerts, the month's budget, the kill-switch, the queue's counts, every user's jobs. */
export function AdminPanel({ model }: { model: AdminModel }) {
  const state = useStore(model.state);
  const counts = state.stats?.counts;
  return (
    <section class="card admin" aria-labelledby="admin-title">
      <div class="section-head">
        <h2 id="admin-title">Operations</h2>
        {counts && (
          <p class="queue-counts small" aria-label="Jobs in the queue by state">
            {['waiting', 'active', 'delayed', 'completed', 'failed'].map((name) => (
              <span key={name}>
                {name} <strong>{counts[name] ?? 0}</strong>
              </span>
            ))}
          </p>
        )}
        <button type="button" class="button ghost small push-right" onClick={() => void model.refresh()}>
          Refresh
        </button>
      </div>
      <div class="admin-grid">
        <div class="admin-block" aria-labelledby="alerts-title">
          <h3 id="alerts-title">Alerts</h3>
          <Alerts alerts={state.alerts} error={state.alertsError} />
        </div>
        <div class="admin-block" aria-labelledby="budget-title">
          <h3 id="budget-title">Budget</h3>
          <Budget budget={state.budget} error={state.budgetError} />
        </div>
        <div class="admin-block" aria-labelledby="kill-title">
          <h3 id="kill-title">Kill-switch</h3>
          <KillSwitch model={model} />
        </div>
      </div>
      <AdminJobs model={model.jobs} />
    </section>
  );
}
