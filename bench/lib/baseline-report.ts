import type { ClosedLoopResult } from '../scenarios/closed-loop.js';
import type { FanOutResult } from '../scenarios/fan-out.js';
import { SAMPLE_JOBS, type RedisMemoryResult } from '../scenarios/redis-memory.js';
import type { CpuPerJob } from './designs.js';
import type { CommandsPerJob } from './redis-info.js';
import type { Percentiles } from './stats.js';
import { round } from './stats.js';

/** What the scenarios against the hand-built design add to the results. */
export interface BaselineResults {
  closedLoop?: ClosedLoopResult;
  fanOut?: FanOutResult;
  redisMemory?: RedisMemoryResult;
}

const n = (v: number): string => (Number.isFinite(v) ? v.toLocaleString('en-US') : '–');
const pct = (p: Percentiles): string => (p.n === 0 ? '–' : `${p.p50} / ${p.p95} / ${p.p99}`);
const cpu = (c: CpuPerJob): string => `${n(c.api)} / ${n(c.worker)} / ${n(c.redis)} (${n(c.total)})`;
const top = (c: CommandsPerJob): string => c.top.slice(0, 5).map((t) => `${t.command} ${t.perJob}`).join(', ');

function table(head: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]): string => `| ${cells.map(String).join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Sections 6-8 of the markdown table: jobstream next to the hand-built design. */
export function baselineMarkdown(r: BaselineResults): string[] {
  const out: string[] = [];
  if (r.closedLoop) {
    const c = r.closedLoop;
    out.push(
      `### 6. Closed loop against the hand-built design: ${n(c.clients)} clients, each submitting a 0 ms job and reading its stream to the outcome, ${c.durationSec} s per run, worker concurrency ${c.concurrency}`,
    );
    out.push('');
    out.push(
      table(
        ['run', 'jobs/s', 'round trip, ms p50 / p95 / p99', 'CPU / job, µs: api / worker / Redis (all)', 'Redis commands / job', 'most frequent (per job)', 'failures'],
        c.runs.map((run) => [
          `${run.design} (round ${run.round})`,
          n(run.jobsPerSec),
          pct(run.roundTrip),
          cpu(run.cpuUsPerJob),
          run.redisCommands.total,
          top(run.redisCommands),
          n(run.failures),
        ]),
      ),
    );
    out.push('');
    out.push(
      `jobstream / hand-built (means of rounds): jobs/s **${c.ratio.jobsPerSec}** (${n(c.jobstream.jobsPerSec)} vs ${n(c.handbuilt.jobsPerSec)}), ` +
        `CPU per job: api ${c.ratio.apiCpu}, worker ${c.ratio.workerCpu}, all three ${c.ratio.totalCpu}; Redis commands per job ${c.ratio.redisCommands} ` +
        `(${c.jobstream.redisCommandsPerJob} vs ${c.handbuilt.redisCommandsPerJob}).`,
    );
    out.push('');
  }
  if (r.fanOut) {
    const f = r.fanOut;
    out.push(
      `### 7. Fan-out against the hand-built design: ${n(f.idleStreams)} idle streams open, ${n(f.targetRate)} jobs/s for ${f.durationSec} s, one stream watching each job`,
    );
    out.push('');
    out.push(
      table(
        [
          'run',
          'jobs/s',
          '`completed`, ms p50 / p95 / p99',
          'all live events',
          'CPU / job, µs: api / worker / Redis (all)',
          'Redis commands / job',
          'api RSS / heap per idle stream',
          'lost',
        ],
        f.runs.map((run) => [
          `${run.design} (round ${run.round})`,
          n(run.jobsPerSec),
          pct(run.completed),
          pct(run.allEvents),
          cpu(run.cpuUsPerJob),
          run.redisCommands.total,
          `${run.rssPerIdleStreamKB} / ${run.heapPerIdleStreamKB} KB`,
          n(run.lost),
        ]),
      ),
    );
    out.push('');
  }
  if (r.redisMemory) {
    const m = r.redisMemory;
    out.push(`### 8. Redis memory per retained job: ${n(m.rate)} jobs/s for ${m.durationSec} s through each api, unwatched, all kept`);
    out.push('');
    out.push(
      table(
        ['design', 'jobs', '`used_memory` before → after', 'bytes / job', 'of which capped streams', 'keys / job', 'job hash', 'packed history (streams left)'],
        m.runs.map((run) => [
          run.design,
          n(run.jobs),
          `${run.usedBeforeMiB} → ${run.usedAfterMiB} MiB`,
          n(run.bytesPerJob),
          n(run.cappedBytesPerJob),
          run.keysPerJob,
          `${n(run.jobHashBytes)} B`,
          run.historyBytes === undefined ? '–' : `${n(run.historyBytes)} B (${run.historyStreams ?? 0} of ${SAMPLE_JOBS})`,
        ]),
      ),
    );
    out.push('');
    out.push(`jobstream / hand-built bytes per job: **${round(m.ratio, 2)}**; without the capped streams' growth (what every retained job keeps once they are full): **${round(m.retainedRatio, 2)}**.`);
    out.push('');
  }
  return out;
}
