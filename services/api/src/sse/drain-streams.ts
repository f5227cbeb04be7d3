import { setTimeout as sleep } from 'node:timers/promises';
import type { EventHub } from './event-hub.js';

export interface DrainOptions {
  /** The streams are closed evenly over this long; 0 closes them all at once. */
  windowMs: number;
  /** The configured retry hint (`SSE_RETRY_MS`); each closed stream gets a jittered one from it. */
  retryMs: number;
  /** How often a batch of streams is closed. Default 20 ms. */
  tickMs?: number;
}

/**
 * A reconnect delay for one stream closed at shutdown: uniform in [retryMs, 5 × retryMs], so the
 * reconnects of the streams closed in one batch spread over four retry intervals.
 */
export function jitteredRetryMs(retryMs: number, random: () => number = Math.random): number {
  return retryMs + random() * retryMs * 4;
}

/**
 * Closes every open stream for a shutdown, an equal share per tick over `windowMs`, each with its
 * own jittered `retry:` hint: neither the closes nor the reconnects reach the other replicas as
 * one burst (a deploy of 20,000 streams would otherwise reconnect within one retry interval).
 * Streams opened while it runs are closed at the end. Resolves with how many it closed.
 */
export async function drainStreams(hub: EventHub, options: DrainOptions): Promise<number> {
  const subscribers = hub.streams();
  const startedAt = Date.now();
  let closed = 0;
  while (closed < subscribers.length) {
    const share = options.windowMs > 0 ? (Date.now() - startedAt) / options.windowMs : 1;
    const due = Math.min(subscribers.length, Math.ceil(share * subscribers.length));
    for (; closed < due; closed += 1) subscribers[closed]!.close('shutdown', jitteredRetryMs(options.retryMs));
    if (closed < subscribers.length) await sleep(options.tickMs ?? 20);
  }
  const late = hub.streams();
  for (const subscriber of late) subscriber.close('shutdown', jitteredRetryMs(options.retryMs));
  return subscribers.length + late.length;
}
