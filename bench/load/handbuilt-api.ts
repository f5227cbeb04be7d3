/**
 * The design most teams build by hand (the first users' notes, ../shared/background/004_*), as the
 * baseline jobstream's guarantees are measured against: Express; `POST /api/jobs` → `queue.add` →
 * 202 with the job id; `GET /api/jobs/:id/events` writes `connected` with a snapshot
 * (`Job.fromId` + `getState`), then relays `active`, `progress`, `completed` and `failed` of that job
 * from ONE shared `QueueEvents` per process (a map of job id → open responses) and ends after the
 * outcome; one heartbeat timer for every stream. No auth, no history, no resume, no logging. Its
 * worker is bench/load/raw-worker.ts, a plain BullMQ Worker.
 *
 * Written the way a careful team would: the stream joins the map before the snapshot is read, so an
 * outcome that lands in between is not lost, and a job that already finished ends its stream at once.
 */
import { jobTypes } from '@jobstream/contracts';
import { Job, Queue, QueueEvents } from 'bullmq';
import express, { type NextFunction, type Request, type Response } from 'express';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';

const url = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = process.env.BENCH_PREFIX ?? '{bench-handbuilt}';
const heartbeatMs = Number(process.env.BENCH_HEARTBEAT_MS ?? '15000');
const QUEUE_NAME = 'jobs';
/** Finished jobs are kept for an hour: long enough for a late stream's snapshot, short for Redis. */
const RETENTION = { age: 3_600 };

const connection = new Redis(url, { maxRetriesPerRequest: null });
connection.on('error', (err) => process.stderr.write(`handbuilt api redis error: ${err.message}\n`));
const queue = new Queue(QUEUE_NAME, { connection, prefix });
// One blocking XREAD for the whole process (it duplicates the connection); streams fan out in memory.
const events = new QueueEvents(QUEUE_NAME, { connection, prefix });
events.on('error', (err) => process.stderr.write(`handbuilt api queue events error: ${err.message}\n`));

interface Stream {
  res: Response;
  /** Events that arrived before `connected` was written; undefined once the stream is live. */
  early: string[] | undefined;
}

const streams = new Map<string, Set<Stream>>();
const frame = (event: string, data: unknown): string => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
/** The time BullMQ wrote the event (its stream id), as jobstream stamps its events: delivery is measured from it. */
const writtenAt = (eventId: string): string => new Date(Number(eventId.split('-')[0])).toISOString();

function leave(jobId: string, stream: Stream): void {
  const set = streams.get(jobId);
  set?.delete(stream);
  if (set?.size === 0) streams.delete(jobId);
}

function relay(jobId: string, event: string, data: Record<string, unknown>, terminal: boolean): void {
  const set = streams.get(jobId);
  if (!set) return;
  const text = frame(event, { jobId, ...data });
  for (const stream of set) {
    if (stream.early) {
      stream.early.push(text);
      continue;
    }
    stream.res.write(text);
    if (terminal) {
      stream.res.end();
      leave(jobId, stream);
    }
  }
}

events.on('active', ({ jobId }, id) => relay(jobId, 'active', { timestamp: writtenAt(id) }, false));
events.on('progress', ({ jobId, data }, id) => relay(jobId, 'progress', { timestamp: writtenAt(id), progress: data }, false));
events.on('completed', ({ jobId, returnvalue }, id) => relay(jobId, 'completed', { timestamp: writtenAt(id), result: returnvalue }, true));
events.on('failed', ({ jobId, failedReason }, id) => relay(jobId, 'failed', { timestamp: writtenAt(id), error: failedReason }, true));

const app = express();
app.use(express.json());

app.post('/api/jobs', async (req: Request, res: Response) => {
  const body = (req.body ?? {}) as { type?: unknown; payload?: unknown };
  const type = body.type === 'demo.work' ? body.type : undefined;
  const payload = type ? jobTypes[type].payload.safeParse(body.payload) : undefined;
  if (!type || !payload?.success) {
    res.status(400).json({ error: 'type must be demo.work with a valid payload' });
    return;
  }
  const retry = jobTypes[type].retry;
  const job = await queue.add(type, { payload: payload.data }, {
    jobId: randomUUID(),
    attempts: retry.attempts,
    backoff: { type: 'exponential', delay: retry.backoffMs },
    removeOnComplete: RETENTION,
    removeOnFail: RETENTION,
  });
  res.status(202).json({ jobId: job.id, state: 'waiting' });
});

app.get('/api/jobs/:id/events', async (req: Request<{ id: string }>, res: Response) => {
  const jobId = req.params.id;
  const stream: Stream = { res, early: [] };
  let set = streams.get(jobId);
  if (!set) streams.set(jobId, (set = new Set()));
  set.add(stream);
  res.on('close', () => leave(jobId, stream));

  const job = await Job.fromId(queue, jobId);
  if (!job) {
    leave(jobId, stream);
    res.status(404).json({ error: 'job not found' });
    return;
  }
  const state = await job.getState();
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  });
  res.socket?.setNoDelay(true);
  const snapshot = {
    id: jobId,
    type: job.name,
    state,
    progress: job.progress,
    attemptsMade: job.attemptsMade,
    ...(state === 'completed' ? { result: job.returnvalue } : {}),
    ...(state === 'failed' ? { error: job.failedReason } : {}),
  };
  res.write(frame('connected', { jobId, timestamp: new Date().toISOString(), job: snapshot }));
  const early = stream.early ?? [];
  stream.early = undefined;
  for (const text of early) res.write(text);
  const finished = state === 'completed' || state === 'failed' || early.some((t) => t.startsWith('event: completed') || t.startsWith('event: failed'));
  if (finished) {
    res.end();
    leave(jobId, stream);
  }
});

app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
  process.stderr.write(`handbuilt api error: ${err.stack ?? err.message}\n`);
  if (res.headersSent) res.end();
  else res.status(500).json({ error: 'internal error' });
});

// One timer for every stream, not one per connection.
const heartbeat = setInterval(() => {
  const timestamp = new Date().toISOString();
  for (const [jobId, set] of streams) {
    for (const stream of set) if (!stream.early) stream.res.write(frame('heartbeat', { jobId, timestamp }));
  }
}, heartbeatMs);

const server = app.listen(0, '127.0.0.1', () => {
  void events.waitUntilReady().then(() => {
    process.stdout.write(`handbuilt api listening port ${(server.address() as AddressInfo).port}\n`);
  });
});

const stop = (): void => {
  clearInterval(heartbeat);
  for (const set of streams.values()) for (const stream of set) stream.res.destroy();
  server.close();
  void Promise.allSettled([events.close(), queue.close()]).finally(() => {
    connection.disconnect();
    process.exit(0);
  });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
