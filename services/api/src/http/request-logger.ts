import type { Logger } from '@jobstream/runtime';
import type { RequestHandler } from 'express';

/** Logs each finished request: method, path (never the query, which may hold tokens), status, time. */
export function requestLogger(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const level = res.statusCode >= 500 ? 'warn' : 'debug';
      // Nothing is built for a line the level drops (debug is off in production).
      if (!logger.isLevelEnabled(level)) return;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      logger[level]({ method: req.method, path: req.path, status: res.statusCode, ms: Math.round(ms) }, 'request');
    });
    next();
  };
}
