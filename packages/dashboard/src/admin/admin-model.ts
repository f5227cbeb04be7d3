import type { JobState } from '@jobstream/contracts';
import {
  UnauthorizedError,
  type AlertsResponse,
  type BudgetStatus,
  type JobstreamClient,
  type KillSwitchAuditEntry,
  type QueueStats,
} from '@jobstream/client';
import { createStore, type Store } from '../ui/store.js';
import { AdminJobsModel } from './admin-jobs-model.js';

export interface AdminState {
  alerts: AlertsResponse | undefined;
  alertsError: string | undefined;
  budget: BudgetStatus | undefined;
  budgetError: string | undefined;
  audit: readonly KillSwitchAuditEntry[];
  stats: QueueStats | undefined;
  /** The kill-switch is being changed. */
  saving: boolean;
  saveError: string | undefined;
  refreshedAt: number | undefined;
}

export interface AdminModelOptions {
  client: JobstreamClient;
  onUnauthorized(error: UnauthorizedError): void;
  /** Safety net besides the stream's system events (alerts are evaluated every few seconds). Default 15 s. */
  refreshEveryMs?: number;
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * What an admin sees: the alerts, this month's budget, the kill-switch with its audit trail and
 * the queue's counts. Refreshed when the stream brings a system event, and every 15 s besides.
 */
export class AdminModel {
  readonly state: Store<AdminState> = createStore<AdminState>({
    alerts: undefined,
    alertsError: undefined,
    budget: undefined,
    budgetError: undefined,
    audit: [],
    stats: undefined,
    saving: false,
    saveError: undefined,
    refreshedAt: undefined,
  });
  /** Every user's jobs by state, and the clean-up of old finished ones. */
  readonly jobs: AdminJobsModel;
  private timer: ReturnType<typeof setInterval> | undefined;
  private refreshing: Promise<void> | undefined;

  constructor(private readonly options: AdminModelOptions) {
    this.jobs = new AdminJobsModel(options);
  }

  start(): void {
    void this.refresh();
    void this.jobs.show();
    this.timer = setInterval(() => void this.refresh(), this.options.refreshEveryMs ?? 15_000);
  }

  dispose(): void {
    clearInterval(this.timer);
  }

  /**
   * A job of this page moved from one state to another (`undefined`: a job new to the page): the
   * queue's counts move with it at once, instead of up to a refresh later. The next refresh sets
   * them to what the api counts (jobs of other users included).
   */
  jobMoved(from: JobState | undefined, to: JobState): void {
    if (from === to) return;
    this.state.set((s) => {
      if (!s.stats) return s;
      const counts = { ...s.stats.counts };
      // `unknown` is the page not knowing yet: nothing to take it from.
      if (from !== undefined && from !== 'unknown' && (counts[from] ?? 0) > 0) counts[from] = (counts[from] ?? 0) - 1;
      if (to !== 'unknown') counts[to] = (counts[to] ?? 0) + 1;
      return { ...s, stats: { ...s.stats, counts } };
    });
  }

  /** Reads everything again; concurrent calls share one round. */
  refresh(): Promise<void> {
    this.refreshing ??= this.readAll().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /** Turns the kill-switch on (a reason is required) or off. Resolves true when the api took it. */
  async setKillSwitch(enabled: boolean, reason: string | undefined): Promise<boolean> {
    this.patch({ saving: true, saveError: undefined });
    try {
      const killSwitch = await this.options.client.setKillSwitch(enabled, reason);
      this.state.set((s) => ({ ...s, saving: false, budget: s.budget ? { ...s.budget, killSwitch } : s.budget }));
      void this.refresh();
      return true;
    } catch (err) {
      if (err instanceof UnauthorizedError) this.options.onUnauthorized(err);
      this.patch({ saving: false, saveError: messageOf(err) });
      return false;
    }
  }

  private async readAll(): Promise<void> {
    const { client } = this.options;
    const [alerts, budget, audit, stats] = await Promise.allSettled([client.alerts(), client.budget(), client.killSwitchAudit(5), client.queueStats()]);
    const unauthorized = [alerts, budget, audit, stats].find((r) => r.status === 'rejected' && r.reason instanceof UnauthorizedError);
    if (unauthorized?.status === 'rejected') {
      this.options.onUnauthorized(unauthorized.reason as UnauthorizedError);
      return;
    }
    this.state.set((s) => ({
      ...s,
      alerts: alerts.status === 'fulfilled' ? alerts.value : s.alerts,
      alertsError: alerts.status === 'rejected' ? messageOf(alerts.reason) : undefined,
      budget: budget.status === 'fulfilled' ? budget.value : s.budget,
      budgetError: budget.status === 'rejected' ? messageOf(budget.reason) : undefined,
      audit: audit.status === 'fulfilled' ? audit.value : s.audit,
      stats: stats.status === 'fulfilled' ? stats.value : s.stats,
      refreshedAt: Date.now(),
    }));
  }

  private patch(patch: Partial<AdminState>): void {
    this.state.set((s) => ({ ...s, ...patch }));
  }
}
