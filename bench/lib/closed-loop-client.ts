/**
 * A closed-loop load process, driven by the runner over IPC (bench/lib/closed-loop-pool.ts): each of
 * its loops submits a `demo.work` job (`POST /api/jobs`), opens the job's stream and reads it until
 * the stream ends after the outcome, then starts over. It speaks to both designs the same way: the
 * bearer token jobstream checks is sent to the hand-built api too, which ignores it.
 *
 * Each loop has one keep-alive connection for both requests, as one browser tab would.
 */
import { Agent, request, type IncomingMessage } from 'node:http';
import { createSseParser } from '../load/sse-parser.js';
import { benchAuthorization } from './auth.js';

/** Runner → loop process. */
export type LoopCommand =
  | { type: 'start'; id: number; baseUrl: string; loops: number; jobDurationMs: number }
  | { type: 'stats'; id: number; window?: [number, number] }
  | { type: 'stop'; id: number };

export interface LoopStats {
  /** Jobs whose stream ended after the outcome (a `completed`/`failed` event, or a finished job in `connected`). */
  jobs: number;
  failures: number;
  errors: string[];
  /** With a window: POST sent → outcome read, ms, of the jobs finished within it. */
  roundTripMs?: number[];
}

/** Loop process → runner. */
export type LoopReply = { type: 'ready' } | { type: 'done'; id: number; ok: boolean; error?: string; stats: LoopStats };

/** A stream that neither ends nor delivers the outcome in this long counts as a failure, so its loop goes on. */
const STREAM_TIMEOUT_MS = 30_000;
const FINISHED_STATE = /"state":"(completed|failed)"/;

let authorization = '';
const signedIn = benchAuthorization().then((value) => {
  authorization = value;
});

/** Bumped by every start and stop: a loop of an earlier run ends instead of going on with the next. */
let generation = 0;
let running = false;
let agents: Agent[] = [];
let jobs = 0;
let failures = 0;
let errors: string[] = [];
/** Flat pairs [finishedAtMs, roundTripMs]. */
let samples: number[] = [];

function fail(message: string): void {
  failures += 1;
  if (errors.length < 20) errors.push(message);
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (body += chunk));
    res.on('end', () => resolve(body));
    res.on('error', reject);
  });
}

function submit(baseUrl: string, agent: Agent, jobDurationMs: number): Promise<string> {
  const body = JSON.stringify({ type: 'demo.work', payload: { durationMs: jobDurationMs } });
  return new Promise((resolve, reject) => {
    const req = request(
      `${baseUrl}/api/jobs`,
      { method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Authorization: authorization } },
      (res) => {
        readBody(res).then((text) => {
          if (res.statusCode !== 202) return reject(new Error(`POST /api/jobs: HTTP ${res.statusCode} ${text.slice(0, 200)}`));
          const jobId = (JSON.parse(text) as { jobId?: unknown }).jobId;
          if (typeof jobId !== 'string') return reject(new Error(`POST /api/jobs: no jobId in ${text.slice(0, 200)}`));
          resolve(jobId);
        }, reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Reads the job's stream until it ends; resolves whether the outcome was seen. */
function watch(baseUrl: string, agent: Agent, jobId: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    let outcome = false;
    const req = request(`${baseUrl}/api/jobs/${jobId}/events`, { agent, headers: { Accept: 'text/event-stream', Authorization: authorization } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`stream of ${jobId}: HTTP ${res.statusCode}`));
        return;
      }
      res.setEncoding('utf8');
      const parse = createSseParser((message) => {
        if (message.event === 'completed' || message.event === 'failed') outcome = true;
        else if (message.event === 'connected' && FINISHED_STATE.test(message.data)) outcome = true;
      });
      res.on('data', parse);
      res.on('end', () => {
        clearTimeout(timer);
        resolve(outcome);
      });
      res.on('error', reject);
    });
    // A deadline, not an idle timeout: heartbeats would keep a stuck stream from ever going idle.
    const timer = setTimeout(() => req.destroy(new Error(`stream of ${jobId}: no end in ${STREAM_TIMEOUT_MS} ms`)), STREAM_TIMEOUT_MS);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end();
  });
}

async function loop(baseUrl: string, agent: Agent, jobDurationMs: number): Promise<void> {
  const mine = generation;
  const live = (): boolean => running && generation === mine;
  while (live()) {
    const startedAt = Date.now();
    try {
      const jobId = await submit(baseUrl, agent, jobDurationMs);
      const outcome = await watch(baseUrl, agent, jobId);
      if (!live()) return;
      if (!outcome) {
        fail(`stream of ${jobId} ended without the outcome`);
        continue;
      }
      const now = Date.now();
      jobs += 1;
      samples.push(now, now - startedAt);
    } catch (err) {
      if (live()) fail(err instanceof Error ? err.message : String(err));
    }
  }
}

function stats(window?: [number, number]): LoopStats {
  const out: LoopStats = { jobs, failures, errors: [...errors] };
  if (window) {
    out.roundTripMs = [];
    for (let i = 0; i + 1 < samples.length; i += 2) {
      const at = samples[i] as number;
      if (at >= window[0] && at < window[1]) out.roundTripMs.push(samples[i + 1] as number);
    }
  }
  return out;
}

function handle(command: LoopCommand): void {
  const reply = (ok: boolean, error?: string): void => {
    process.send?.({ type: 'done', id: command.id, ok, ...(error ? { error } : {}), stats: stats(command.type === 'stats' ? command.window : undefined) } satisfies LoopReply);
  };
  switch (command.type) {
    case 'start':
      if (running) return reply(false, 'already running');
      running = true;
      generation += 1;
      jobs = 0;
      failures = 0;
      errors = [];
      samples = [];
      agents = Array.from({ length: command.loops }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
      for (const agent of agents) void loop(command.baseUrl, agent, command.jobDurationMs);
      return reply(true);
    case 'stats':
      return reply(true);
    case 'stop':
      running = false;
      generation += 1;
      for (const agent of agents) agent.destroy();
      agents = [];
      return reply(true);
  }
}

process.on('message', (raw: unknown) => {
  void signedIn.then(() => handle(raw as LoopCommand));
});
// The runner going away (crash, Ctrl-C) must not leave a loop process behind.
process.on('disconnect', () => process.exit(0));
void signedIn.then(() => process.send?.({ type: 'ready' } satisfies LoopReply));
