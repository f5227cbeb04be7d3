import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Node cannot call setrlimit, so every process that holds many sockets is started through bash,
 * which raises its own soft limit (to 1,048,576, or else to the hard limit) and then execs node:
 * the child keeps bash's pid and the raised limit.
 */
const RAISE_FD_LIMIT = 'ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"';

/** The open-file limit this bench asks for. */
export const WANTED_FD_LIMIT = 1_048_576;

export interface Spawned {
  name: string;
  child: ChildProcess;
  pid: number;
  logFile: string;
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<Spawned>();

export interface SpawnOptions {
  name: string;
  /** argv after `node` (flags, script, args). */
  nodeArgs: string[];
  env: Record<string, string>;
  logFile: string;
  cwd: string;
  /** Adds the IPC channel (fd 3). */
  ipc?: boolean;
}

/** Starts `node <nodeArgs>` with a raised open-file limit, stdout and stderr appended to `logFile`. */
export function spawnNode(options: SpawnOptions): Spawned {
  const out = openSync(options.logFile, 'a');
  const child = spawn('bash', ['-c', RAISE_FD_LIMIT, process.execPath, ...options.nodeArgs], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', out, out, ...(options.ipc ? (['ipc'] as const) : [])],
  });
  closeSync(out);
  return track(options.name, child, options.logFile);
}

/** Starts any program, output appended to `logFile`. */
export function spawnProgram(name: string, command: string, args: string[], logFile: string): Spawned {
  const out = openSync(logFile, 'a');
  const child = spawn(command, args, { stdio: ['ignore', out, out] });
  closeSync(out);
  return track(name, child, logFile);
}

function track(name: string, child: ChildProcess, logFile: string): Spawned {
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', () => resolve(null));
  });
  const spawned: Spawned = {
    name,
    child,
    pid: child.pid,
    logFile,
    exited,
    async stop(graceMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      running.delete(spawned);
    },
  };
  running.add(spawned);
  void exited.then(() => running.delete(spawned));
  return spawned;
}

/** Waits until `pattern` appears in the process's log, failing early if it exits. */
export async function waitForLog(spawned: Spawned, pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void spawned.exited.then((code) => (exitCode = code));
  for (;;) {
    const text = readFileSync(spawned.logFile, 'utf8');
    const match = pattern.exec(text);
    if (match) return match;
    if (exitCode !== undefined) throw new Error(`${spawned.name} exited (${exitCode}) before it was ready; see ${spawned.logFile}`);
    if (Date.now() > deadline) throw new Error(`${spawned.name} not ready after ${timeoutMs} ms; see ${spawned.logFile}`);
    await sleep(50);
  }
}

/** Stops every process this bench started, in reverse order of starting. */
export async function stopAll(): Promise<void> {
  await Promise.allSettled([...running].reverse().map((p) => p.stop(5_000)));
}

/** Last resort on exit: SIGKILL whatever is still running (synchronous). */
export function killAllNow(): void {
  for (const p of running) {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  }
}

/** The soft open-file limit of a running process, from /proc. */
export function fdLimitOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  return Number(line?.split(/\s+/)[3] ?? NaN);
}
