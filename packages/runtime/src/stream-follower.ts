import type { Logger } from 'pino';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisClient } from './redis.js';
import type { StreamEntry } from './stream-format.js';

export interface StreamFollowerOptions {
  /** Dedicated to the blocking XREAD; disconnected by stop(). */
  blocking: RedisClient;
  key: string;
  logger: Logger;
  /** Entries per XREAD. */
  batchSize: number;
  /** How long one XREAD blocks; bounds how quickly stop() returns. */
  blockMs: number;
  /** Handles one batch, oldest first; the cursor moves past the batch only when it resolves. */
  onBatch(entries: StreamEntry[]): Promise<void>;
  /** Runs before the next read after a failed read or a reconnect, when something may have been missed. */
  onRecover?(): Promise<void>;
}

/**
 * Follows one Redis stream from a concrete cursor with a blocking XREAD, in order, retrying with
 * backoff while Redis is away. Callers pass the starting id they resolved themselves, never `$`,
 * which would miss whatever is added before the first read.
 */
export class StreamFollower {
  private cursor = '0-0';
  private stopping = false;
  private running: Promise<void> | undefined;
  private recoverNeeded = false;

  constructor(private readonly options: StreamFollowerOptions) {
    let connectedOnce = false;
    options.blocking.on('ready', () => {
      if (connectedOnce) this.recoverNeeded = true;
      connectedOnce = true;
    });
  }

  /** Starts following after `cursor` in the background. */
  start(cursor: string): void {
    this.cursor = cursor;
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.options.blocking.disconnect();
    await this.running;
  }

  private async loop(): Promise<void> {
    const { blocking, key, batchSize, blockMs, logger } = this.options;
    let backoffMs = 100;
    while (!this.stopping) {
      try {
        if (this.recoverNeeded && this.options.onRecover) {
          this.recoverNeeded = false;
          await this.options.onRecover();
        }
        const reply = (await blocking.xread('COUNT', batchSize, 'BLOCK', blockMs, 'STREAMS', key, this.cursor)) as
          | [string, StreamEntry[]][]
          | null;
        const entries = reply?.[0]?.[1] ?? [];
        const last = entries[entries.length - 1];
        if (last) {
          await this.options.onBatch(entries);
          this.cursor = last[0];
        }
        backoffMs = 100;
      } catch (err) {
        if (this.stopping) break;
        this.recoverNeeded = true;
        logger.warn({ err, stream: key }, 'stream read failed; retrying');
        await sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, 2_000);
      }
    }
  }
}
