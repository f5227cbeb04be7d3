import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { pushSubscriptionKinds, type PushSubscriptionKind } from '@jobstream/contracts';
import { pushSkipReasons, type PushOutcome, type PushSkipReason } from './push-sender.js';

/** The push metrics on the worker's registry, and the callbacks that feed them. */
export function createPushMetrics(registry: Registry, isLeader: () => boolean) {
  const registers = [registry];
  new Gauge({
    name: 'jobstream_push_dispatcher_leader',
    help: '1 while this worker dispatches pushes from the live feed, else 0.',
    registers,
    collect() {
      this.set(isLeader() ? 1 : 0);
    },
  });
  const sent = new Counter({
    name: 'jobstream_push_sends_total',
    help: 'Push delivery attempts, by device kind and outcome (sent, gone, retry, rejected, unsubscribed).',
    labelNames: ['kind', 'outcome'],
    registers,
  });
  const removed = new Counter({
    name: 'jobstream_push_subscriptions_removed_total',
    help: 'Subscriptions removed because the push service no longer knows the device (404, 410, DeviceNotRegistered) or they expired.',
    labelNames: ['kind'],
    registers,
  });
  const skipped = new Counter({
    name: 'jobstream_push_skipped_total',
    help: 'Pushes not sent: the user had a stream open (online), the user or the device reached its per-minute limit (rate_limited, device_rate_limited), or the request for the device was over PUSH_MAX_PAYLOAD_BYTES (oversized).',
    labelNames: ['reason'],
    registers,
  });
  const gaps = new Counter({
    name: 'jobstream_push_gaps_total',
    help: 'Times feed entries were trimmed before their pushes were dispatched (those pushes are lost).',
    registers,
  });
  const latency = new Histogram({
    name: 'jobstream_push_latency_seconds',
    help: 'From the event entering the live feed to the end of a delivery attempt, by device kind and outcome.',
    labelNames: ['kind', 'outcome'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers,
  });
  // Every series exists from the start: an alert on a rate sees 0, not nothing.
  for (const kind of pushSubscriptionKinds) {
    for (const outcome of ['sent', 'gone', 'retry', 'rejected', 'unsubscribed']) sent.inc({ kind, outcome }, 0);
    removed.inc({ kind }, 0);
  }
  for (const reason of pushSkipReasons) skipped.inc({ reason }, 0);

  return {
    onOutcome(outcome: PushOutcome, kind: PushSubscriptionKind, latencySeconds: number): void {
      sent.inc({ kind, outcome });
      latency.observe({ kind, outcome }, latencySeconds);
    },
    onRemoved(kind: PushSubscriptionKind): void {
      removed.inc({ kind });
    },
    onSkipped(reason: PushSkipReason): void {
      skipped.inc({ reason });
    },
    onGap(): void {
      gaps.inc();
    },
  };
}
