import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** User plus system CPU time a process has used so far, in microseconds (from /proc/<pid>/stat, 10 ms steps). */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces; the fields after it are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1_000_000) / clockTicks();
}

/** Resident set size of a process, in bytes (from /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) * 1024 : NaN;
}

/** CPU used by several processes between two points in time. */
export class CpuMeter {
  private readonly start: Map<number, number>;
  private readonly startedAt = process.hrtime.bigint();

  constructor(private readonly pids: Record<string, number>) {
    this.start = new Map(Object.values(pids).map((pid) => [pid, cpuMicros(pid)]));
  }

  /** CPU microseconds per named process since construction, and the wall time in ms. */
  read(): { wallMs: number; cpuUs: Record<string, number> } {
    const cpuUs: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.pids)) cpuUs[name] = cpuMicros(pid) - (this.start.get(pid) ?? 0);
    return { wallMs: Number(process.hrtime.bigint() - this.startedAt) / 1e6, cpuUs };
  }
}
