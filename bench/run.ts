/**
 * `npm run bench [-- --quick] [--streams ...] [--duration ...]`: starts its own Redis, the real api
 * and worker processes and load-client processes on this machine, runs the scenarios side by side,
 * prints a markdown table and writes bench/results/latest.{json,md}. See bench/README.md.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem, type as osType } from 'node:os';
import { join, resolve } from 'node:path';
import { ClientPool } from './lib/client-pool.js';
import type { BenchContext } from './lib/context.js';
import { parseOptions, SCENARIOS } from './lib/options.js';
import { killAllNow, stopAll, WANTED_FD_LIMIT } from './lib/processes.js';
import { startBenchRedis } from './lib/redis-server.js';
import { evaluateTargets, toMarkdown, type BenchResults } from './lib/report.js';
import { repoRoot } from './lib/services.js';
import { round } from './lib/stats.js';
import { runCapacity } from './scenarios/capacity.js';
import { runClosedLoop } from './scenarios/closed-loop.js';
import { runFanOut } from './scenarios/fan-out.js';
import { runLatency } from './scenarios/latency.js';
import { runPolling } from './scenarios/polling.js';
import { replayMemoryMarkdown, runReplayMemory, type ReplayMemoryResult } from './scenarios/replay-memory.js';
import { runRedisMemory } from './scenarios/redis-memory.js';
import { runThroughput } from './scenarios/throughput.js';

const log = (message: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
};

let cleaningUp: Promise<void> | undefined;
const cleanup = (): Promise<void> => (cleaningUp ??= stopAll());

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    log(`${signal}: stopping every process the bench started`);
    void cleanup().finally(() => process.exit(130));
  });
}
process.on('exit', killAllNow);

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  for (const service of ['api', 'worker']) {
    if (!existsSync(join(repoRoot, 'services', service, 'dist', 'main.js'))) {
      throw new Error(`services/${service}/dist/main.js is missing: run \`npm run build\` first`);
    }
  }
  const startedAt = Date.now();
  const loadAtStart = round(loadavg()[0] ?? NaN, 2);
  const runDir = mkdtempSync(join(tmpdir(), 'jobstream-bench-'));
  const outDir = resolve(options.outDir ?? join(repoRoot, 'bench', 'results'));
  log(`${options.quick ? 'quick' : 'full'} run; logs in ${runDir}`);

  const redis = await startBenchRedis(runDir);
  const clients = await ClientPool.start(options.clients, runDir);
  const ctx: BenchContext = {
    options,
    runDir,
    redis,
    clients,
    log,
    profileFlags: (name) =>
      options.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(outDir, 'profiles')}`, `--cpu-prof-name=${name}.cpuprofile`] : [],
    fdLimits: {},
  };
  const results: BenchResults & { replayMemory?: ReplayMemoryResult } = {
    mode: options.quick ? 'quick' : 'full',
    date: new Date(startedAt).toISOString(),
    durationSec: 0,
    machine: {
      cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
      cores: cpus().length,
      memoryGiB: round(totalmem() / 1024 ** 3, 1),
      os: `${osType()} ${release()}`,
      node: process.version,
      redis: redis.version,
      loadAverage: { start: loadAtStart, end: NaN },
    },
    fdLimit: { wanted: WANTED_FD_LIMIT, clients: clients.fdLimits, raised: false, note: '' },
    settings: {
      streams: options.streams,
      durationSec: options.durationSec,
      latencyStreams: options.latencyStreams,
      rates: options.rates,
      throughputJobs: options.throughputJobs,
      throughputWatched: options.throughputWatched,
      concurrency: options.concurrency,
      rounds: options.rounds,
      watchedJobs: options.watchedJobs,
      clientProcesses: options.clients,
      loopClients: options.loopClients,
      idleStreams: options.idleStreams,
      fanOutRate: options.fanOutRate,
      baselineDurationSec: options.baselineDurationSec,
      retainRate: options.retainRate,
      retainDurationSec: options.retainDurationSec,
      sseHeartbeatMs: options.sseHeartbeatMs ?? 15_000,
      logLevel: 'info',
    },
    targets: [],
    errors: [],
  };

  const scenario = async (name: string, run: () => Promise<void>): Promise<void> => {
    if (!options.only.has(name)) return;
    log(`--- ${name}`);
    try {
      await run();
    } catch (err) {
      const message = `${name}: ${err instanceof Error ? err.message : String(err)}`;
      log(`FAILED ${message}`);
      results.errors.push(message);
      await clients.reset().catch(() => undefined);
    }
    await redis.flush().catch(() => undefined);
  };
  await scenario('capacity', async () => {
    results.capacity = await runCapacity(ctx);
  });
  await scenario('latency', async () => {
    results.latency = await runLatency(ctx);
    results.cpuPerEvent = results.latency.map((l) => ({
      rate: l.targetRate,
      achievedRate: l.achievedRate,
      apiCpuUsPerEvent: l.apiCpuUsPerEvent,
      apiCpuUsPerMessage: l.apiCpuUsPerMessage,
      delivered: l.delivered,
      heartbeats: l.heartbeats,
    }));
  });
  await scenario('throughput', async () => {
    results.throughput = await runThroughput(ctx);
  });
  await scenario('polling', async () => {
    results.polling = await runPolling(ctx);
  });
  await scenario('replaymem', async () => {
    results.replayMemory = await runReplayMemory(ctx);
  });
  await scenario('closedloop', async () => {
    results.closedLoop = await runClosedLoop(ctx);
  });
  await scenario('fanout', async () => {
    results.fanOut = await runFanOut(ctx);
  });
  await scenario('redismem', async () => {
    results.redisMemory = await runRedisMemory(ctx);
  });

  const apiLimit = ctx.fdLimits.api;
  const reached = [apiLimit, ...clients.fdLimits].filter((v): v is number => v !== undefined);
  const lowest = Math.min(...reached);
  results.fdLimit = {
    wanted: WANTED_FD_LIMIT,
    ...(apiLimit !== undefined ? { api: apiLimit } : {}),
    ...(ctx.fdLimits.worker !== undefined ? { worker: ctx.fdLimits.worker } : {}),
    clients: clients.fdLimits,
    raised: lowest >= WANTED_FD_LIMIT,
    note:
      lowest >= WANTED_FD_LIMIT
        ? `raised to ${WANTED_FD_LIMIT.toLocaleString('en-US')} for the api and the load clients.`
        : `could not be raised to ${WANTED_FD_LIMIT.toLocaleString('en-US')}: the hard limit here is ${lowest.toLocaleString('en-US')} ` +
          `(api ${apiLimit ?? '?'}, clients ${clients.fdLimits.join(', ')}), so one api process can hold at most about that many streams. ` +
          'Raise it with `ulimit -Hn` as root (or LimitNOFILE= under systemd, --ulimit nofile= under Docker).',
  };
  results.durationSec = round((Date.now() - startedAt) / 1000, 0);
  results.machine.loadAverage.end = round(loadavg()[0] ?? NaN, 2);
  results.targets = evaluateTargets(results);

  await cleanup();
  const markdown = toMarkdown(results) + replayMemoryMarkdown(results.replayMemory);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(outDir, 'latest.md'), `${markdown}\n`);
  if (!options.quick && options.only.size === SCENARIOS.length) {
    // The full run is what the README quotes; a later --quick or partial run must not overwrite it.
    writeFileSync(join(outDir, 'full.json'), `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(join(outDir, 'full.md'), `${markdown}\n`);
  }
  process.stdout.write(`${markdown}\n`);
  log(`wrote ${join(outDir, 'latest.json')} and latest.md`);
  if (results.errors.length === 0) rmSync(runDir, { recursive: true, force: true });
  else log(`logs kept in ${runDir}`);
  process.exitCode = results.errors.length === 0 ? 0 : 1;
}

main().catch(async (err: unknown) => {
  log(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  await cleanup();
  process.exit(1);
});
