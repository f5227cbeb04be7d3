import type { RedisClient } from './redis.js';

/**
 * Appends an event of jobstream's own (a failed attempt that will be retried, the cancel of a
 * removed job) to BullMQ's event stream, trimmed like BullMQ trims it, so the relay reads it in
 * order with BullMQ's events.
 */
export async function appendQueueEvent(
  redis: RedisClient,
  eventsKey: string,
  maxLen: number,
  event: string,
  fields: Readonly<Record<string, string>>,
): Promise<void> {
  await redis.xadd(eventsKey, 'MAXLEN', '~', maxLen, '*', 'event', event, ...Object.entries(fields).flat());
}
