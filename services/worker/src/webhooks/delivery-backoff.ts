/**
 * The delay before a delivery's next attempt: exponential from `baseMs`, capped at `maxMs`, with
 * "equal jitter" (half fixed, half random) so that deliveries that failed together (a receiver
 * that was down) do not all come back at the same moment.
 */
export function deliveryBackoffMs(attemptsMade: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}
