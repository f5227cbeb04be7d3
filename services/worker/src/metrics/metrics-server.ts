import type { Logger } from '@jobstream/runtime';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/**
 * Serves `GET /metrics` for the worker, which has no HTTP server of its own. A port that is
 * taken does not stop the worker: running jobs matters more than being scraped, so it logs an
 * error (Prometheus shows the target down) and runs without the endpoint.
 * Resolves with the server and its port, or undefined when it could not listen.
 */
export async function serveWorkerMetrics(
  registry: Registry,
  options: { port: number; host: string; logger: Logger },
): Promise<{ server: Server; port: number } | undefined> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: 'Only GET /metrics is served here', code: 'NOT_FOUND' }));
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
    options.logger.error({ err: (err as Error).message, port: options.port }, 'worker metrics endpoint not started; set WORKER_METRICS_PORT to a free port (0 turns it off)');
    server.close();
    return undefined;
  }
  const port = (server.address() as AddressInfo).port;
  options.logger.info({ port }, 'worker metrics listening');
  return { server, port };
}
