import type { Logger, RedisClient } from '@jobstream/runtime';
import type { RequestHandler } from 'express';
import type { ServerResponse } from 'node:http';
import { principalOf } from '../auth/principal.js';
import { retryAfterSeconds, serverBusy, tooManyStreams } from './limit-errors.js';
import { StreamLeases } from './stream-leases.js';

export interface StreamSlotsOptions {
  /** The api's command connection. */
  redis: RedisClient;
  /** The key of one user's lease set (`keys.streamLeases`). */
  keyOf: (userId: string) => string;
  /** Streams one user may hold open across every replica; 0 turns the cap off. */
  maxPerUser: number;
  /** Streams this process may hold open; 0 turns the cap off. */
  maxPerProcess: number;
  /** See `LimitsConfig.streams.leaseTtlMs`. */
  leaseTtlMs: number;
  /** `Retry-After` of a SERVER_BUSY answer. Default 5 s (as REDIS_UNAVAILABLE's). */
  busyRetryAfterS?: number;
  logger: Logger;
}

/**
 * One stream's claim on both caps. Whatever happens first (the response closes, the caller gives up
 * because the user's cap is reached or Redis failed), the slot is given back exactly once.
 */
class Slot {
  private closed = false;
  private releaseLease: (() => Promise<void>) | undefined;

  constructor(private readonly freeProcessSlot: () => void) {}

  /** Ties the user's lease to this slot; gives it back at once if the stream already ended meanwhile. */
  attach(release: () => Promise<void>): void {
    if (this.closed) void release();
    else this.releaseLease = release;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.freeProcessSlot();
    const release = this.releaseLease;
    this.releaseLease = undefined;
    void release?.();
  }
}

/**
 * Admission of SSE streams: a cap per process (in memory: 503 SERVER_BUSY, so a load balancer or
 * the client tries another replica) and a cap per user shared by every replica (leases in Redis:
 * 429 TOO_MANY_STREAMS). A slot is tied to the response and comes back when it closes, whatever
 * closed it: the client left, the terminal event, a slow client cut off, shutdown, an error answer.
 */
export class StreamSlots {
  private readonly leases: StreamLeases | undefined;
  private open = 0;
  private stopped = false;
  private readonly busyRetryAfterS: number;

  constructor(private readonly options: StreamSlotsOptions) {
    this.busyRetryAfterS = options.busyRetryAfterS ?? 5;
    this.leases =
      options.maxPerUser > 0
        ? new StreamLeases({
            redis: options.redis,
            keyOf: options.keyOf,
            maxPerUser: options.maxPerUser,
            leaseTtlMs: options.leaseTtlMs,
            logger: options.logger,
          })
        : undefined;
    this.leases?.start();
  }

  /**
   * Takes a slot for a stream of `userId` that `res` will carry; call it before the stream's headers
   * are written. The slot is released when `res` closes, exactly once. Throws an ApiError
   * (SERVER_BUSY, TOO_MANY_STREAMS) when a cap is reached, or the Redis error while Redis is away
   * (the error handler answers 503 REDIS_UNAVAILABLE); nothing is held after a throw.
   */
  async acquire(res: ServerResponse, userId: string): Promise<void> {
    const max = this.options.maxPerProcess;
    if (this.stopped || (max > 0 && this.open >= max)) throw serverBusy(this.busyRetryAfterS);
    this.open += 1;
    const slot = new Slot(() => {
      this.open -= 1;
    });
    // Before the Redis round trip: the client may leave while it runs.
    res.once('close', () => slot.close());
    if (!this.leases) return;
    try {
      const outcome = await this.leases.acquire(userId);
      if (!outcome.granted) throw tooManyStreams(this.options.maxPerUser, retryAfterSeconds(outcome.retryAfterMs));
      slot.attach(outcome.release);
    } catch (err) {
      slot.close();
      throw err;
    }
  }

  /** Streams this process holds a slot for. */
  get size(): number {
    return this.open;
  }

  /** Refuses new streams, stops renewing leases and gives back those still held (shutdown, after the streams were drained). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.leases?.stop();
  }
}

/** Middleware form for a stream route that answers errors plainly: takes the authenticated caller's slot, then goes on. */
export function streamSlotGuard(slots: StreamSlots): RequestHandler {
  return async (_req, res, next) => {
    await slots.acquire(res, principalOf(res).userId);
    next();
  };
}
