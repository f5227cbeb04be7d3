/**
 * The baseline of the throughput comparison: a plain BullMQ Worker on the same Redis, running the
 * same `demo.work` job the same way (payload validated with its zod schema, the same sleep, the
 * same result), with jobstream's worker defaults for locks and stalls, but no relay, no per-job
 * logging and nobody watching.
 */
import { demoWork } from '@jobstream/contracts';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';

const url = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = process.env.BENCH_PREFIX ?? '{bench-raw}';
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? '5');

const connection = new Redis(url, { maxRetriesPerRequest: null });
const worker = new Worker(
  'jobs',
  async (job) => {
    const payload = demoWork.payload.parse((job.data as { payload: unknown }).payload);
    const slices = Math.max(payload.steps, 1);
    for (let step = 1; step <= slices; step += 1) {
      await sleep(payload.durationMs / slices);
      if (payload.steps > 0) await job.updateProgress(Math.round((step / payload.steps) * 100));
    }
    return payload.result ?? { ok: true, durationMs: payload.durationMs, steps: payload.steps };
  },
  { connection, prefix, concurrency, lockDuration: 30_000, stalledInterval: 30_000, maxStalledCount: 1 },
);
worker.on('error', (err) => process.stderr.write(`raw worker error: ${err.message}\n`));
void worker.waitUntilReady().then(() => process.stdout.write('raw worker ready\n'));

const stop = (): void => {
  void worker.close().finally(() => {
    connection.disconnect();
    process.exit(0);
  });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
