import type { CircuitBreakerStateName } from '@jobstream/contracts';
import CircuitBreaker from 'opossum';
import { ProviderError } from './provider-error.js';
import type { FlashcardsInput, FlashcardsOutput, FlashcardsProvider } from './provider.js';

/** When the breaker opens and how it tries again. Defaults are the worker config's. */
export interface BreakerOptions {
  /** Shown in metrics and notifications. */
  name: string;
  /** Failed share of calls in the rolling window that opens the circuit. Default 50. */
  errorThresholdPercentage: number;
  /** Calls in the window before the share counts at all. Default 5. */
  volumeThreshold: number;
  /** How long the circuit stays open before one trial call. Default 30 s. */
  resetTimeoutMs: number;
  /** The rolling window the failure share is computed over. Default 10 s. */
  rollingWindowMs: number;
  /** Called on every state change with the failures in the current window. */
  onStateChange?: (change: { from: CircuitBreakerStateName; to: CircuitBreakerStateName; failures: number }) => void;
}

export interface BreakerProvider extends FlashcardsProvider {
  /** The breaker's state now. */
  state(): CircuitBreakerStateName;
  /** Stops the breaker's timers (at shutdown). */
  shutdown(): void;
}

/**
 * Only a failure that says "the provider is unwell" may open the circuit: retryable provider
 * errors (rate limits, 5xx, timeouts, bad answers). A refused request (a 400, a bad key), unusable
 * content or a cancelled call at shutdown is filtered out: opening the circuit on those would
 * turn one bad payload into an outage for everybody.
 */
function isProviderOutage(err: unknown): boolean {
  return err instanceof ProviderError && err.retryable && err.code !== 'PROVIDER_ABORTED';
}

/** Wraps a provider in an opossum circuit breaker; an open circuit fails calls at once as PROVIDER_UNAVAILABLE (retryable). */
export function createBreakerProvider(inner: FlashcardsProvider, options: BreakerOptions): BreakerProvider {
  const breaker = new CircuitBreaker((input: FlashcardsInput, signal: AbortSignal) => inner.generate(input, signal), {
    name: options.name,
    // The provider enforces its own timeout (PROVIDER_TIMEOUT_MS); opossum's default 10 s would cut it short.
    timeout: false,
    errorThresholdPercentage: options.errorThresholdPercentage,
    volumeThreshold: options.volumeThreshold,
    resetTimeout: options.resetTimeoutMs,
    rollingCountTimeout: options.rollingWindowMs,
    errorFilter: (err: unknown) => !isProviderOutage(err),
  });

  let current: CircuitBreakerStateName = 'closed';
  const moveTo = (to: CircuitBreakerStateName): void => {
    if (to === current) return;
    const from = current;
    current = to;
    options.onStateChange?.({ from, to, failures: breaker.stats.failures });
  };
  breaker.on('open', () => moveTo('open'));
  breaker.on('halfOpen', () => moveTo('half_open'));
  breaker.on('close', () => moveTo('closed'));

  return {
    name: inner.name,
    state: () => current,
    shutdown: () => breaker.shutdown(),
    async generate(input: FlashcardsInput, signal: AbortSignal): Promise<FlashcardsOutput> {
      try {
        return await breaker.fire(input, signal);
      } catch (err) {
        if ((err as { code?: string }).code === 'EOPENBREAKER') {
          throw new ProviderError('PROVIDER_UNAVAILABLE', `circuit breaker "${options.name}" is open after repeated provider failures; not calling ${inner.name}`, { cause: err });
        }
        throw err;
      }
    },
  };
}
