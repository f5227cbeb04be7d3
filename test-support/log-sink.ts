import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

/** A logger whose JSON lines a test reads back, as pino wrote them. */
export interface LogSink {
  logger: Logger;
  /** Every line written so far, parsed. */
  lines(): Record<string, unknown>[];
}

export function logSink(level: pino.LevelWithSilent = 'info'): LogSink {
  const written: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      written.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: pino({ level }, stream), lines: () => written.map((line) => JSON.parse(line) as Record<string, unknown>) };
}
