import type { CapacityResult } from '../scenarios/capacity.js';
import type { LatencyResult } from '../scenarios/latency.js';
import type { PollingResult, WatchSide } from '../scenarios/polling.js';
import type { ThroughputResult } from '../scenarios/throughput.js';
import { baselineMarkdown, type BaselineResults } from './baseline-report.js';
import type { Percentiles } from './stats.js';
import { round } from './stats.js';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  redis: string;
  /** 1-minute load average when the run started and ended: anything well above what the bench itself adds means other processes shared the machine. */
  loadAverage: { start: number; end: number };
}

export interface FdLimitInfo {
  wanted: number;
  api?: number;
  worker?: number;
  clients: number[];
  raised: boolean;
  note: string;
}

export interface Target {
  name: string;
  target: string;
  measured: string;
  met: boolean | null;
}

export interface BenchResults extends BaselineResults {
  mode: 'quick' | 'full';
  date: string;
  durationSec: number;
  machine: MachineInfo;
  fdLimit: FdLimitInfo;
  settings: Record<string, unknown>;
  capacity?: CapacityResult[];
  latency?: LatencyResult[];
  throughput?: ThroughputResult;
  polling?: PollingResult;
  /** Scenario 5, taken from the latency phases. */
  cpuPerEvent?: {
    rate: number;
    achievedRate: number;
    apiCpuUsPerEvent: number;
    apiCpuUsPerMessage: number;
    delivered: number;
    heartbeats: number;
  }[];
  targets: Target[];
  errors: string[];
}

const n = (v: number): string => (Number.isFinite(v) ? v.toLocaleString('en-US') : '–');
const pct = (p: Percentiles): string => (p.n === 0 ? '–' : `${p.p50} / ${p.p95} / ${p.p99}`);
const mib = (bytes: number): string => `${round(bytes / 1024 / 1024, 2)} MiB`;

function table(head: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]): string => `| ${cells.map(String).join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Evaluates the issue's targets against what was measured. */
export function evaluateTargets(r: BenchResults): Target[] {
  const targets: Target[] = [];
  if (r.capacity?.length) {
    const best = [...r.capacity].sort((a, b) => b.streams - a.streams)[0] as CapacityResult;
    const ok = best.streams >= 20_000 && best.allDelivered && best.rssPerStreamKB < 12;
    targets.push({
      name: 'Streams per api process',
      target: '≥ 20,000 at < 12 KB each, all delivered',
      measured:
        `${n(best.streams)} streams, ${best.rssPerStreamKB} KB RSS (${best.heapPerStreamKB} KB heap) each, ` +
        `${best.allDelivered ? 'all' : n(best.terminalsDelivered)} delivered${best.limitedBy ? `; capped by ${best.limitedBy}` : ''}`,
      met: ok ? true : best.limitedBy && best.allDelivered && best.rssPerStreamKB < 12 ? null : false,
    });
  }
  const at1000 = r.latency?.find((l) => l.targetRate === 1_000);
  if (at1000) {
    targets.push({
      name: 'Delivery latency at 1,000 events/s',
      target: 'p99 < 25 ms',
      measured: `p99 ${at1000.completed.p99} ms (completed), ${at1000.allEvents.p99} ms (all events), ${n(at1000.streams)} streams`,
      met: at1000.completed.p99 < 25,
    });
  }
  if (r.throughput) {
    targets.push({
      name: 'Throughput vs raw BullMQ',
      target: '≥ 0.85 of raw',
      measured: `${r.throughput.ratio} (${n(r.throughput.jobstreamJobsPerSec)} vs ${n(r.throughput.rawJobsPerSec)} jobs/s)`,
      met: r.throughput.ratio >= 0.85,
    });
  }
  const at5000 = r.cpuPerEvent?.find((c) => c.rate === 5_000);
  if (at5000) {
    targets.push({
      name: 'api CPU per delivered event at 5,000 events/s',
      target: '≤ 15 µs',
      measured: `${at5000.apiCpuUsPerEvent} µs (${n(at5000.achievedRate)} events/s reached)`,
      met: at5000.apiCpuUsPerEvent <= 15,
    });
  }
  targets.push(...baselineTargets(r));
  return targets;
}

/** The targets measured against the hand-built design (scenarios 6-8), from the same run. */
function baselineTargets(r: BenchResults): Target[] {
  const targets: Target[] = [];
  if (r.closedLoop) {
    const { jobstream, handbuilt, ratio } = r.closedLoop;
    targets.push({
      name: 'Closed loop vs the hand-built design',
      target: '≥ 1.0× its jobs/s',
      measured: `${ratio.jobsPerSec}× (${n(jobstream.jobsPerSec)} vs ${n(handbuilt.jobsPerSec)} jobs/s)`,
      met: ratio.jobsPerSec >= 1,
    });
  }
  if (r.fanOut?.runs.length) {
    const p99 = (design: 'jobstream' | 'handbuilt'): number => {
      const runs = r.fanOut?.runs.filter((run) => run.design === design) ?? [];
      return Math.max(...runs.map((run) => run.completed.p99));
    };
    targets.push({
      name: 'Fan-out delivery p99 vs the hand-built design',
      target: '≤ its p99 + 5 ms',
      measured: `worst round ${p99('jobstream')} ms vs ${p99('handbuilt')} ms (${n(r.fanOut.idleStreams)} idle streams)`,
      met: p99('jobstream') <= p99('handbuilt') + 5,
    });
  }
  if (r.redisMemory) {
    targets.push({
      name: 'Redis memory per retained job vs the hand-built design',
      target: '≤ 1.5×',
      measured: `${r.redisMemory.ratio}× (${r.redisMemory.retainedRatio}× without the capped streams)`,
      met: r.redisMemory.ratio <= 1.5,
    });
  }
  return targets;
}

function watchRow(name: string, s: WatchSide): (string | number)[] {
  const know = s.timeToKnow.n ? `${s.timeToKnow.p50} / ${s.timeToKnow.p95}` : '–';
  return [name, n(s.requests), mib(s.bytes), `${n(s.apiCpuMs)} ms`, `${n(s.redisCpuMs)} ms`, n(s.jobsKnown), know];
}

/** The results as markdown: printed to stdout and written to latest.md (the README quotes it). */
export function toMarkdown(r: BenchResults): string {
  const m = r.machine;
  const out: string[] = [];
  out.push(`## jobstream bench (${r.mode}), ${r.date.slice(0, 10)}`);
  out.push('');
  out.push(
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}; Node ${m.node}; Redis ${m.redis}. ` +
      `Redis, the api (one process), the worker and the load clients all share these cores. Run took ${Math.round(r.durationSec)} s; ` +
      `1-minute load average ${m.loadAverage.start} at the start, ${m.loadAverage.end} at the end.`,
  );
  out.push(`Open-file limit: ${r.fdLimit.note}`);
  out.push('');

  if (r.capacity?.length) {
    out.push('### 1. Stream capacity (one api process, idle streams, one job per stream)');
    out.push('');
    out.push(
      table(
        [
          'streams',
          'connected',
          'RSS / stream',
          'heap used / stream',
          'bare node:http RSS / heap per stream',
          'api RSS (base → loaded)',
          'api heap (base → loaded)',
          'got `completed`',
          'open / drain',
        ],
        r.capacity.map((c) => [
          `${n(c.streams)}${c.limitedBy ? ` (of ${n(c.requested)}, ${c.limitedBy})` : ''}`,
          n(c.connected),
          `${c.rssPerStreamKB} KB`,
          `${c.heapPerStreamKB} KB`,
          `${c.baseline.rssPerStreamKB} / ${c.baseline.heapPerStreamKB} KB`,
          `${c.rssBaseMiB} → ${c.rssMiB} MiB`,
          `${c.heapBaseMiB} → ${c.heapMiB} MiB`,
          `${n(c.terminalsDelivered)}${c.allDelivered ? ' (all)' : ' (MISSING)'}`,
          `${c.openSec} s / ${c.drainSec} s`,
        ]),
      ),
    );
    out.push('');
  }

  if (r.latency?.length) {
    out.push('### 2. Delivery latency (worker writes the event → client reads it), ms, p50 / p95 / p99');
    out.push('');
    out.push(
      table(
        ['target events/s', 'measured events/s', 'open streams (receiving)', '`completed`', 'all lifecycle events', 'samples', 'lost'],
        r.latency.map((l) => [
          n(l.targetRate),
          n(l.achievedRate),
          `${n(l.streams)} (${n(l.activeStreams)})`,
          pct(l.completed),
          pct(l.allEvents),
          `${n(l.completed.n)} / ${n(l.allEvents.n)}`,
          n(l.lostStreams),
        ]),
      ),
    );
    out.push('');
  }

  if (r.throughput) {
    const t = r.throughput;
    out.push(`### 3. Throughput: ${n(t.jobs)} no-op jobs, concurrency ${t.concurrency}, ${n(t.watched)} jobs watched over SSE on the jobstream side`);
    out.push('');
    out.push(
      table(
        ['run', 'jobs/s', 'seconds', 'worker CPU', 'api CPU', 'Redis CPU', 'CPU / job (all three)'],
        t.runs.map((run) => [
          `${run.kind} (round ${run.round})`,
          n(run.jobsPerSec),
          run.seconds,
          `${n(run.workerCpuMs)} ms`,
          run.apiCpuMs === undefined ? '–' : `${n(run.apiCpuMs)} ms`,
          `${n(run.redisCpuMs)} ms`,
          `${n(run.cpuUsPerJob)} µs`,
        ]),
      ),
    );
    out.push('');
    out.push(
      `jobstream / raw BullMQ: **${t.ratio}** (${n(t.jobstreamJobsPerSec)} vs ${n(t.rawJobsPerSec)} jobs/s, mean of rounds); ` +
        `jobstream's worker alone (relay off, no api): ${n(t.workerOnlyJobsPerSec)} jobs/s.`,
    );
    out.push('');
  }

  if (r.polling) {
    const p = r.polling;
    out.push(
      `### 4. Polling every ${p.pollIntervalMs / 1000} s vs SSE: ${n(p.jobs)} watched jobs (${p.jobDurationMs[0] / 1000}–${p.jobDurationMs[1] / 1000} s each, ${p.progressSteps} progress steps)`,
    );
    out.push('');
    out.push(table(['watchers', 'requests', 'bytes', 'api CPU', 'Redis CPU', 'jobs known', 'completion → client knows, ms p50 / p95'], [watchRow('polling', p.polling), watchRow('SSE', p.sse)]));
    out.push('');
  }

  if (r.cpuPerEvent?.length) {
    out.push('### 5. api CPU per delivered event (latency phases: api CPU time / messages written)');
    out.push('');
    out.push(
      table(
        ['events/s', 'events delivered', 'heartbeats written', 'µs / event', 'µs / message (events + heartbeats)'],
        r.cpuPerEvent.map((c) => [n(c.achievedRate), n(c.delivered), n(c.heartbeats), c.apiCpuUsPerEvent, c.apiCpuUsPerMessage]),
      ),
    );
    out.push('');
  }

  out.push(...baselineMarkdown(r));

  if (r.targets.length) {
    out.push('### Targets');
    out.push('');
    out.push(table(['target', 'goal', 'measured', 'met'], r.targets.map((t) => [t.name, t.target, t.measured, t.met === null ? 'not measurable here' : t.met ? 'yes' : '**no**'])));
    out.push('');
  }
  if (r.errors.length) {
    out.push('### Errors');
    out.push('');
    for (const e of r.errors) out.push(`- ${e}`);
    out.push('');
  }
  return out.join('\n');
}
