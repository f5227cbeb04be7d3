import { alertsFromSnapshot } from '@jobstream/contracts';
import type { JobstreamKeys, Logger, RedisClient } from '@jobstream/runtime';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';

export interface MetricsHttpDeps {
  redis: RedisClient;
  keys: Pick<JobstreamKeys, 'alerts'>;
  registry: Registry;
  logger: Logger;
  /** False once shutdown began. */
  isAccepting: () => boolean;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}

type Route = (res: ServerResponse) => Promise<void>;

/**
 * The metrics service's GET routes on plain node:http: a router framework would be the largest part
 * of this service for no gain. Errors answer with the api's `{ error, code }` shape.
 * `public` is what Prometheus and probes reach (`/metrics`, `/healthz`, `/readyz`); `admin` adds
 * `/api/metrics/alerts` (budget, spend, workers), which the api serves only to admins: it is served
 * here only on the admin listener, bound to loopback unless an operator says otherwise.
 */
export function createMetricsHttpServer(deps: MetricsHttpDeps, listener: 'public' | 'admin' = 'public'): Server {
  const publicRoutes: Record<string, Route> = {
    '/metrics': async (res) => {
      const text = await deps.registry.metrics();
      res.writeHead(200, { 'Content-Type': deps.registry.contentType });
      res.end(text);
    },
    '/healthz': async (res) => json(res, 200, { status: 'ok' }),
    '/readyz': async (res) => {
      if (!deps.isAccepting()) return json(res, 503, { error: 'Shutting down', code: 'SHUTTING_DOWN' });
      await deps.redis.ping();
      json(res, 200, { status: 'ready' });
    },
  };
  const adminRoutes: Record<string, Route> = {
    '/api/metrics/alerts': async (res) => {
      const stored = await deps.redis.get(deps.keys.alerts);
      if (!stored) {
        json(res, 503, { error: 'No alert evaluation yet; try again in a moment', code: 'ALERTS_UNAVAILABLE' });
        return;
      }
      json(res, 200, alertsFromSnapshot(stored));
    },
  };
  const routes = listener === 'admin' ? { ...publicRoutes, ...adminRoutes } : publicRoutes;

  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (!route) return json(res, 404, { error: `No route for ${req.method} ${path}`, code: 'NOT_FOUND' });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return json(res, 405, { error: `${req.method} is not allowed here`, code: 'METHOD_NOT_ALLOWED' });
    }
    route(res).catch((err: unknown) => {
      deps.logger.warn({ err, path }, 'metrics request failed');
      if (!res.headersSent) json(res, 503, { error: 'Redis is unreachable; try again shortly', code: 'REDIS_UNAVAILABLE' });
      else res.end();
    });
  });
}
