import { useSyncExternalStore } from 'react';
import { idleJobView, type JobView } from './job-store.js';
import { useClientStores } from './jobstream-provider.js';

const idleSubscribe = () => () => undefined;
const idleSnapshot = () => idleJobView;

/**
 * One job, live: its state, progress, result or error, every lifecycle event and the connection.
 * Every component that watches the same job shares one stream, closed when the last one unmounts.
 * `undefined` (no job yet) watches nothing.
 */
export function useJob(jobId: string | undefined): JobView {
  const stores = useClientStores();
  const store = jobId === undefined ? undefined : stores.jobs.get(jobId);
  return useSyncExternalStore(store?.subscribe ?? idleSubscribe, store?.getSnapshot ?? idleSnapshot, store?.getSnapshot ?? idleSnapshot);
}
