import type { ClientPool } from './client-pool.js';
import type { BenchOptions } from './options.js';
import type { BenchRedis } from './redis-server.js';

/** What every scenario gets from the runner. */
export interface BenchContext {
  options: BenchOptions;
  /** Logs, the Redis data dir and CPU profiles of this run. */
  runDir: string;
  redis: BenchRedis;
  clients: ClientPool;
  /** A progress line (stderr, so that stdout holds the results). */
  log(message: string): void;
  /** Node flags for the api and worker processes (CPU profiles with --profile). */
  profileFlags(name: string): string[];
  /** Open-file limits the bench's processes reached, recorded by the scenarios. */
  fdLimits: { api?: number; worker?: number };
}
