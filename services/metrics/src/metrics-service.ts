import { startServiceHost, type Logger } from '@jobstream/runtime';
import { Queue } from 'bullmq';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { AlertEvaluator } from './alerts/alert-evaluator.js';
import { BudgetKeeper } from './budget/budget-keeper.js';
import type { MetricsConfig } from './config.js';
import { FeedAccountant } from './feed/feed-accountant.js';
import { createMetricsHttpServer } from './http/metrics-http.js';
import { createMetricsRegistry } from './prom/metrics-registry.js';

export interface MetricsService {
  port: number;
  /** The admin listener's port (`/api/metrics/alerts` too). */
  adminPort: number;
  logger: Logger;
  evaluator: AlertEvaluator;
  accountant: FeedAccountant;
  close(): Promise<void>;
}

/**
 * Starts the metrics service: it follows the live feed (outcomes, budget), evaluates the alerts
 * every interval and serves `/metrics`, `/healthz` and `/readyz`, and on its admin listener
 * (loopback by default) `/api/metrics/alerts` as well.
 * It reads Redis and writes only alert and budget state (and the kill-switch, when the budget runs out).
 */
export async function startMetricsService(config: MetricsConfig, logger?: Logger): Promise<MetricsService> {
  const host = await startServiceHost({
    service: 'metrics',
    settings: config,
    logger,
    connectionNames: { command: 'jobstream:metrics', blocking: 'jobstream:metrics:feed' },
  });
  const { logger: log, keys, command, blocking } = host;

  const metrics = createMetricsRegistry();
  const queue = new Queue(config.queue.name, { connection: await host.queueConnection('jobstream:metrics:queue'), prefix: config.queue.prefix });
  queue.on('error', (err) => log.warn({ err }, 'queue error'));
  const budget = new BudgetKeeper({
    redis: command,
    keys,
    logger: log,
    monthlyLimit: config.budget.monthlyLimit,
    warnRatio: config.budget.warnRatio,
    prices: config.budget.prices,
    onCharged: () => metrics.charges.inc(),
  });
  const accountant = new FeedAccountant({
    blocking,
    command,
    keys,
    budget,
    metrics,
    logger: log,
    windowMs: config.thresholds.failureRateWindowMs,
  });
  const evaluator = new AlertEvaluator({ redis: command, queue, keys, thresholds: config.thresholds, budget, metrics, logger: log });
  await accountant.start();
  evaluator.start();

  let accepting = true;
  const httpDeps = { redis: command, keys, registry: metrics.registry, logger: log, isAccepting: () => accepting };
  const server = createMetricsHttpServer(httpDeps, 'public');
  const adminServer = createMetricsHttpServer(httpDeps, 'admin');
  server.listen(config.port, config.host);
  adminServer.listen(config.admin.port, config.admin.host);
  await Promise.all([once(server, 'listening'), once(adminServer, 'listening')]);
  const port = (server.address() as AddressInfo).port;
  const adminPort = (adminServer.address() as AddressInfo).port;
  log.info({ port, adminPort, adminHost: config.admin.host, thresholds: config.thresholds, budgetLimit: config.budget.monthlyLimit }, 'metrics listening');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      accepting = false;
      for (const s of [server, adminServer]) {
        s.close();
        s.closeIdleConnections();
      }
      await evaluator.stop();
      await accountant.stop();
      await queue.close().catch(() => undefined);
      server.closeAllConnections();
      adminServer.closeAllConnections();
      await host.close();
    })();
    return closing;
  };
  return { port, adminPort, logger: log, evaluator, accountant, close };
}
