/**
 * A load client: thousands of SSE streams (or status pollers) in one process, driven by the bench
 * runner over IPC. Raw node:http and a minimal parser keep a connection to a few KB here, where an
 * EventSource per connection would cost far more than the server side being measured.
 */
import { readFileSync } from 'node:fs';
import { Agent, request, type ClientRequest, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { benchAuthorization } from '../lib/auth.js';
import type { ClientCommand, ClientReply, ClientStats, PollStats } from './protocol.js';
import { createSseParser } from './sse-parser.js';

interface Stream {
  req: ClientRequest;
  res?: IncomingMessage;
  connected: boolean;
  ended: boolean;
}

const send = (reply: ClientReply): void => {
  process.send?.(reply);
};

function fdLimit(): number {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  return Number(line?.split(/\s+/)[3] ?? NaN);
}

/** Every request acts as the bench user (the api runs AUTH_MODE=jwt, as in production); set before the first command runs. */
let authorization = '';
const signedIn = benchAuthorization().then((value) => {
  authorization = value;
});

let streams = new Set<Stream>();
let sockets = new Set<Socket>();
let closedSocketBytes = 0;
let counters = freshCounters();
/** Flat pairs [eventTimestampMs, latencyMs]; completed and everything else kept apart. */
let completedSamples: number[] = [];
let otherSamples: number[] = [];
let poll: PollStats = freshPoll();
let pollAgent: Agent | undefined;
let pollTimers = new Set<NodeJS.Timeout>();

function freshCounters() {
  return {
    streamsRequested: 0,
    streamsConnected: 0,
    streamsFailed: 0,
    streamsEnded: 0,
    terminals: 0,
    events: {} as Record<string, number>,
    errors: [] as string[],
  };
}

function freshPoll(): PollStats {
  return { requests: 0, errors: 0, jobsFinished: 0, jobsUnfinished: 0, knowLatencies: [], running: false };
}

function noteError(message: string): void {
  if (counters.errors.length < 20) counters.errors.push(message);
}

function trackSocket(socket: Socket): void {
  if (sockets.has(socket)) return;
  sockets.add(socket);
  socket.once('close', () => {
    if (sockets.delete(socket)) closedSocketBytes += socket.bytesRead + socket.bytesWritten;
  });
}

function onMessage(event: string, data: string, readAt: number): boolean {
  counters.events[event] = (counters.events[event] ?? 0) + 1;
  if (event === 'connected' || event === 'heartbeat' || event === 'reset') return false;
  // Lifecycle events carry the time their BullMQ event was written (the Redis stream id's time).
  const at = data.indexOf('"timestamp":"');
  const stamp = at >= 0 ? Date.parse(data.slice(at + 13, at + 37)) : NaN;
  if (!Number.isNaN(stamp)) {
    const samples = event === 'completed' ? completedSamples : otherSamples;
    samples.push(stamp, readAt - stamp);
  }
  return event === 'completed' || (event === 'failed' && data.includes('"willRetry":false'));
}

/** Opens one stream; resolves when its `connected` event arrived or it failed. */
function openStream(baseUrl: string, jobId: string): Promise<void> {
  counters.streamsRequested += 1;
  return new Promise((resolve) => {
    let settled = false;
    const settle = (): void => {
      if (!settled) {
        settled = true;
        resolve();
      }
    };
    // agent: false: one connection per stream, as one browser tab per job would have.
    const req = request(`${baseUrl}/api/jobs/${jobId}/events`, { agent: false, headers: { Accept: 'text/event-stream', Authorization: authorization } });
    const stream: Stream = { req, connected: false, ended: false };
    streams.add(stream);
    req.on('socket', (socket) => trackSocket(socket as Socket));
    const finish = (): void => {
      if (stream.ended) return;
      stream.ended = true;
      counters.streamsEnded += 1;
      streams.delete(stream);
      settle();
    };
    req.on('response', (res) => {
      stream.res = res;
      if (res.statusCode !== 200) {
        counters.streamsFailed += 1;
        noteError(`HTTP ${res.statusCode} for ${jobId}`);
        res.resume();
        res.on('end', finish);
        return;
      }
      res.setEncoding('utf8');
      let terminal = false;
      let readAt = 0;
      const parse = createSseParser((message) => {
        if (message.event === 'connected' && !stream.connected) {
          stream.connected = true;
          counters.streamsConnected += 1;
          settle();
        }
        if (onMessage(message.event, message.data, readAt) && !terminal) {
          terminal = true;
          counters.terminals += 1;
        }
      });
      res.on('data', (chunk: string) => {
        readAt = Date.now();
        parse(chunk);
      });
      res.on('end', finish);
      res.on('close', finish);
      res.on('error', finish);
    });
    req.on('error', (err) => {
      if (!stream.connected) {
        counters.streamsFailed += 1;
        noteError(`${err.message} for ${jobId}`);
      }
      finish();
    });
    req.end();
  });
}

async function openAll(baseUrl: string, jobIds: string[], concurrency: number): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < jobIds.length) {
      const jobId = jobIds[next++] as string;
      await openStream(baseUrl, jobId);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, lane));
}

/** Pollers: GET the job every intervalMs (first poll at a random point of the first interval) until it is finished. */
function startPolling(baseUrl: string, jobIds: string[], intervalMs: number, timeoutMs: number): void {
  pollAgent = new Agent({ keepAlive: true, maxSockets: Infinity });
  const agent = pollAgent;
  const started = Date.now();
  let active = jobIds.length;
  poll.running = active > 0;
  const stopOne = (): void => {
    active -= 1;
    if (active === 0) poll.running = false;
  };
  for (const jobId of jobIds) {
    const first = started + Math.random() * intervalMs;
    let n = 0;
    const tick = (): void => {
      const req = request(`${baseUrl}/api/jobs/${jobId}`, { agent, headers: { Authorization: authorization } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const knownAt = Date.now();
          let finishedAt: string | undefined;
          try {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { state?: string; finishedAt?: string };
            if (body.state === 'completed' || body.state === 'failed') finishedAt = body.finishedAt ?? new Date(knownAt).toISOString();
          } catch {
            poll.errors += 1;
          }
          if (finishedAt !== undefined) {
            poll.jobsFinished += 1;
            poll.knowLatencies.push(knownAt - Date.parse(finishedAt));
            stopOne();
            return;
          }
          schedule();
        });
      });
      req.on('socket', (socket) => trackSocket(socket as Socket));
      req.on('error', () => {
        poll.errors += 1;
        schedule();
      });
      poll.requests += 1;
      req.end();
    };
    const schedule = (): void => {
      n += 1;
      const at = first + n * intervalMs;
      if (at - started > timeoutMs) {
        poll.jobsUnfinished += 1;
        stopOne();
        return;
      }
      const timer = setTimeout(() => {
        pollTimers.delete(timer);
        tick();
      }, Math.max(0, at - Date.now()));
      pollTimers.add(timer);
    };
    const timer = setTimeout(() => {
      pollTimers.delete(timer);
      tick();
    }, Math.max(0, first - Date.now()));
    pollTimers.add(timer);
  }
}

function pick(samples: number[], since: number): number[] {
  const out: number[] = [];
  for (let i = 0; i + 1 < samples.length; i += 2) if ((samples[i] as number) >= since) out.push(samples[i + 1] as number);
  return out;
}

function stats(samplesSince?: number, window?: [number, number]): ClientStats {
  let bytes = closedSocketBytes;
  for (const socket of sockets) bytes += socket.bytesRead + socket.bytesWritten;
  const result: ClientStats = {
    ...counters,
    streamsOpen: streams.size,
    bytes,
    poll: { ...poll, knowLatencies: [...poll.knowLatencies] },
    rssBytes: process.memoryUsage.rss(),
    fdLimit: fdLimit(),
  };
  if (samplesSince !== undefined) {
    let firstEventAt = Infinity;
    let lastReadAt = 0;
    let steadyEvents = 0;
    for (const samples of [completedSamples, otherSamples]) {
      for (let i = 0; i + 1 < samples.length; i += 2) {
        const stamp = samples[i] as number;
        if (stamp < samplesSince) continue;
        if (window && stamp >= window[0] && stamp < window[1]) steadyEvents += 1;
        firstEventAt = Math.min(firstEventAt, stamp);
        lastReadAt = Math.max(lastReadAt, stamp + (samples[i + 1] as number));
      }
    }
    result.samples = {
      completed: pick(completedSamples, samplesSince),
      other: pick(otherSamples, samplesSince),
      firstEventAt: Number.isFinite(firstEventAt) ? firstEventAt : 0,
      lastReadAt,
      steadyEvents,
    };
  }
  return result;
}

async function closeAll(): Promise<void> {
  for (const timer of pollTimers) clearTimeout(timer);
  pollTimers = new Set();
  poll.running = false;
  pollAgent?.destroy();
  pollAgent = undefined;
  const closing = [...sockets].map((s) => new Promise<void>((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve()))));
  for (const stream of streams) stream.req.destroy();
  for (const socket of sockets) socket.destroy();
  await Promise.race([Promise.all(closing), new Promise((r) => setTimeout(r, 5_000))]);
}

process.on('message', (raw: unknown) => {
  void signedIn.then(() => handle(raw as ClientCommand));
});

function handle(command: ClientCommand): void {
  const done = (ok: boolean, error?: string): void =>
    send({ type: 'done', id: command.id, ok, ...(error ? { error } : {}), stats: stats() });
  switch (command.type) {
    case 'open':
      openAll(command.baseUrl, command.jobIds, command.concurrency).then(
        () => done(true),
        (err: unknown) => done(false, String(err)),
      );
      break;
    case 'poll':
      startPolling(command.baseUrl, command.jobIds, command.intervalMs, command.timeoutMs);
      done(true);
      break;
    case 'stats':
      send({ type: 'done', id: command.id, ok: true, stats: stats(command.samplesSince, command.window) });
      break;
    case 'close-all':
      closeAll().then(
        () => done(true),
        (err: unknown) => done(false, String(err)),
      );
      break;
    case 'reset':
      void closeAll().then(() => {
        streams = new Set();
        sockets = new Set();
        closedSocketBytes = 0;
        counters = freshCounters();
        completedSamples = [];
        otherSamples = [];
        poll = freshPoll();
        done(true);
      });
      break;
  }
}
// The runner going away (crash, Ctrl-C) must not leave a client behind.
process.on('disconnect', () => process.exit(0));
send({ type: 'ready', fdLimit: fdLimit(), pid: process.pid });
