import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** Service name, written as `service` on every line. */
  name: string;
  /** Default `info`. */
  level?: LevelWithSilent;
  /** Human-readable colored lines for a person at a terminal; JSON lines otherwise (default). */
  pretty?: boolean;
}

/** pino-pretty is a development dependency: a production install (`npm ci --omit=dev`) has none. */
const PRETTY_TARGET = 'pino-pretty';

/** The one way services make a logger; pass it (or a child) down, never import a global. */
export function createLogger(options: LoggerOptions): Logger {
  const pretty = options.pretty === true && isInstalled(PRETTY_TARGET);
  const logger = pino({
    base: { service: options.name },
    level: options.level ?? 'info',
    timestamp: pino.stdTimeFunctions.isoTime,
    // A password never reaches a log line on purpose; these catch one that would by accident.
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'apiKey', 'password', '*.password'], censor: '[redacted]' },
    ...(pretty
      ? { transport: { target: PRETTY_TARGET, options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } }
      : {}),
  });
  if (options.pretty && !pretty) {
    logger.warn(`pretty logs were asked for but ${PRETTY_TARGET} is not installed (a development dependency): writing JSON lines`);
  }
  return logger;
}

function isInstalled(name: string): boolean {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}
