import { publishSystemEvent, type JobstreamKeys, type Logger, type RedisClient } from '@jobstream/runtime';
import type { Job, Worker } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { WorkerConfig } from '../config.js';
import { createBreakerProvider, type BreakerProvider } from '../flashcards/breaker-provider.js';
import type { FlashcardsProvider } from '../flashcards/provider.js';
import { serveWorkerMetrics } from './metrics-server.js';
import { captureJobFailure } from './sentry.js';
import { WorkerHeartbeat } from './worker-heartbeat.js';
import type { DeliveryObserver } from '../webhooks/delivery-worker.js';
import { createWorkerMetrics } from './worker-metrics.js';

const BREAKER_NAME = 'flashcards-provider';

export interface WorkerOperationsDeps {
  redis: RedisClient;
  keys: JobstreamKeys;
  logger: Logger;
}

/**
 * The worker's operations parts behind three calls, so the worker service only wires
 * them: the provider's circuit breaker, the heartbeat, `/metrics`, and failed jobs to Sentry.
 */
export interface WorkerOperations {
  readonly workerId: string;
  /** The registry `/metrics` serves, for the parts that add metrics of their own (push delivery). */
  readonly registry: Registry;
  /** The port `/metrics` listens on, once attached (undefined when off or the port was taken). */
  metricsPort(): number | undefined;
  /** Puts the circuit breaker around the flashcards provider. */
  wrapProvider(provider: FlashcardsProvider): FlashcardsProvider;
  /** A job this process took went back to delayed without running (held back by the per-user cap). */
  jobHeldBack(jobId: string): void;
  /** Counts webhook delivery attempts, their outcomes and times, dead deliveries and disabled endpoints. */
  readonly webhookObserver: DeliveryObserver;
  /** Counts the deliveries the dispatcher queued, or logged dead at the pending cap. */
  webhookQueued(outcome: 'queued' | 'over_cap'): void;
  /** Where `/metrics` reads whether this process dispatches webhooks. */
  followWebhookDispatcher(isLeader: () => boolean): void;
  /** Follows the worker's attempts, starts the heartbeat and the metrics endpoint. */
  attach(worker: Worker, relayStats: () => { leader: boolean; relayed: number; gaps: number } | undefined): Promise<void>;
  /** After the worker closed: removes the heartbeat and stops the endpoint. */
  close(): Promise<void>;
}

export function createWorkerOperations(config: WorkerConfig, deps: WorkerOperationsDeps): WorkerOperations {
  const log = deps.logger;
  const workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const heartbeat = new WorkerHeartbeat({ redis: deps.redis, keys: deps.keys, workerId, host: hostname(), intervalMs: config.heartbeatMs, logger: log });
  let relayStats: () => { leader: boolean; relayed: number; gaps: number } | undefined = () => undefined;
  let dispatcherLeader: () => boolean | undefined = () => undefined;
  const metrics = createWorkerMetrics({ activeJobs: () => heartbeat.activeCount, relay: () => relayStats(), webhookDispatcherLeader: () => dispatcherLeader() });
  const breakers: BreakerProvider[] = [];
  let server: { server: Server; port: number } | undefined;

  return {
    workerId,
    registry: metrics.registry,
    metricsPort: () => server?.port,

    wrapProvider(provider) {
      metrics.setBreakerState(BREAKER_NAME, 'closed');
      const wrapped = createBreakerProvider(provider, {
        name: BREAKER_NAME,
        ...config.breaker,
        onStateChange: ({ from, to, failures }) => {
          const level = to === 'open' ? 'error' : 'warn';
          log[level]({ breaker: BREAKER_NAME, from, to, failures }, `circuit breaker ${BREAKER_NAME}: ${from} -> ${to}`);
          metrics.setBreakerState(BREAKER_NAME, to);
          heartbeat.setBreaker(BREAKER_NAME, to, failures);
          publishSystemEvent(deps.redis, deps.keys, 'circuit_breaker_state', {
            timestamp: new Date().toISOString(),
            breaker: BREAKER_NAME,
            worker: workerId,
            from,
            to,
            failures,
          }).catch((err: unknown) => log.warn({ err }, 'could not publish the circuit breaker state'));
        },
      });
      heartbeat.setBreaker(BREAKER_NAME, 'closed', 0);
      breakers.push(wrapped);
      return wrapped;
    },

    webhookObserver: {
      attempt(outcome) {
        const label = outcome.ok ? 'success' : outcome.reason;
        metrics.webhookAttempts.inc({ outcome: label });
        metrics.webhookAttemptSeconds.observe({ outcome: label }, outcome.durationMs / 1_000);
      },
      dead: () => metrics.webhookDeliveries.inc({ outcome: 'dead' }),
      endpointDisabled: () => metrics.webhookEndpointsDisabled.inc(),
    },

    webhookQueued(outcome) {
      metrics.webhookDeliveries.inc({ outcome });
    },

    followWebhookDispatcher(isLeader) {
      dispatcherLeader = isLeader;
    },

    jobHeldBack(jobId) {
      heartbeat.forget(jobId);
    },

    async attach(worker, stats) {
      relayStats = stats;
      heartbeat.track(worker);
      const observe = (job: Job | undefined, outcome: 'completed' | 'failed'): void => {
        if (!job) return;
        metrics.attempts.inc({ type: job.name, outcome });
        if (job.processedOn && job.finishedOn) {
          metrics.attemptSeconds.observe({ type: job.name, outcome }, Math.max(0, job.finishedOn - job.processedOn) / 1_000);
        }
      };
      worker.on('completed', (job) => observe(job, 'completed'));
      worker.on('failed', (job, err) => {
        observe(job, 'failed');
        captureJobFailure(job, err);
      });
      heartbeat.start();
      if (config.metrics.port > 0) server = await serveWorkerMetrics(metrics.registry, { ...config.metrics, logger: log, health: { redis: deps.redis, worker } });
    },

    async close() {
      for (const breaker of breakers) breaker.shutdown();
      await heartbeat.stop();
      if (server) {
        server.server.close();
        server.server.closeAllConnections();
      }
    },
  };
}
