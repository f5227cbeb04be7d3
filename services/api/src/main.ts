import { createLogger, onShutdown, parentPipeFrom, startTracing, watchParentPipe } from '@jobstream/runtime';
import { startApiServer } from './api-server.js';
import { loadConfig } from './config.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const parentPipe = parentPipeFrom('api', process.env);
  const logger = createLogger({ name: 'api', level: config.logLevel, pretty: config.logPretty });
  const tracing = await startTracing('api', logger);
  const api = await startApiServer(config, logger);
  const shutdown = onShutdown([() => api.close(), () => tracing.shutdown()], { logger, timeoutMs: config.shutdownTimeoutMs + 5_000 });
  watchParentPipe({ fd: parentPipe, logger, onGone: shutdown });
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
