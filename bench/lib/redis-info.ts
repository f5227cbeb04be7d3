import { Redis } from 'ioredis';
import { round } from './stats.js';

/** Calls per command since the server started (`INFO commandstats`), e.g. `evalsha`, `xadd`, `client|setname`. */
export type CommandCalls = Map<string, number>;

async function info(url: string, section: string): Promise<string> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    return await client.info(section);
  } finally {
    client.disconnect();
  }
}

/**
 * Redis counts every command it runs, those a Lua script calls included (and the EVALSHA that ran
 * the script), so the totals are the server's real work, not the round trips of its clients.
 */
export async function readCommandCalls(url: string): Promise<CommandCalls> {
  const calls: CommandCalls = new Map();
  for (const line of (await info(url, 'commandstats')).split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (match) calls.set(match[1] as string, Number(match[2]));
  }
  return calls;
}

export interface CommandsPerJob {
  /** Every command Redis ran between the two readings, per job. */
  total: number;
  /** The commands with the most calls per job, most first. */
  top: { command: string; perJob: number }[];
}

/** The difference of two readings per job; the bench's own INFO calls are left out. */
export function commandsPerJob(before: CommandCalls, after: CommandCalls, jobs: number, top = 10): CommandsPerJob {
  const per: { command: string; perJob: number }[] = [];
  let total = 0;
  for (const [command, calls] of after) {
    if (command === 'info') continue;
    const delta = calls - (before.get(command) ?? 0);
    if (delta <= 0) continue;
    total += delta;
    per.push({ command, perJob: delta / Math.max(1, jobs) });
  }
  per.sort((a, b) => b.perJob - a.perJob);
  return {
    total: round(total / Math.max(1, jobs), 1),
    top: per.slice(0, top).map((c) => ({ command: c.command, perJob: round(c.perJob, 2) })),
  };
}

/** `used_memory` (bytes the allocator holds for data, buffers and overhead) and the number of keys. */
export async function readMemory(url: string): Promise<{ usedBytes: number; keys: number }> {
  const [memory, keyspace] = await Promise.all([info(url, 'memory'), info(url, 'keyspace')]);
  const used = /^used_memory:(\d+)/m.exec(memory);
  let keys = 0;
  for (const match of keyspace.matchAll(/^db\d+:keys=(\d+)/gm)) keys += Number(match[1]);
  return { usedBytes: Number(used?.[1] ?? NaN), keys };
}
