import type { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Design } from './designs.js';
import { QUEUE_NAME } from './jobs.js';

/**
 * Resolves once everything BullMQ has written so far has been handled: for jobstream, once its
 * relay's cursor reached the last event of BullMQ's stream (the relay copies each event into the
 * job's history, the feed and the owner's channel, and may lag behind a burst of adds); the
 * hand-built design has no such step.
 */
export async function relaySettled(redis: Redis, design: Design, prefix: string, timeoutMs = 30_000): Promise<void> {
  if (design !== 'jobstream') return;
  const base = `${prefix}:${QUEUE_NAME}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [last] = (await redis.xrevrange(`${base}:events`, '+', '-', 'COUNT', 1)) as [string, string[]][];
    const cursor = await redis.get(`${base}:js:relay:cursor`);
    if (last === undefined || cursor === last[0]) return;
    if (Date.now() > deadline) throw new Error(`jobstream's relay did not reach the last event (${last[0]}, cursor ${cursor}) in ${timeoutMs} ms`);
    await sleep(50);
  }
}
