import { createLogger, flushSentry, initSentry, onShutdown, parentPipeFrom, startTracing, watchParentPipe } from '@jobstream/runtime';
import { loadConfig } from './config.js';
import { startMetricsService } from './metrics-service.js';


async function main(): Promise<void> {
  const config = loadConfig();
  const parentPipe = parentPipeFrom('metrics', process.env);
  const logger = createLogger({ name: 'metrics', level: config.logLevel, pretty: config.logPretty });
  initSentry({ service: 'metrics', ...config.sentry, logger });
  const tracing = await startTracing('metrics', logger);
  const service = await startMetricsService(config, logger);
  const shutdown = onShutdown([() => service.close(), () => tracing.shutdown(), () => flushSentry()], { logger, timeoutMs: config.shutdownTimeoutMs + 5_000 });
  watchParentPipe({ fd: parentPipe, logger, onGone: shutdown });
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
