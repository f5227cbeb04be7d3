import type { Logger } from 'pino';
import type { ServiceSettings } from './config.js';
import { createLogger } from './logger.js';
import { parentPipeFrom, watchParentPipe } from './parent-watch.js';
import type { ServiceName } from './service-host.js';
import { onShutdown } from './shutdown.js';
import { startTracing } from './tracing.js';

export interface RunServiceOptions<C extends ServiceSettings & { shutdownTimeoutMs: number }> {
  service: ServiceName;
  /** The service's `loadConfig`; given `process.env`, the one place a service reads it. */
  loadConfig: (env: NodeJS.ProcessEnv) => C;
  /** Starts the service (which sets up its host) with the logger the process logs through. */
  start: (config: C, logger: Logger) => Promise<{ close(): Promise<void> }>;
  /** Time shutdown gets beyond the service's own `shutdownTimeoutMs` before the process exits anyway. */
  shutdownGraceMs: number;
}

/**
 * A service's `main`: reads the configuration, starts tracing (when OTEL_EXPORTER_OTLP_ENDPOINT is
 * set: once per process, before the service's first connection), starts the service, and stops
 * both on SIGTERM, SIGINT or when the process that started it is gone. A bad configuration or a failed start is
 * written to stderr and exits with code 1.
 */
export function runService<C extends ServiceSettings & { shutdownTimeoutMs: number }>(options: RunServiceOptions<C>): void {
  const main = async (): Promise<void> => {
    const config = options.loadConfig(process.env);
    const parentPipe = parentPipeFrom(options.service, process.env);
    const logger = createLogger({ name: options.service, level: config.logLevel, pretty: config.logPretty });
    const tracing = await startTracing(options.service, logger);
    const running = await options.start(config, logger);
    const shutdown = onShutdown([() => running.close(), () => tracing.shutdown()], { logger, timeoutMs: config.shutdownTimeoutMs + options.shutdownGraceMs });
    watchParentPipe({ fd: parentPipe, logger, onGone: shutdown });
  };
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
