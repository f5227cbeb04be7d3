import { createLogger, onShutdown, parentPipeFrom, startTracing, watchParentPipe } from '@jobstream/runtime';
import { loadConfig } from './config.js';
import { startWorkerService } from './worker-service.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const parentPipe = parentPipeFrom('worker', process.env);
  const logger = createLogger({ name: 'worker', level: config.logLevel, pretty: config.logPretty });
  const tracing = await startTracing('worker', logger);
  const service = await startWorkerService(config, logger);
  const shutdown = onShutdown([() => service.close(), () => tracing.shutdown()], { logger, timeoutMs: config.shutdownTimeoutMs + 10_000 });
  watchParentPipe({ fd: parentPipe, logger, onGone: shutdown });
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
