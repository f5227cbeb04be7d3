import type { WebhookEventType, WebhookPayload } from '@jobstream/contracts';
import { channelEntryFields, channelKey, decodeFeedPointer, streamIdMs, userOfChannel, type JobstreamKeys, type RedisClient, type StreamEntry } from '@jobstream/runtime';

/** An event of one user that webhooks carry, read from the live feed. */
export interface WebhookEvent {
  /** The feed entry's id: the event's identity, and the first half of each delivery's id. */
  feedId: string;
  owner: string;
  type: WebhookEventType;
  /** When it happened (ms), to leave out endpoints registered after it. */
  atMs: number;
  payload: WebhookPayload;
}

function parseObject(json: string | undefined): Record<string, unknown> | undefined {
  if (json === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(json);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The webhook event type of a user channel entry, if webhooks carry it (`job.failed` only once no retry is left). */
function typeOf(event: string | undefined, data: Record<string, unknown>): WebhookEventType | undefined {
  switch (event) {
    case 'job.completed':
    case 'job.progress':
    case 'notification':
      return event;
    case 'job.failed':
      return data.willRetry === true ? undefined : 'job.failed';
    default:
      return undefined;
  }
}

/** A feed pointer at an entry of a user's channel, with that user. */
type Pointer = NonNullable<ReturnType<typeof decodeFeedPointer>> & { owner: string };

/** The pointers of a batch that point at a user's channel. */
function userPointers(entries: StreamEntry[]): Pointer[] {
  const pointers: Pointer[] = [];
  for (const entry of entries) {
    const pointer = decodeFeedPointer(entry);
    const owner = pointer && userOfChannel(pointer.channel);
    if (pointer && owner !== undefined) pointers.push({ ...pointer, owner });
  }
  return pointers;
}

/**
 * The pointers whose user has registered an endpoint (job callbacks included): one EXISTS per
 * user of the batch, so that users without webhooks, and deployments without any, cost no read
 * of their channel entries.
 */
async function ofOwnersWithEndpoints(redis: RedisClient, keys: JobstreamKeys, pointers: Pointer[]): Promise<Pointer[]> {
  const owners = [...new Set(pointers.map((p) => p.owner))];
  if (owners.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const owner of owners) pipeline.exists(keys.webhookEndpoints(owner));
  const replies = (await pipeline.exec()) ?? [];
  const withEndpoints = new Set<string>();
  owners.forEach((owner, i) => {
    const [err, count] = replies[i] ?? [null, 0];
    if (err) throw err;
    if (Number(count) > 0) withEndpoints.add(owner);
  });
  return pointers.filter((p) => withEndpoints.has(p.owner));
}

/**
 * The webhook events among feed entries, in feed order: the entries that point at a user's channel
 * and name a job outcome, progress or a notification. Topic and system channels carry none (an
 * endpoint gets its owner's events only). Returns how many pointers named an entry the channel no
 * longer holds (trimmed before it was read), so the caller can say so.
 */
export async function readWebhookEvents(redis: RedisClient, keys: JobstreamKeys, entries: StreamEntry[]): Promise<{ events: WebhookEvent[]; missing: number }> {
  const pointers = await ofOwnersWithEndpoints(redis, keys, userPointers(entries));
  if (pointers.length === 0) return { events: [], missing: 0 };
  const pipeline = redis.pipeline();
  for (const p of pointers) pipeline.xrange(channelKey(keys, p.channel), p.channelId, p.channelId);
  const replies = (await pipeline.exec()) ?? [];
  const events: WebhookEvent[] = [];
  let missing = 0;
  pointers.forEach((pointer, i) => {
    const [err, value] = replies[i] ?? [null, []];
    if (err) throw err;
    const entry = (value as StreamEntry[])[0];
    if (!entry) {
      missing += 1;
      return;
    }
    const fields = channelEntryFields(entry[1]);
    const data = parseObject(fields.data);
    const type = data && typeOf(fields.event, data);
    if (!data || !type) return;
    const atMs = streamIdMs(pointer.feedId);
    const timestamp = typeof data.timestamp === 'string' ? data.timestamp : typeof data.createdAt === 'string' ? data.createdAt : new Date(atMs).toISOString();
    events.push({
      feedId: pointer.feedId,
      owner: pointer.owner,
      type,
      atMs,
      payload: { type, timestamp, data: fields.jobType === undefined ? data : { ...data, jobType: fields.jobType } },
    });
  });
  return { events, missing };
}
