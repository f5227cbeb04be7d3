import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './helpers';

/**
 * The sizing figures in deploy/README.md and in base/api.yaml's resources comment are quotes of
 * bench/results/full.json (`npm run bench`, full mode): after a new run, this names every figure
 * that no longer matches.
 */
interface Full {
  capacity: { streams: number; rssMiB: number; rssPerStreamKB: number; heapPerStreamKB: number; allDelivered: boolean }[];
  latency: { targetRate: number; streams: number; completed: { p50: number; p95: number; p99: number }; lostStreams: number }[];
  cpuPerEvent: { rate: number; apiCpuUsPerEvent: number }[];
  throughput: { watched: number; runs: { kind: string; jobsPerSec: number }[] };
}

const full = JSON.parse(readFileSync(join(repoRoot, 'bench', 'results', 'full.json'), 'utf8')) as Full;
const deployReadme = readFileSync(join(repoRoot, 'deploy', 'README.md'), 'utf8');
const sizing = deployReadme.slice(deployReadme.indexOf('## Sizing'), deployReadme.indexOf('\n## ', deployReadme.indexOf('## Sizing') + 1));
const apiYaml = readFileSync(join(repoRoot, 'deploy', 'k8s', 'base', 'api.yaml'), 'utf8');

const n = (value: number) => Math.round(value).toLocaleString('en-US');
const streams = (count: number) => {
  const row = full.capacity.find((c) => c.streams === count || (count === 20_000 && c.streams > 19_000));
  if (!row) throw new Error(`bench/results/full.json has no capacity row for ${count} streams`);
  return row;
};
const mean = (kind: string) => {
  const runs = full.throughput.runs.filter((r) => r.kind === kind);
  return runs.reduce((sum, r) => sum + r.jobsPerSec, 0) / runs.length;
};
const range = (values: number[]) => `${n(Math.min(...values))}–${n(Math.max(...values))}`;

describe('deploy/README.md sizing', () => {
  it('quotes bench/results/full.md', () => {
    expect(sizing).toContain('Numbers from `bench/results/full.md`');
  });

  it('gives the stream capacity of the full run', () => {
    const [s5, s10, s20] = [streams(5_000), streams(10_000), streams(20_000)];
    expect(sizing).toContain(`${n(s5.streams)} streams: ${n(s5.rssMiB)} MiB RSS; ${n(s10.streams)}: ${n(s10.rssMiB)} MiB; ${n(s20.streams)}: ${n(s20.rssMiB)} MiB`);
    const perStream = `${range(full.capacity.map((c) => c.rssPerStreamKB))} KB RSS, ${range(full.capacity.map((c) => c.heapPerStreamKB))} KB heap per stream`;
    expect(sizing).toContain(perStream);
    expect(full.capacity.every((c) => c.allDelivered)).toBe(true);
    expect(sizing).toContain('every stream got its `completed`');
  });

  it('gives the api CPU per event and the event rate the HPA target allows', () => {
    const [at1k, at5k] = [1_000, 5_000].map((rate) => full.cpuPerEvent.find((c) => c.rate === rate)?.apiCpuUsPerEvent ?? NaN) as [number, number];
    expect(sizing).toContain(`${n(at1k)} µs at 1,000 events/s, ${n(at5k)} µs at 5,000 events/s`);
    // 70 % of a 250m request is 175 ms of CPU per second.
    expect(sizing).toContain(`about ${n(Math.round(175_000 / at1k / 100) * 100)} events/s per replica`);
  });

  it('gives the delivery latency at 1,000 events/s', () => {
    const row = full.latency.find((l) => l.targetRate === 1_000);
    if (!row) throw new Error('bench/results/full.json has no latency row at 1,000 events/s');
    const { p50, p95, p99 } = row.completed;
    expect(sizing).toContain(`p50 / p95 / p99 of ${p50} / ${p95} / ${p99} ms at 1,000 events/s over ${n(row.streams)} open streams; ${row.lostStreams} lost`);
  });

  it('gives the job throughput, mean of the rounds', () => {
    expect(sizing).toContain(`one worker alone (relay off): ${n(mean('worker-only'))} no-op jobs/s`);
    expect(sizing).toContain(`the whole pipeline with events relayed and ${n(full.throughput.watched)} watched: ${n(mean('jobstream'))} jobs/s`);
    expect(sizing).toContain(`past ~${n(Math.round(mean('jobstream') / 100) * 100)} jobs/s`);
  });

  it('matches the memory comment of base/api.yaml', () => {
    expect(apiYaml).toContain(`# Measured (bench/results/full.md): 5,000 open streams ~${n(streams(5_000).rssMiB)} MiB RSS, 10,000 ~${n(streams(10_000).rssMiB)} MiB.`);
  });
});
