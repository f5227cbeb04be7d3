import { createLogger, onShutdown } from '@jobstream/runtime';
import { loadConfig } from './config.js';
import { startWorkerService } from './worker-service.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ name: 'worker', level: config.logLevel, pretty: config.logPretty });
  const service = await startWorkerService(config, logger);
  onShutdown([() => service.close()], { logger, timeoutMs: config.shutdownTimeoutMs + 10_000 });
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
