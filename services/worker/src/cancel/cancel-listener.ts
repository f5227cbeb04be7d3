import { createRedis, parseCancelMessage, type Logger, type RedisTarget } from '@jobstream/runtime';

/** What the listener needs of the BullMQ worker: `Worker.cancelJob` aborts the signal of a job it runs. */
export interface CancellableWorker {
  cancelJob(jobId: string, reason?: string): boolean;
}

export interface CancelListener {
  /** Subscribed: messages published from now on reach the worker. */
  ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * Listens on the cancel channel and aborts the signal of a job this process runs. Pub/sub rather
 * than a stream: a message nobody holds the job for is dropped, and a worker that takes the job
 * afterwards finds the request key instead.
 */
export function listenForCancels(redis: RedisTarget, channel: string, worker: CancellableWorker, logger: Logger): CancelListener {
  const log = logger.child({ component: 'cancel-listener' });
  const subscriber = createRedis(redis, { role: 'blocking', logger: log, connectionName: 'jobstream:worker:cancel' });
  subscriber.on('message', (from: string, raw: string) => {
    if (from !== channel) return;
    const message = parseCancelMessage(raw);
    if (!message) {
      log.warn({ bytes: raw.length }, 'ignored a message on the cancel channel that is not a cancel request');
      return;
    }
    if (worker.cancelJob(message.jobId, message.by)) log.info({ jobId: message.jobId, by: message.by }, 'stopping a cancelled job');
  });
  const ready = subscriber.subscribe(channel).then(() => undefined);
  return {
    ready,
    close: async () => {
      await subscriber.quit().catch(() => subscriber.disconnect());
    },
  };
}
