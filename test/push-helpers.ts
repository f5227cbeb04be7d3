import { loadConfig as loadWorkerConfig, type WorkerService } from '@jobstream/worker';
import { jobstreamKeys, type JobstreamKeys } from '@jobstream/runtime';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { authHeaders } from '../test-support/auth';
import { startFakePushService, type FakePushService } from '../test-support/fake-push-service';
import { http } from '../test-support/http';
import type { LogSink } from '../test-support/log-sink';
import { vapidEnv } from '../test-support/push';
import { cleanupPrefix, startApi, startWorker, testEnv, testRedisUrl, type TestEnv } from '../test-support/services';

type Api = Awaited<ReturnType<typeof startApi>>;

/** What one push test runs against: the fake push service, an api and workers with push on, a Redis client. */
interface Running {
  env: TestEnv;
  api: Api;
  workers: WorkerService[];
  fake: FakePushService;
  redis: Redis;
}

/**
 * The push tests' stack, started by `start` in each test and stopped after it, with the callers
 * (alice, bob, and a `service` publisher) and the helpers the tests share.
 */
export function usePushStack() {
  const callers: Record<'alice' | 'bob' | 'publisher', Record<string, string>> = { alice: {}, bob: {}, publisher: {} };
  let running: Running | undefined;
  const now = (): Running => {
    if (!running) throw new Error('start() the push stack first');
    return running;
  };

  beforeAll(async () => {
    callers.alice = await authHeaders('alice');
    callers.bob = await authHeaders('bob');
    callers.publisher = await authHeaders('notifier', ['service']);
  });

  afterEach(async () => {
    if (!running) return;
    const { workers, api, fake, redis, env } = running;
    running = undefined;
    await Promise.all(workers.map((w) => w.close()));
    await api.close();
    await fake.close();
    redis.disconnect();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX);
  });

  const keys = (): JobstreamKeys => jobstreamKeys(loadWorkerConfig(now().env).queue);

  return {
    get alice() {
      return callers.alice;
    },
    get bob() {
      return callers.bob;
    },
    get publisher() {
      return callers.publisher;
    },
    get env() {
      return now().env;
    },
    get api() {
      return now().api;
    },
    get fake() {
      return now().fake;
    },
    get redis() {
      return now().redis;
    },
    get workers() {
      return now().workers;
    },
    set workers(workers: WorkerService[]) {
      now().workers = workers;
    },
    keys,

    /** Starts the stack with push on (fast retries, short stream leases) and `overrides`; the worker logs to `logs` when given. */
    async start(overrides: Record<string, string> = {}, logs?: LogSink): Promise<void> {
      const vapid = vapidEnv();
      const fake = await startFakePushService({ publicKey: vapid.VAPID_PUBLIC_KEY as string, subject: vapid.VAPID_SUBJECT as string });
      const env = testEnv({ ...vapid, PUSH_ALLOWED_HOSTS: '127.0.0.1', PUSH_BACKOFF_MS: '50', MAX_STREAMS_PER_USER: '10', STREAM_LEASE_TTL_MS: '3000', ...overrides });
      const api = await startApi(env);
      const workers = [await startWorker(env, logs ? { logger: logs.logger } : {})];
      running = { env, api, workers, fake, redis: new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 }) };
    },

    /** Registers a new device of the fake push service for `user`; returns the subscription id. */
    async register(user: Record<string, string>, device: string): Promise<string> {
      const res = await http('POST', `${now().api.url}/api/push/subscriptions`, now().fake.device(device).subscription, user);
      expect(res.status).toBe(201);
      return res.body.id as string;
    },

    /** Publishes a notification to `userId` as the `service` caller. */
    notify: (userId: string, title: string) =>
      http('POST', `${now().api.url}/api/notifications`, { userId, type: 'chat.message', title, message: `message of ${title}` }, callers.publisher),

    /** The pushes the fake push service accepted for `device`. */
    pushesTo: (device: string) => now().fake.received.filter((push) => push.device === device),

    /** The push queue, read as a test sees it; closed with its connection. */
    async withPushQueue<T>(read: (queue: Queue) => Promise<T>): Promise<T> {
      const connection = now().redis.duplicate();
      const queue = new Queue('jobs-push', { connection, prefix: now().env.QUEUE_PREFIX });
      try {
        return await read(queue);
      } finally {
        await queue.close();
        connection.disconnect();
      }
    },

    /** Whether the push dispatcher's cursor reached the newest entry of the live feed. */
    async dispatcherPassedFeedEnd(): Promise<boolean> {
      const { redis } = now();
      const [newest] = await redis.xrevrange(keys().feed, '+', '-', 'COUNT', 1);
      const cursor = await redis.get(keys().pushCursor);
      if (!newest || !cursor) return false;
      const [ms, seq] = newest[0].split('-').map(Number) as [number, number];
      const [cms, cseq] = cursor.split('-').map(Number) as [number, number];
      return cms > ms || (cms === ms && cseq >= seq);
    },

    /** The first worker's count of pushes not sent for `reason` (jobstream_push_skipped_total). */
    async skipped(reason: string): Promise<number> {
      const text = await now().workers[0]!.operations.registry.getSingleMetricAsString('jobstream_push_skipped_total');
      return Number(new RegExp(`jobstream_push_skipped_total\\{reason="${reason}"\\} (\\d+)`).exec(text)?.[1] ?? Number.NaN);
    },
  };
}
