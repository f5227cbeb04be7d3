import { Socket } from 'node:net';
import type { Logger } from 'pino';
import { z } from 'zod';
import { optionalVar, parseEnv } from './config.js';

const parentPipeShape = {
  /**
   * The file descriptor of a pipe from the process that started this one (`npm start` sets 3);
   * unset in every other deployment, where a supervisor sends signals instead.
   */
  JOBSTREAM_PARENT_PIPE: optionalVar(z.coerce.number().int().min(3).max(1_023)),
};

/** The parent pipe's fd from the environment, or undefined; a bad value is a ConfigError. */
export function parentPipeFrom(service: string, env: NodeJS.ProcessEnv): number | undefined {
  return parseEnv(service, z.object(parentPipeShape), env).JOBSTREAM_PARENT_PIPE;
}

export interface ParentWatchOptions {
  /** The fd from `parentPipeFrom`; undefined watches nothing. */
  fd: number | undefined;
  logger: Logger;
  /** Called once when the parent is gone: the same shutdown a SIGTERM runs. */
  onGone: () => unknown;
}

/**
 * Shuts the service down when the process that started it is gone. A service started detached
 * (its own process group) gets no signal when its parent dies; the pipe the parent holds is
 * closed by the kernel however the parent ended, SIGKILL included, and that end of file is the
 * one signal that always arrives. Returns a function that stops watching.
 */
export function watchParentPipe(options: ParentWatchOptions): () => void {
  if (options.fd === undefined) return () => undefined;
  const pipe = new Socket({ fd: options.fd, readable: true, writable: false });
  let gone = false;
  const onEnd = (reason: string): void => {
    if (gone) return;
    gone = true;
    options.logger.warn({ reason }, 'the process that started this one is gone, shutting down');
    void options.onGone();
  };
  // Nothing is sent on it: reading only waits for the end.
  pipe.on('data', () => undefined);
  pipe.on('end', () => onEnd('parent pipe closed'));
  pipe.on('error', (err) => {
    options.logger.error({ err }, 'parent pipe failed');
    onEnd('parent pipe failed');
  });
  // The pipe alone never keeps the service running.
  pipe.unref();
  return () => {
    gone = true;
    pipe.destroy();
  };
}
