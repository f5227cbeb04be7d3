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

/** The one way services make a logger; pass it (or a child) down, never import a global. */
export function createLogger(options: LoggerOptions): Logger {
  return pino({
    base: { service: options.name },
    level: options.level ?? 'info',
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'apiKey'], censor: '[redacted]' },
    ...(options.pretty
      ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } }
      : {}),
  });
}
