import type { PushPayload } from '@jobstream/contracts';
import {
  channelKey,
  decodeFeedPointer,
  FEED_FIELDS,
  HISTORY_FIELDS,
  isCursorCovered,
  readFields,
  registerScript,
  type JobstreamKeys,
  type Logger,
  type PushSettings,
  type PushSubscriptions,
  type RedisClient,
  type StreamEntry,
  readStreamBounds,
  userChannelRef,
  userOfChannel,
} from '@jobstream/runtime';
import type { Queue } from 'bullmq';
import { FeedDispatch } from '../relay/relay-lease.js';
import { mayBePushed, pushMessageOf } from './push-message.js';
import type { PushJobData, PushSkipReason } from './push-sender.js';

/** Moves the cursor only while the lease is ours: a dispatcher that lost it cannot move it back. */
const SAVE_CURSOR_SCRIPT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
return 1`;

/** The start (ms) of the minute the rate limits count in. */
const minuteStart = (): number => Math.floor(Date.now() / 60_000) * 60_000;

/** Counts one push of a user, or of a device, in the current minute; returns the count. */
const COUNT_PUSH_SCRIPT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], 120000) end
return n`;

type DispatchClient = RedisClient & {
  jobstreamSavePushCursor(lock: string, cursor: string, token: string, id: string): Promise<number>;
  jobstreamCountPush(key: string): Promise<number>;
};

const defineSaveCursor = registerScript('jobstreamSavePushCursor', { numberOfKeys: 2, lua: SAVE_CURSOR_SCRIPT });
const defineCountPush = registerScript('jobstreamCountPush', { numberOfKeys: 1, lua: COUNT_PUSH_SCRIPT });

export interface PushDispatcherOptions {
  /** For the lease, the cursor and the reads of channels and subscriptions. */
  command: RedisClient;
  /** Dedicated to the blocking XREAD of the feed. */
  blocking: RedisClient;
  keys: JobstreamKeys;
  settings: PushSettings;
  subscriptions: PushSubscriptions;
  /** The push queue the sender works off. */
  queue: Queue<PushJobData>;
  logger: Logger;
  /** Feed entries read per round. Default 500. */
  batchSize?: number;
  /** How long one XREAD blocks; bounds how quickly stop() returns. Default 1 s. */
  blockMs?: number;
  /** Told of each push the dispatcher drops: the user's or the device's rate limit, or a stream was open. */
  onSkipped?: (reason: PushSkipReason) => void;
  /** Told when feed entries past the cursor were trimmed before they were dispatched (their pushes are lost). */
  onGap?: () => void;
}

/** A push to hand to the queue: one per device of the user. */
interface Planned {
  feedId: string;
  userId: string;
  payload: PushPayload;
}

/**
 * Follows the live feed and hands each push to the push queue, one job per (feed entry, device).
 *
 * One dispatcher at a time (a lease, as the relay) reads the feed from a cursor kept in Redis.
 * The job ids are derived from the feed entry and the subscription, and the cursor moves only
 * after the jobs are added: a dispatcher that dies in between is followed by one that adds the
 * same jobs again, which BullMQ ignores, so no device is pushed to twice and nothing is skipped.
 * A user without subscriptions costs one set lookup per batch of events, nothing per event.
 */
export class PushDispatcher {
  private readonly dispatch: FeedDispatch;
  private readonly client: DispatchClient;
  private readonly log: Logger;
  /** Where a dispatcher starts when none ran before: about when this process started, never the feed's whole past. */
  private readonly firstCursor = `${Date.now()}-0`;

  constructor(private readonly options: PushDispatcherOptions) {
    defineSaveCursor(options.command);
    defineCountPush(options.command);
    this.client = options.command as DispatchClient;
    this.log = options.logger.child({ component: 'push-dispatcher' });
    this.dispatch = new FeedDispatch(options.command, options.keys.pushLock, options.settings.lockTtlMs, this.log, 'push dispatcher', {
      resume: () => this.resume(),
      round: (cursor) => this.dispatchOnce(cursor),
    });
  }

  start(): void {
    this.dispatch.start();
  }

  /** Whether this process holds the lease now. */
  isLeader(): boolean {
    return this.dispatch.isLeader;
  }

  /** Stops after the current round and hands the lease over. */
  async stop(): Promise<void> {
    await this.dispatch.stop();
  }

  /** Where to go on from once this process holds the lease: the saved cursor, checked for a gap. */
  private async resume(): Promise<string> {
    const saved = await this.options.command.get(this.options.keys.pushCursor);
    this.log.info({ cursor: saved ?? this.firstCursor }, 'dispatching pushes');
    if (saved === null) return this.firstCursor;
    await this.detectGap(saved);
    return saved;
  }

  /**
   * The feed is capped (FEED_MAX_LEN): when no dispatcher ran for longer than the feed covers,
   * entries past the cursor are gone, and so are their pushes. Said loudly, never papered over.
   */
  private async detectGap(cursor: string): Promise<void> {
    const bounds = await readStreamBounds(this.options.command, this.options.keys.feed);
    if (!bounds) return; // no feed yet
    if (!isCursorCovered(cursor, bounds)) {
      this.options.onGap?.();
      this.log.error({ cursor, firstId: bounds.firstId }, 'feed entries were trimmed before their pushes were dispatched; those pushes are lost (raise FEED_MAX_LEN, or keep a worker running)');
    }
  }

  /** One XREAD of the feed; returns the new cursor. */
  private async dispatchOnce(cursor: string): Promise<string> {
    const { blocking, keys } = this.options;
    const reply = (await blocking.xread('COUNT', this.options.batchSize ?? 500, 'BLOCK', this.options.blockMs ?? 1_000, 'STREAMS', keys.feed, cursor)) as
      | [string, StreamEntry[]][]
      | null;
    const entries = reply?.[0]?.[1] ?? [];
    const last = entries[entries.length - 1];
    if (!last || !this.dispatch.leadership.isLeader) return cursor;
    const planned = await this.plan(entries);
    await this.enqueue(planned);
    const saved = await this.client.jobstreamSavePushCursor(keys.pushLock, keys.pushCursor, this.dispatch.leadership.lease.token, last[0]);
    if (saved !== 1) {
      this.dispatch.leadership.lost();
      this.log.warn('push dispatcher lease lost; leaving the cursor to the new dispatcher');
      return cursor;
    }
    return last[0];
  }

  /** The pushes a batch of feed entries asks for: entries of subscribed users' channels that are outcomes or notifications. */
  private async plan(entries: StreamEntry[]): Promise<Planned[]> {
    const candidates: { feedId: string; userId: string; channelId: string }[] = [];
    for (const entry of entries) {
      const pointer = decodeFeedPointer(entry);
      const userId = pointer && userOfChannel(pointer.channel);
      if (!pointer || userId === undefined) continue;
      const fields = readFields(entry[1]);
      // A job's waiting, active and progress events carry their name inline: most entries stop here.
      if (fields[FEED_FIELDS.jobId] !== undefined && !mayBePushed(fields[HISTORY_FIELDS.event])) continue;
      candidates.push({ feedId: pointer.feedId, userId, channelId: pointer.channelId });
    }
    if (candidates.length === 0) return [];
    const subscribed = await this.options.subscriptions.subscribed([...new Set(candidates.map((c) => c.userId))]);
    const wanted = candidates.filter((c) => subscribed.has(c.userId));
    if (wanted.length === 0) return [];

    const pipeline = this.options.command.pipeline();
    for (const c of wanted) pipeline.xrange(channelKey(this.options.keys, userChannelRef(c.userId)), c.channelId, c.channelId);
    const rows = (await pipeline.exec()) ?? [];
    const planned: Planned[] = [];
    wanted.forEach((c, i) => {
      const [err, found] = rows[i] ?? [null, null];
      const entry = !err && Array.isArray(found) ? (found as StreamEntry[])[0] : undefined;
      const payload = entry ? pushMessageOf(entry, this.options.settings.dashboardBaseUrl) : undefined;
      if (payload) planned.push({ feedId: c.feedId, userId: c.userId, payload });
    });
    return this.admit(planned);
  }

  /** Drops the pushes of users with an open stream (PUSH_WHEN=offline) and those over a user's rate limit. */
  private async admit(planned: Planned[]): Promise<Planned[]> {
    const { keys, settings } = this.options;
    let online = new Set<string>();
    if (settings.when === 'offline' && planned.length > 0) {
      const users = [...new Set(planned.map((p) => p.userId))];
      const now = Date.now();
      const pipeline = this.options.command.pipeline();
      for (const user of users) pipeline.zcount(keys.streamLeases(user), `(${now}`, '+inf');
      const counts = (await pipeline.exec()) ?? [];
      online = new Set(users.filter((_, i) => Number(counts[i]?.[1] ?? 0) > 0));
    }
    const admitted: Planned[] = [];
    const minute = minuteStart();
    for (const push of planned) {
      if (online.has(push.userId)) {
        this.options.onSkipped?.('online');
        continue;
      }
      const count = await this.client.jobstreamCountPush(keys.pushRate(push.userId, minute));
      if (count > settings.maxPerUserPerMinute) {
        this.options.onSkipped?.('rate_limited');
        this.log.debug({ userId: push.userId }, 'push dropped: the user reached PUSH_MAX_PER_USER_PER_MINUTE');
        continue;
      }
      admitted.push(push);
    }
    return admitted;
  }

  /**
   * One job per device of the user, with an id made of the feed entry and the subscription; a
   * device past PUSH_MAX_PER_DEVICE_PER_MINUTE gets none, the user's other devices still do.
   */
  private async enqueue(planned: Planned[]): Promise<void> {
    if (planned.length === 0) return;
    const devices = new Map<string, string[]>();
    const pairs: { push: Planned; subscriptionId: string }[] = [];
    for (const push of planned) {
      let ids = devices.get(push.userId);
      if (!ids) {
        ids = (await this.options.subscriptions.list(push.userId)).map((s) => s.id);
        devices.set(push.userId, ids);
      }
      for (const subscriptionId of ids) pairs.push({ push, subscriptionId });
    }
    const minute = minuteStart();
    const counts = await Promise.all(pairs.map(({ subscriptionId }) => this.client.jobstreamCountPush(this.options.keys.pushDeviceRate(subscriptionId, minute))));
    const jobs: Parameters<Queue<PushJobData>['addBulk']>[0] = [];
    pairs.forEach(({ push, subscriptionId }, i) => {
      if ((counts[i] ?? 0) > this.options.settings.maxPerDevicePerMinute) {
        this.options.onSkipped?.('device_rate_limited');
        this.log.debug({ userId: push.userId, subscriptionId }, 'push dropped for one device: it reached PUSH_MAX_PER_DEVICE_PER_MINUTE');
        return;
      }
      jobs.push({
        name: 'push',
        data: { userId: push.userId, subscriptionId, payload: push.payload, feedId: push.feedId },
        opts: { jobId: `push-${push.feedId}-${subscriptionId}` },
      });
    });
    if (jobs.length > 0) await this.options.queue.addBulk(jobs);
  }
}
