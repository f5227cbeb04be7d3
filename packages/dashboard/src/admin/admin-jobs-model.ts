import { UnauthorizedError, type AdminJobRow, type AdminJobState, type JobstreamClient } from '@jobstream/client';
import { createStore, type Store } from '../ui/store.js';

/** Jobs per page of the browser. */
export const ADMIN_JOB_PAGE_SIZE = 10;

export interface AdminJobsState {
  state: AdminJobState;
  rows: readonly AdminJobRow[];
  /** The api has more (older) jobs in this state: "Load more". */
  nextCursor: string | null;
  loading: boolean;
  error: string | undefined;
  cleaning: boolean;
  /** What the last clean did, or why it was refused. */
  cleanResult: string | undefined;
  cleanError: string | undefined;
}

export interface AdminJobsModelOptions {
  client: JobstreamClient;
  onUnauthorized(error: UnauthorizedError): void;
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** The admin's browser of every user's jobs by state (`GET /api/admin/jobs`) and the clean-up of old finished ones. */
export class AdminJobsModel {
  readonly state: Store<AdminJobsState> = createStore<AdminJobsState>({
    state: 'failed',
    rows: [],
    nextCursor: null,
    loading: false,
    error: undefined,
    cleaning: false,
    cleanResult: undefined,
    cleanError: undefined,
  });
  /** Answers for a state no longer shown, or a page asked before a reload, are dropped. */
  private generation = 0;

  constructor(private readonly options: AdminJobsModelOptions) {}

  /** The first page of `state` (the one shown when none is given), replacing what is listed. */
  async show(state: AdminJobState = this.state.get().state): Promise<void> {
    const generation = ++this.generation;
    this.state.set((s) => ({ ...s, state, rows: [], nextCursor: null, loading: true, error: undefined }));
    await this.load(generation, undefined);
  }

  /** The next page of older jobs in the state shown. */
  async loadMore(): Promise<void> {
    const { nextCursor, loading } = this.state.get();
    if (nextCursor === null || loading) return;
    this.state.set((s) => ({ ...s, loading: true, error: undefined }));
    await this.load(this.generation, nextCursor);
  }

  /** Removes jobs that finished in `state` at least `olderThanSeconds` ago; the list is read again. */
  async clean(state: 'completed' | 'failed', olderThanSeconds: number): Promise<void> {
    this.state.set((s) => ({ ...s, cleaning: true, cleanResult: undefined, cleanError: undefined }));
    try {
      const { removed } = await this.options.client.cleanJobs({ state, olderThanSeconds });
      this.state.set((s) => ({ ...s, cleaning: false, cleanResult: `Removed ${removed} ${state} job${removed === 1 ? '' : 's'}.` }));
      if (this.state.get().state === state) await this.show(state);
    } catch (err) {
      if (err instanceof UnauthorizedError) this.options.onUnauthorized(err);
      this.state.set((s) => ({ ...s, cleaning: false, cleanError: messageOf(err) }));
    }
  }

  private async load(generation: number, cursor: string | undefined): Promise<void> {
    const { state } = this.state.get();
    try {
      const page = await this.options.client.listJobsByState({ state, limit: ADMIN_JOB_PAGE_SIZE, ...(cursor !== undefined ? { cursor } : {}) });
      if (generation !== this.generation) return;
      this.state.set((s) => {
        // A job can move between pages while an admin pages: it is listed once.
        const seen = new Set(s.rows.map((row) => row.jobId));
        return { ...s, rows: [...s.rows, ...page.jobs.filter((row) => !seen.has(row.jobId))], nextCursor: page.nextCursor, loading: false };
      });
    } catch (err) {
      if (err instanceof UnauthorizedError) this.options.onUnauthorized(err);
      if (generation !== this.generation) return;
      this.state.set((s) => ({ ...s, loading: false, error: `Jobs could not be loaded: ${messageOf(err)}` }));
    }
  }
}
