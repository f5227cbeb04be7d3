import { join } from 'node:path';
import type { ClientCommand, ClientReply, ClientStats, LatencySamples } from '../load/protocol.js';
import { spawnNode, type Spawned } from './processes.js';
import { repoRoot } from './services.js';

type Payload<C> = C extends { id: number } ? Omit<C, 'id'> : never;

/** One load-client process and its request/reply channel. */
class LoadClient {
  private nextId = 0;
  private readonly pending = new Map<number, (reply: Extract<ClientReply, { type: 'done' }>) => void>();
  fdLimit = NaN;

  constructor(readonly proc: Spawned) {
    proc.child.on('message', (msg: ClientReply) => {
      if (msg.type === 'done') {
        this.pending.get(msg.id)?.(msg);
        this.pending.delete(msg.id);
      }
    });
    void proc.exited.then((code) => {
      for (const resolve of this.pending.values()) resolve({ type: 'done', id: -1, ok: false, error: `client exited (${code})` });
      this.pending.clear();
    });
  }

  request(command: Payload<ClientCommand>, timeoutMs = 600_000): Promise<ClientStats> {
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`load client ${this.proc.pid}: no answer to ${command.type} in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, (reply) => {
        clearTimeout(timer);
        if (!reply.ok || !reply.stats) reject(new Error(`load client ${this.proc.pid}: ${command.type} failed: ${reply.error}`));
        else resolve(reply.stats);
      });
      this.proc.child.send({ ...command, id } as ClientCommand);
    });
  }
}

/** Totals over all load clients. */
export interface PoolStats {
  streamsRequested: number;
  streamsConnected: number;
  streamsFailed: number;
  streamsEnded: number;
  streamsOpen: number;
  terminals: number;
  events: Record<string, number>;
  bytes: number;
  errors: string[];
  samples: LatencySamples;
  poll: { requests: number; errors: number; jobsFinished: number; jobsUnfinished: number; knowLatencies: number[]; running: boolean };
  clientRssBytes: number[];
}

/**
 * The load clients: the streams of a scenario are spread round-robin over a few processes, each
 * started with a raised open-file limit (a Node process cannot raise its own).
 */
export class ClientPool {
  private constructor(private readonly clients: LoadClient[]) {}

  static async start(count: number, runDir: string): Promise<ClientPool> {
    const clients = await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const proc = spawnNode({
          name: `client-${i}`,
          nodeArgs: ['--max-old-space-size=4096', '--import', 'tsx', join(repoRoot, 'bench', 'load', 'client-process.ts')],
          env: {},
          logFile: join(runDir, `client-${i}.log`),
          cwd: repoRoot,
          ipc: true,
        });
        const client = new LoadClient(proc);
        client.fdLimit = await new Promise<number>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`load client ${i} did not start; see ${proc.logFile}`)), 30_000);
          proc.child.on('message', (msg: ClientReply) => {
            if (msg.type === 'ready') {
              clearTimeout(timer);
              resolve(msg.fdLimit);
            }
          });
          void proc.exited.then(() => reject(new Error(`load client ${i} exited; see ${proc.logFile}`)));
        });
        return client;
      }),
    );
    return new ClientPool(clients);
  }

  get fdLimits(): number[] {
    return this.clients.map((c) => c.fdLimit);
  }

  get pids(): number[] {
    return this.clients.map((c) => c.proc.pid);
  }

  private split(jobIds: string[]): string[][] {
    const parts: string[][] = this.clients.map(() => []);
    jobIds.forEach((id, i) => parts[i % parts.length]?.push(id));
    return parts;
  }

  /** Opens one stream per entry of `jobIds` (repeat an id to watch a job several times); resolves when each got `connected` or failed. */
  async open(baseUrl: string, jobIds: string[], concurrency = 64): Promise<PoolStats> {
    const parts = this.split(jobIds);
    await Promise.all(this.clients.map((c, i) => c.request({ type: 'open', baseUrl, jobIds: parts[i] ?? [], concurrency })));
    return this.stats();
  }

  async poll(baseUrl: string, jobIds: string[], intervalMs: number, timeoutMs: number): Promise<void> {
    const parts = this.split(jobIds);
    await Promise.all(this.clients.map((c, i) => c.request({ type: 'poll', baseUrl, jobIds: parts[i] ?? [], intervalMs, timeoutMs })));
  }

  /** Totals; with `samplesSince`, the latency samples of events stamped since then (and how many fell in `window`). */
  async stats(samplesSince?: number, window?: [number, number]): Promise<PoolStats> {
    const all = await Promise.all(
      this.clients.map((c) =>
        c.request({ type: 'stats', ...(samplesSince === undefined ? {} : { samplesSince }), ...(window ? { window } : {}) }),
      ),
    );
    return merge(all);
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.request({ type: 'close-all' })));
  }

  /** Closes everything and forgets all counters. */
  async reset(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.request({ type: 'reset' })));
  }
}

function merge(all: ClientStats[]): PoolStats {
  const out: PoolStats = {
    streamsRequested: 0,
    streamsConnected: 0,
    streamsFailed: 0,
    streamsEnded: 0,
    streamsOpen: 0,
    terminals: 0,
    events: {},
    bytes: 0,
    errors: [],
    samples: { completed: [], other: [], firstEventAt: Infinity, lastReadAt: 0, steadyEvents: 0 },
    poll: { requests: 0, errors: 0, jobsFinished: 0, jobsUnfinished: 0, knowLatencies: [], running: false },
    clientRssBytes: [],
  };
  for (const s of all) {
    out.streamsRequested += s.streamsRequested;
    out.streamsConnected += s.streamsConnected;
    out.streamsFailed += s.streamsFailed;
    out.streamsEnded += s.streamsEnded;
    out.streamsOpen += s.streamsOpen;
    out.terminals += s.terminals;
    out.bytes += s.bytes;
    out.errors.push(...s.errors);
    for (const [name, n] of Object.entries(s.events)) out.events[name] = (out.events[name] ?? 0) + n;
    if (s.samples) {
      for (const v of s.samples.completed) out.samples.completed.push(v);
      for (const v of s.samples.other) out.samples.other.push(v);
      if (s.samples.firstEventAt > 0) out.samples.firstEventAt = Math.min(out.samples.firstEventAt, s.samples.firstEventAt);
      out.samples.lastReadAt = Math.max(out.samples.lastReadAt, s.samples.lastReadAt);
      out.samples.steadyEvents += s.samples.steadyEvents;
    }
    out.poll.requests += s.poll.requests;
    out.poll.errors += s.poll.errors;
    out.poll.jobsFinished += s.poll.jobsFinished;
    out.poll.jobsUnfinished += s.poll.jobsUnfinished;
    for (const v of s.poll.knowLatencies) out.poll.knowLatencies.push(v);
    out.poll.running ||= s.poll.running;
    out.clientRssBytes.push(s.rssBytes);
  }
  if (!Number.isFinite(out.samples.firstEventAt)) out.samples.firstEventAt = 0;
  return out;
}

/** Sum of lifecycle events (those with an id) in a stats snapshot. */
export function lifecycleEventCount(stats: PoolStats): number {
  let n = 0;
  for (const [name, count] of Object.entries(stats.events)) {
    if (name !== 'connected' && name !== 'heartbeat' && name !== 'reset') n += count;
  }
  return n;
}
