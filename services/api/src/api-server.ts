import {
  InboxStore,
  KillSwitchWatcher,
  notificationLimitsFrom,
  PushSubscriptions,
  sharedSecret,
  startServiceHost,
  DeliveryLog,
  deliveryLogLimits,
  WebhookEndpointStore,
  WebhookTargetPolicy,
  webhookQueueName,
  type DeliveryJobData,
  type Logger,
} from '@jobstream/runtime';
import { Queue } from 'bullmq';
import { once } from 'node:events';
import type { Express, Request, Response } from 'express';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createApp, type AppDeps } from './app.js';
import { createAuthenticator } from './auth/authenticate.js';
import type { ApiConfig } from './config.js';
import { JobIndex } from './jobs/job-index.js';
import { JobStore } from './jobs/job-store.js';
import { createApiLimits } from './limits/api-limits.js';
import { streamFrontDoor } from './http/plain-stream-server.js';
import { requestLog } from './http/request-context.js';
import { createOperationsHttp } from './metrics/operations-http.js';
import type { NotificationStreamDeps } from './notifications/notification-stream.js';

import { killSwitchAdmission } from './routes/admin.js';
import { drainStreams } from './sse/drain-streams.js';
import { EventHub } from './sse/event-hub.js';
import { FeedReader } from './sse/feed-reader.js';
import type { JobStreamDeps } from './sse/job-stream.js';
import { JobCallbacks } from './webhooks/job-callbacks.js';

export interface ApiServer {
  server: Server;
  /** The Express app behind the stream front door (see http/plain-stream-server.ts). */
  app: Express;
  port: number;
  hub: EventHub;
  logger: Logger;
  /**
   * Readiness goes false, streams close gradually with jittered retry hints while the server
   * still listens, then it stops listening, waits for requests not answered yet, and closes.
   */
  close(): Promise<void>;
}

/**
 * Starts an api process on its host: one command connection (fails fast, so handlers can answer
 * 503) and one blocking connection for the feed, however many clients are connected.
 */
export async function startApiServer(config: ApiConfig, logger?: Logger): Promise<ApiServer> {
  const host = await startServiceHost({
    service: 'api',
    settings: config,
    logger,
    connectionNames: { command: 'jobstream:api', blocking: 'jobstream:api:feed' },
  });
  const { logger: log, keys, command, blocking } = host;
  const queueConnection = await host.queueConnection('jobstream:api:queue');

  const queue = new Queue(config.queue.name, {
    connection: queueConnection,
    prefix: config.queue.prefix,
    streams: { events: { maxLen: config.queue.eventsStreamMaxLen } },
  });
  queue.on('error', (err) => log.warn({ err }, 'queue error'));
  const store = new JobStore(queue, command, keys);
  const webhookEndpoints = new WebhookEndpointStore(command, keys);
  const webhookPolicy = new WebhookTargetPolicy(config.webhooks.allowedHosts);
  const webhookQueue = new Queue<DeliveryJobData>(webhookQueueName(config.queue), { connection: queueConnection, prefix: config.queue.prefix });
  webhookQueue.on('error', (err) => log.warn({ err }, 'webhook queue error'));
  const jobIdSecret = config.jobIdSecret ?? (await sharedSecret(command, keys.jobIdSecret));
  const hub = new EventHub(config.sse.heartbeatMs);
  const streams: JobStreamDeps = {
    redis: command,
    keys,
    hub,
    store,
    logger: log,
    retryMs: config.sse.retryMs,
    maxBufferBytes: config.sse.maxBufferBytes,
    resultInlineMaxBytes: config.sse.resultInlineMaxBytes,
    onClose: (reason, res) => {
      if (reason === 'slow_client') requestLog(res, log).warn('closed a stream whose client stopped reading');
    },
  };
  const notificationLimits = notificationLimitsFrom(config.notifications, config.queue);
  const inbox = new InboxStore(command, keys, notificationLimits, log);
  const notificationStreams: NotificationStreamDeps = {
    redis: command,
    keys,
    hub,
    inbox,
    logger: log,
    retryMs: config.sse.retryMs,
    maxBufferBytes: config.sse.maxBufferBytes,
    onClose: streams.onClose,
  };
  const feed = new FeedReader({
    blocking,
    command,
    keys,
    hub,
    logger: log,
    onResync: async () => {
      const results = await Promise.allSettled(hub.streams().map((stream) => stream.resync()));
      const failed = results.filter((r) => r.status === 'rejected').length;
      if (failed > 0) throw new Error(`${failed} streams could not be resynced`);
    },
  });
  await feed.start();
  // Read before the first request is accepted, so a new replica never admits a job while the switch is on.
  const killSwitch = new KillSwitchWatcher({ redis: command, keys, logger: log, refreshMs: config.killSwitchRefreshMs });
  await killSwitch.start();
  const limits = createApiLimits(config.limits, { redis: command, keys, retentionSeconds: config.queue.retentionSeconds, logger: log });
  const admitWhileKillSwitchOff = killSwitchAdmission(killSwitch);

  // The kill-switch first: a submission it refuses costs the user no point of the rate limit.
  const admitNewWork = async (req: Request, res: Response): Promise<void> => {
    await admitWhileKillSwitchOff(req);
    await limits.admitEnqueue(req, res);
  };

  let accepting = true;
  const appDeps: AppDeps = {
    logger: log,
    bodyLimitBytes: config.bodyLimitBytes,
    authenticate: createAuthenticator(config.auth, log),
    authMode: config.auth.mode,
    jobs: {
      queue,
      store,
      index: new JobIndex(command, keys, { retentionSeconds: config.queue.retentionSeconds }),
      retentionSeconds: config.queue.retentionSeconds,
      jobIdSecret,
      logger: log,
      admit: admitNewWork,
      forgetHistory: (jobId) => command.del(keys.history(jobId)),
      // Then the quotas, for a new job only: a refusal gives the rate-limit point back.
      reserve: limits.reserveJob,
      callbacks: new JobCallbacks({ redis: command, keys, endpoints: webhookEndpoints, policy: webhookPolicy, retentionSeconds: config.queue.retentionSeconds }),
    },
    jobControl: {
      queue,
      store,
      redis: command,
      keys,
      eventsMaxLen: config.queue.eventsStreamMaxLen,
      retentionSeconds: config.queue.retentionSeconds,
      logger: log,
      // A retry is new work: the same admission and quotas as a submission.
      admit: admitNewWork,
      admitCancel: limits.admitCancel,
      reserve: limits.reserveJob,
    },
    adminJobs: { queue, redis: command, keys, logger: log },
    streams,
    notifications: { streams: notificationStreams, inbox, redis: command, keys, limits: notificationLimits, slots: limits.streamSlots },
    health: { redis: command, isAccepting: () => accepting },
    webhooks: {
      endpoints: webhookEndpoints,
      deliveries: new DeliveryLog(command, keys, deliveryLogLimits(config.webhooks)),
      policy: webhookPolicy,
      queue: webhookQueue,
      settings: config.webhooks,
    },
    push: {
      settings: config.push,
      subscriptions: config.push.vapid ? new PushSubscriptions(command, keys, config.push.maxSubscriptionsPerUser) : undefined,
    },
    signInCodes: { redis: command, keys },
    security: limits.security,
    streamSlots: limits.streamSlots,
    operations: createOperationsHttp({
      redis: command,
      keys,
      queueKeys: { wait: queue.toKey('wait'), failed: queue.toKey('failed') },
      hub,
      logger: log,
      metricsEnabled: config.metricsEnabled,
    }),
    dashboardDir: config.dashboard.dir,
  };
  const app = createApp(appDeps);
  const server = createServer(streamFrontDoor(appDeps, app));
  // Requests not answered yet, which shutdown waits for. EventSource requests are left out: a
  // stream is answered as soon as it opens, and the set costs open streams nothing.
  const unanswered = new Set<ServerResponse>();
  server.on('request', (req, res: ServerResponse) => {
    if (req.headers.accept === 'text/event-stream') return;
    unanswered.add(res);
    res.once('close', () => unanswered.delete(res));
  });
  server.listen(config.port, config.host);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  log.info({ port }, 'api listening');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const deadline = Date.now() + config.shutdownTimeoutMs;
      // Unready first; the server keeps listening while the streams drain, so a load balancer sees
      // /readyz answer 503 and stops routing here before connections are refused.
      accepting = false;
      // One retry interval: a stream closed early in it reconnects after it ended, never into it.
      await drainStreams(hub, { windowMs: Math.min(config.sse.retryMs, config.shutdownTimeoutMs / 2), retryMs: config.sse.retryMs });
      server.close();
      await drainStreams(hub, { windowMs: 0, retryMs: config.sse.retryMs });
      hub.stop();
      // Gives back the stream leases of streams whose close has not reached Redis yet, before the connection goes.
      await limits.stop();
      server.closeIdleConnections();
      // No request is cut off: wait (up to the timeout) until every one has its answer.
      while ([...unanswered].some((res) => !res.headersSent) && Date.now() < deadline) await sleep(50);
      server.closeAllConnections();
      await feed.stop();
      killSwitch.stop();
      await queue.close().catch(() => undefined);
      await webhookQueue.close().catch(() => undefined);
      await host.close();
    })();
    return closing;
  };

  return { server, app, port, hub, logger: log, close };
}
