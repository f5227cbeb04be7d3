import { join } from 'node:path';
import type { LoopCommand, LoopReply, LoopStats } from './closed-loop-client.js';
import { spawnNode, type Spawned } from './processes.js';
import { repoRoot } from './services.js';

type Payload<C> = C extends { id: number } ? Omit<C, 'id'> : never;

/** One closed-loop process and its request/reply channel. */
class LoopProcess {
  private nextId = 0;
  private readonly pending = new Map<number, (reply: Extract<LoopReply, { type: 'done' }>) => void>();

  constructor(readonly proc: Spawned) {
    proc.child.on('message', (msg: LoopReply) => {
      if (msg.type !== 'done') return;
      this.pending.get(msg.id)?.(msg);
      this.pending.delete(msg.id);
    });
    void proc.exited.then((code) => {
      const stats: LoopStats = { jobs: 0, failures: 0, errors: [] };
      for (const resolve of this.pending.values()) resolve({ type: 'done', id: -1, ok: false, error: `loop process exited (${code})`, stats });
      this.pending.clear();
    });
  }

  request(command: Payload<LoopCommand>, timeoutMs = 60_000): Promise<LoopStats> {
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`loop process ${this.proc.pid}: no answer to ${command.type} in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, (reply) => {
        clearTimeout(timer);
        if (!reply.ok) reject(new Error(`loop process ${this.proc.pid}: ${command.type} failed: ${reply.error}`));
        else resolve(reply.stats);
      });
      this.proc.child.send({ ...command, id } as LoopCommand);
    });
  }
}

/**
 * The closed-loop clients of a scenario, spread over a few processes (bench/lib/closed-loop-client.ts)
 * so that the clients' own CPU is not one core's worth at most.
 */
export class ClosedLoopPool {
  private constructor(private readonly procs: LoopProcess[]) {}

  static async start(count: number, runDir: string): Promise<ClosedLoopPool> {
    const procs = await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const proc = spawnNode({
          name: `loop-${i}`,
          nodeArgs: ['--import', 'tsx', join(repoRoot, 'bench', 'lib', 'closed-loop-client.ts')],
          env: {},
          logFile: join(runDir, `loop-${i}.log`),
          cwd: repoRoot,
          ipc: true,
        });
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`loop process ${i} did not start; see ${proc.logFile}`)), 30_000);
          proc.child.on('message', (msg: LoopReply) => {
            if (msg.type !== 'ready') return;
            clearTimeout(timer);
            resolve();
          });
          void proc.exited.then(() => reject(new Error(`loop process ${i} exited; see ${proc.logFile}`)));
        });
        return new LoopProcess(proc);
      }),
    );
    return new ClosedLoopPool(procs);
  }

  get pids(): number[] {
    return this.procs.map((p) => p.proc.pid);
  }

  /** Starts `loops` loops against `baseUrl`, spread evenly over the processes. */
  async run(baseUrl: string, loops: number, jobDurationMs = 0): Promise<void> {
    await Promise.all(
      this.procs.map((p, i) => {
        const share = Math.floor(loops / this.procs.length) + (i < loops % this.procs.length ? 1 : 0);
        return p.request({ type: 'start', baseUrl, loops: share, jobDurationMs });
      }),
    );
  }

  /** Totals since `run`; with `window`, the round trips of the jobs finished within it. */
  async stats(window?: [number, number]): Promise<LoopStats> {
    return merge(await Promise.all(this.procs.map((p) => p.request({ type: 'stats', ...(window ? { window } : {}) }))));
  }

  /** Ends every loop (requests in flight are cut off) and returns the totals. */
  async halt(): Promise<LoopStats> {
    return merge(await Promise.all(this.procs.map((p) => p.request({ type: 'stop' }))));
  }

  async close(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.proc.stop(2_000)));
  }
}

function merge(all: LoopStats[]): LoopStats {
  const out: LoopStats = { jobs: 0, failures: 0, errors: [] };
  for (const s of all) {
    out.jobs += s.jobs;
    out.failures += s.failures;
    out.errors.push(...s.errors);
    if (s.roundTripMs) (out.roundTripMs ??= []).push(...s.roundTripMs);
  }
  return out;
}
