/** How a watch connects, reconnects and falls back to polling. Every field is optional. */
export interface StreamOptions {
  /**
   * First reconnect delay ceiling before the server sent its `retry:` hint; once it did, the
   * hint is the base. Each further failed attempt doubles the ceiling (full jitter). Default 1000 ms.
   */
  retryBaseMs?: number;
  /** The backoff never waits longer than this; also the slowest cadence of stream probes while polling. Default 30000 ms. */
  maxRetryDelayMs?: number;
  /**
   * The server's heartbeat interval (`SSE_HEARTBEAT_MS`, 15 s by default). A stream that delivers
   * no message for twice this long is cut and retried; one that never delivers its first message
   * within it (a buffering proxy) switches to polling at once. Default 15000 ms.
   */
  heartbeatMs?: number;
  /** Consecutive failed connects after which polling takes over (streams keep being probed). Default 3. */
  failuresBeforePolling?: number;
  /** How often polling asks for the job. Default 2000 ms. */
  pollIntervalMs?: number;
}

export type ResolvedStreamOptions = Required<StreamOptions>;

export const defaultStreamOptions: ResolvedStreamOptions = {
  retryBaseMs: 1_000,
  maxRetryDelayMs: 30_000,
  heartbeatMs: 15_000,
  failuresBeforePolling: 3,
  pollIntervalMs: 2_000,
};

/** Fills in the defaults and rejects nonsense at once, naming the option. */
export function resolveStreamOptions(...layers: (StreamOptions | undefined)[]): ResolvedStreamOptions {
  const resolved: ResolvedStreamOptions = { ...defaultStreamOptions };
  for (const layer of layers) {
    if (!layer) continue;
    for (const key of Object.keys(defaultStreamOptions) as (keyof ResolvedStreamOptions)[]) {
      const value = layer[key];
      if (value === undefined) continue;
      const min = key === 'failuresBeforePolling' ? 1 : key === 'retryBaseMs' ? 0 : 1;
      if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
        throw new TypeError(`jobstream: stream option ${key} must be a number >= ${min}, got ${String(value)}`);
      }
      resolved[key] = value;
    }
  }
  return resolved;
}
