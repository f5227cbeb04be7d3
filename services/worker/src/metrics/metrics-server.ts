import type { Logger } from '@jobstream/runtime';
import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** What `/readyz` checks: Redis answers a PING in time and the BullMQ worker is running. */
export interface WorkerHealth {
  redis: { ping(): Promise<unknown> };
  worker: { isRunning(): boolean; isPaused(): boolean; closing?: Promise<void> | undefined };
  /** Milliseconds a PING may take before the worker counts as not ready. Default 1000. */
  pingTimeoutMs?: number;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}

async function pingWithin(redis: WorkerHealth['redis'], ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([redis.ping().then(() => true, () => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function readiness(res: ServerResponse, health: WorkerHealth): Promise<void> {
  const { worker } = health;
  if (worker.closing || !worker.isRunning() || worker.isPaused()) {
    json(res, 503, { error: 'Shutting down', code: 'SHUTTING_DOWN' });
    return;
  }
  if (!(await pingWithin(health.redis, health.pingTimeoutMs ?? 1_000))) {
    json(res, 503, { error: 'The job store is unreachable; try again shortly', code: 'REDIS_UNAVAILABLE' });
    return;
  }
  json(res, 200, { status: 'ready' });
}

/**
 * Serves `GET /metrics`, `/healthz` and `/readyz` (when `health` is given) for the worker, which
 * has no HTTP server of its own. A port that is taken does not stop the worker: running jobs
 * matters more than being scraped, so it logs an error (Prometheus shows the target down) and runs
 * without the endpoint.
 * Resolves with the server and its port, or undefined when it could not listen.
 */
export async function serveWorkerMetrics(
  registry: Registry,
  options: { port: number; host: string; logger: Logger; health?: WorkerHealth },
): Promise<{ server: Server; port: number } | undefined> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const readable = req.method === 'GET' || req.method === 'HEAD';
    if (readable && path === '/healthz') {
      json(res, 200, { status: 'ok' });
      return;
    }
    if (readable && path === '/readyz' && options.health) {
      readiness(res, options.health).catch((err: unknown) => {
        options.logger.warn({ err }, 'readiness check failed');
        json(res, 503, { error: 'The job store is unreachable; try again shortly', code: 'REDIS_UNAVAILABLE' });
      });
      return;
    }
    if (path !== '/metrics' || !readable) {
      json(res, 404, { error: 'Only GET /metrics, /healthz and /readyz are served here', code: 'NOT_FOUND' });
      return;
    }
    registry
      .metrics()
      .then((text) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(text))
      .catch((err: unknown) => {
        options.logger.warn({ err }, 'could not render metrics');
        res.writeHead(500).end();
      });
  });
  server.listen(options.port, options.host);
  try {
    await once(server, 'listening'); // rejects on 'error' (EADDRINUSE)
  } catch (err) {
    options.logger.error({ err, port: options.port }, 'worker metrics endpoint not started; set WORKER_METRICS_PORT to a free port (0 turns it off)');
    server.close();
    return undefined;
  }
  const port = (server.address() as AddressInfo).port;
  options.logger.info({ port }, 'worker metrics listening');
  return { server, port };
}
