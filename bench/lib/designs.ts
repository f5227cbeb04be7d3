import type { BenchContext } from './context.js';
import { benchPrefix } from './jobs.js';
import type { CpuMeter } from './proc-stats.js';
import { startApi, startHandbuiltApi, startRawWorker, startWorker, type ApiService, type Service } from './services.js';
import { round } from './stats.js';

/**
 * The two designs the baseline scenarios put side by side: jobstream's real api and worker (auth
 * on, relay on), and the hand-built design (bench/load/handbuilt-api.ts with the plain BullMQ
 * worker of bench/load/raw-worker.ts).
 */
export type Design = 'jobstream' | 'handbuilt';

export interface RunningDesign {
  design: Design;
  prefix: string;
  api: ApiService;
  worker: Service;
  /** Pids for a CpuMeter: the api, the worker and the bench's Redis. */
  pids: { api: number; worker: number; redis: number };
  stop(): Promise<void>;
}


/** Round 1 starts with jobstream, round 2 with the hand-built design, and so on: neither always runs on a warmer machine. */
export function designOrder(roundNo: number): Design[] {
  return roundNo % 2 === 1 ? ['jobstream', 'handbuilt'] : ['handbuilt', 'jobstream'];
}

/** Starts one design on a fresh queue prefix: its worker (concurrency from the options), then its api. */
export async function startDesign(ctx: BenchContext, design: Design, tag: string): Promise<RunningDesign> {
  const prefix = benchPrefix(`${design}-${tag}`);
  const concurrency = ctx.options.concurrency;
  const started: Service[] = [];
  try {
    let api: ApiService;
    let worker: Service;
    if (design === 'jobstream') {
      const env = { REDIS_URL: ctx.redis.url, QUEUE_PREFIX: prefix };
      worker = await startWorker({
        runDir: ctx.runDir,
        env: { ...env, WORKER_CONCURRENCY: String(concurrency) },
        tag,
        nodeFlags: ctx.profileFlags(`worker-${tag}`),
      });
      started.push(worker);
      api = await startApi({ runDir: ctx.runDir, sseHeartbeatMs: ctx.options.sseHeartbeatMs, env, tag, nodeFlags: ctx.profileFlags(`api-${tag}`) });
    } else {
      worker = await startRawWorker({ runDir: ctx.runDir, env: {}, tag: `handbuilt-${tag}`, redisUrl: ctx.redis.url, prefix, concurrency });
      started.push(worker);
      api = await startHandbuiltApi({
        runDir: ctx.runDir,
        tag,
        redisUrl: ctx.redis.url,
        prefix,
        // The same interval as jobstream's api, so both write as many heartbeats.
        heartbeatMs: ctx.options.sseHeartbeatMs ?? 15_000,
        nodeFlags: ctx.profileFlags(`handbuilt-api-${tag}`),
      });
    }
    started.push(api);
    ctx.fdLimits.api ??= (await api.probe()).fdLimit;
    return {
      design,
      prefix,
      api,
      worker,
      pids: { api: api.pid, worker: worker.pid, redis: ctx.redis.process.pid },
      async stop() {
        await api.stop();
        await worker.stop();
      },
    };
  } catch (err) {
    for (const service of started.reverse()) await service.stop();
    throw err;
  }
}

/** CPU time per job of each process and of the three together, µs. */
export interface CpuPerJob {
  api: number;
  worker: number;
  redis: number;
  total: number;
}

export function cpuPerJob(reading: ReturnType<CpuMeter['read']>, jobs: number): CpuPerJob {
  const per = (us: number | undefined): number => round((us ?? 0) / Math.max(1, jobs), 0);
  const { api, worker, redis } = reading.cpuUs;
  return { api: per(api), worker: per(worker), redis: per(redis), total: per((api ?? 0) + (worker ?? 0) + (redis ?? 0)) };
}
