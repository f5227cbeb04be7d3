import type { Logger } from 'pino';

export interface ShutdownOptions {
  logger: Logger;
  /** Hard limit for all hooks together; the process exits with code 1 after it. Default 30 s. */
  timeoutMs?: number;
  /** Default SIGTERM and SIGINT. */
  signals?: NodeJS.Signals[];
  /** Default `process.exit`; replaced in tests. */
  exit?: (code: number) => void;
}

/** A hook run on shutdown; hooks run one after another in the order they were added. */
export type ShutdownHook = () => Promise<void> | void;

/**
 * Runs the hooks once on the first signal, then exits. A second signal exits at once,
 * so a person pressing Ctrl-C twice is never stuck.
 */
export function onShutdown(hooks: ShutdownHook[], options: ShutdownOptions): () => Promise<void> {
  const { logger } = options;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const timeoutMs = options.timeoutMs ?? 30_000;
  let running: Promise<void> | undefined;

  const run = (): Promise<void> => {
    running ??= (async () => {
      const timer = setTimeout(() => {
        logger.error({ timeoutMs }, 'shutdown timed out, exiting');
        exit(1);
      }, timeoutMs);
      timer.unref();
      let code = 0;
      for (const hook of hooks) {
        try {
          await hook();
        } catch (err) {
          code = 1;
          logger.error({ err }, 'shutdown hook failed');
        }
      }
      clearTimeout(timer);
      logger.info('shutdown complete');
      exit(code);
    })();
    return running;
  };

  for (const signal of options.signals ?? ['SIGTERM', 'SIGINT']) {
    process.on(signal, () => {
      if (running) {
        logger.warn({ signal }, 'second signal, exiting now');
        exit(1);
        return;
      }
      logger.info({ signal }, 'shutting down');
      void run();
    });
  }
  return run;
}
