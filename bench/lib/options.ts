/** What `npm run bench -- ...` accepts. */
export interface BenchOptions {
  quick: boolean;
  /** Stream counts of the capacity scenario. Default 1k,5k,10k,20k (quick: 1k,5k). */
  streams: number[];
  /** Seconds of each latency phase. Default 30 (quick: 6). */
  durationSec: number;
  /** Streams open during the latency phases. Default 10,000 (quick: 2,000). */
  latencyStreams: number;
  /** Delivered events per second of the latency phases. Default 100,1000,5000. */
  rates: number[];
  /** Jobs per throughput run. Default 20,000 (quick: 10,000). */
  throughputJobs: number;
  /** Streams watching jobs during the jobstream throughput run. Default 5,000 (quick: 1,000). */
  throughputWatched: number;
  /** Worker concurrency of both throughput runs. Default 50. */
  concurrency: number;
  /** Rounds of the throughput runs, the order alternating. Default 3 (quick: 1). */
  rounds: number;
  /** Jobs watched in the polling comparison. Default 1,000. */
  watchedJobs: number;
  /** Load-client processes. Default 2. */
  clients: number;
  /** Clients of the closed-loop scenario, each submitting and watching one job at a time. Default 200 (quick: 50). */
  loopClients: number;
  /** Idle streams open during the fan-out scenario. Default 2,000 (quick: 500). */
  idleStreams: number;
  /** Jobs per second of the fan-out scenario, each watched by one stream. Default 300. */
  fanOutRate: number;
  /** Seconds of each closed-loop and fan-out run. Default 20 (quick: 6). */
  baselineDurationSec: number;
  /** Jobs per second submitted in the Redis-memory scenario. Default 200. */
  retainRate: number;
  /** Seconds of submitting in the Redis-memory scenario. Default 60 (quick: 15). */
  retainDurationSec: number;
  /** Scenarios to run. Default all. */
  only: Set<string>;
  /** SSE_HEARTBEAT_MS for the api processes. Default: the api's own default (15 s). */
  sseHeartbeatMs: number | undefined;
  /** Writes api CPU profiles (node --cpu-prof) next to the results. */
  profile: boolean;
  /** Where results go. Default bench/results. */
  outDir: string | undefined;
}

export const SCENARIOS = ['capacity', 'latency', 'throughput', 'polling', 'closedloop', 'fanout', 'redismem', 'replaymem'] as const;

const USAGE = `usage: npm run bench -- [--quick] [--streams 1000,5000,10000,20000] [--duration 30]
  [--latency-streams 10000] [--rates 100,1000,5000] [--jobs 20000] [--watched 5000]
  [--concurrency 50] [--rounds 2] [--watch-jobs 1000] [--clients 2]
  [--loop-clients 200] [--idle-streams 2000] [--fanout-rate 300] [--baseline-duration 20]
  [--retain-rate 200] [--retain-duration 60]
  [--only ${SCENARIOS.join(',')}] [--sse-heartbeat-ms 15000] [--profile] [--out DIR]`;

function list(value: string, name: string): number[] {
  const items = value.split(',').map((v) => Number(v.trim()));
  if (items.length === 0 || items.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error(`${name} needs positive integers, got "${value}"\n${USAGE}`);
  return items;
}

function int(value: string | undefined, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} needs a positive integer, got "${value}"\n${USAGE}`);
  return n;
}

export function parseOptions(argv: string[]): BenchOptions {
  const quick = argv.includes('--quick');
  const options: BenchOptions = {
    quick,
    streams: quick ? [1_000, 5_000] : [1_000, 5_000, 10_000, 20_000],
    durationSec: quick ? 6 : 30,
    latencyStreams: quick ? 2_000 : 10_000,
    rates: [100, 1_000, 5_000],
    throughputJobs: quick ? 10_000 : 20_000,
    throughputWatched: quick ? 1_000 : 5_000,
    concurrency: 50,
    rounds: quick ? 1 : 3,
    watchedJobs: 1_000,
    clients: 2,
    loopClients: quick ? 50 : 200,
    idleStreams: quick ? 500 : 2_000,
    fanOutRate: 300,
    baselineDurationSec: quick ? 6 : 20,
    retainRate: 200,
    retainDurationSec: quick ? 15 : 60,
    only: new Set(SCENARIOS),
    sseHeartbeatMs: undefined,
    profile: false,
    outDir: undefined,
  };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.includes('=') ? (arg.split('=', 2) as [string, string]) : [arg, undefined];
    const value = (): string => inline ?? (argv[++i] as string);
    switch (flag) {
      case '--quick':
        break;
      case '--streams':
        options.streams = list(value(), flag);
        break;
      case '--duration':
        options.durationSec = int(value(), flag);
        break;
      case '--latency-streams':
        options.latencyStreams = int(value(), flag);
        break;
      case '--rates':
        options.rates = list(value(), flag);
        break;
      case '--jobs':
        options.throughputJobs = int(value(), flag);
        break;
      case '--watched':
        options.throughputWatched = int(value(), flag);
        break;
      case '--concurrency':
        options.concurrency = int(value(), flag);
        break;
      case '--rounds':
        options.rounds = int(value(), flag);
        break;
      case '--watch-jobs':
        options.watchedJobs = int(value(), flag);
        break;
      case '--clients':
        options.clients = int(value(), flag);
        break;
      case '--loop-clients':
        options.loopClients = int(value(), flag);
        break;
      case '--idle-streams':
        options.idleStreams = int(value(), flag);
        break;
      case '--fanout-rate':
        options.fanOutRate = int(value(), flag);
        break;
      case '--baseline-duration':
        options.baselineDurationSec = int(value(), flag);
        break;
      case '--retain-rate':
        options.retainRate = int(value(), flag);
        break;
      case '--retain-duration':
        options.retainDurationSec = int(value(), flag);
        break;
      case '--only': {
        const names = value().split(',').map((s) => s.trim());
        for (const n of names) if (!(SCENARIOS as readonly string[]).includes(n)) throw new Error(`unknown scenario "${n}"\n${USAGE}`);
        options.only = new Set(names);
        break;
      }
      case '--sse-heartbeat-ms':
        options.sseHeartbeatMs = int(value(), flag);
        break;
      case '--profile':
        options.profile = true;
        break;
      case '--out':
        options.outDir = value();
        break;
      case '--help':
      case '-h':
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option "${arg}"\n${USAGE}`);
    }
  }
  return options;
}
