import { HISTORY_FIELDS, jobstreamKeys } from '@jobstream/runtime';
import { SignJWT } from 'jose';
import { Redis } from 'ioredis';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { BENCH_JWT_SECRET, BENCH_USER, benchAuthorization } from '../lib/auth.js';
import type { BenchContext } from '../lib/context.js';
import { BenchQueue, benchPrefix, QUEUE_NAME } from '../lib/jobs.js';
import { startApi, type ApiService, type ProbeReading } from '../lib/services.js';
import { KiB, MiB, round } from '../lib/stats.js';

/** One kind of stored history replayed to clients that never read. */
export interface ReplayMemoryCase {
  kind: 'job history' | 'notification channel';
  /** Non-reading streams opened at once. */
  streams: number;
  /** Events each stream replays, and their bytes in all. */
  events: number;
  historyMiB: number;
  rssBaseMiB: number;
  rssMiB: number;
  /** Growth after two full GCs, divided by the streams. */
  rssPerStreamKB: number;
  heapPerStreamKB: number;
  /** Node's buffers outside the V8 heap (socket write copies), per stream. */
  externalPerStreamKB: number;
  /** Seconds until the api's memory stopped growing after the streams opened. */
  settleSec: number;
  /** A client reading the same replay afterwards got every event, once each and in order. */
  readerExact: boolean;
  readerSec: number;
}

export interface ReplayMemoryResult {
  /** SSE_MAX_BUFFER_BYTES of the api (its default). */
  capBytes: number;
  eventBytes: number;
  cases: ReplayMemoryCase[];
}

const STREAMS = 20;
/** 8 KB events: the largest a notification's data may be, and a large progress object. */
const EVENT_BYTES = 8_000;
const CAP_BYTES = 1_048_576;

/** A client that sends its request and never reads a byte of the answer. */
function neverReading(url: string, path: string, headers: Record<string, string>): Promise<Socket> {
  const { hostname, port } = new URL(url);
  const lines = [`GET ${path} HTTP/1.1`, `Host: ${hostname}:${port}`, 'Accept: text/event-stream'];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.pause();
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
      resolve(socket);
    });
    socket.on('error', reject);
  });
}

/** Reads a stream until it carried `expected` events with ids; resolves with the ids in order. */
function readIds(url: string, headers: Record<string, string>, expected: number, eventName: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const ids: string[] = [];
    let buffer = '';
    let id: string | undefined;
    let name: string | undefined;
    const req = request(url, { headers: { Accept: 'text/event-stream', ...headers } }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + 1);
          if (line.startsWith('id: ')) id = line.slice(4);
          else if (line.startsWith('event: ')) name = line.slice(7);
          else if (line === '') {
            if (name === eventName && id !== undefined) ids.push(id);
            name = undefined;
            if (ids.length >= expected) {
              req.destroy();
              resolve(ids);
              return;
            }
          }
        }
      });
      res.on('end', () => resolve(ids));
    });
    req.on('error', (err) => (ids.length >= expected ? resolve(ids) : reject(err)));
    req.end();
  });
}

/** Probes (after GCs) until RSS stops growing: the replays wrote what they will until their clients read. */
async function settled(api: ApiService, timeoutMs = 20_000): Promise<ProbeReading> {
  const deadline = Date.now() + timeoutMs;
  let last = await api.probe(true);
  for (;;) {
    await sleep(500);
    const next = await api.probe(true);
    if (Math.abs(next.memory.rss - last.memory.rss) < 2 * MiB || Date.now() > deadline) return next;
    last = next;
  }
}

async function serviceAuthorization(): Promise<string> {
  const token = await new SignJWT({ roles: ['service'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('bench-service')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(BENCH_JWT_SECRET));
  return `Bearer ${token}`;
}

async function post(url: string, body: unknown, authorization: string): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`POST ${url} answered ${res.status}: ${await res.text()}`);
  await res.arrayBuffer();
}

/**
 * One fresh api per case. A long history of large events is stored (a job's history written as the
 * relay stores it, or notifications published to the bench user's channel through the api), the
 * api's memory is read after two full GCs, STREAMS clients that never read ask to replay all of
 * it, and the memory is read again once it stopped growing. Then one client reads the same replay
 * to its end: it must get every event once, in order.
 */
export async function runReplayMemory(ctx: BenchContext): Promise<ReplayMemoryResult> {
  const events = ctx.options.quick ? 1_000 : 2_000;
  const cases: ReplayMemoryCase[] = [];
  const authorization = await benchAuthorization();
  for (const kind of ['job history', 'notification channel'] as const) {
    const prefix = benchPrefix('replay');
    const env = { REDIS_URL: ctx.redis.url, QUEUE_PREFIX: prefix, JOB_HISTORY_MAX_LEN: String(events), NOTIFICATION_STREAM_MAX_LEN: String(events * 3) };
    const api = await startApi({ runDir: ctx.runDir, sseHeartbeatMs: ctx.options.sseHeartbeatMs, env, tag: `replay-${kind.split(' ')[0]}`, nodeFlags: ctx.profileFlags(`api-replay-${kind.split(' ')[0]}`) });
    const queue = new BenchQueue(ctx.redis.url, prefix);
    const redis = new Redis(ctx.redis.url, { maxRetriesPerRequest: 1 });
    const sockets: Socket[] = [];
    try {
      const blob = 'x'.repeat(EVENT_BYTES);
      let path: string;
      let headers: Record<string, string> = { authorization };
      let eventName: string;
      let expectedIds: string[] | undefined;
      if (kind === 'job history') {
        const [job] = await queue.add([{ durationMs: 0 }], 3_600_000);
        const jobId = job!.id as string;
        const key = jobstreamKeys({ prefix, name: QUEUE_NAME }).history(jobId);
        const pipeline = redis.pipeline();
        const since = Date.now() - 60_000;
        expectedIds = [];
        for (let i = 0; i < events; i += 1) {
          expectedIds.push(`${since}-${i}`);
          const data = { jobId, timestamp: new Date(since).toISOString(), progress: { step: i, blob } };
          pipeline.xadd(key, `${since}-${i}`, HISTORY_FIELDS.event, 'progress', HISTORY_FIELDS.data, JSON.stringify(data));
        }
        await pipeline.exec();
        path = `/api/jobs/${jobId}/events`;
        eventName = 'progress';
      } else {
        const service = await serviceAuthorization();
        for (let sent = 0; sent < events; sent += 25) {
          await Promise.all(
            Array.from({ length: 25 }, () =>
              post(`${api.url}/api/notifications`, { type: 'bench.blob', title: 'blob', message: 'blob', userId: BENCH_USER, data: { blob } }, service),
            ),
          );
        }
        path = '/api/notifications/stream';
        headers = { ...headers, 'Last-Event-ID': 'u=0-0' };
        eventName = 'notification';
      }

      const base = await api.probe(true);
      for (let i = 0; i < STREAMS; i += 1) sockets.push(await neverReading(api.url, path, headers));
      const started = Date.now();
      const loaded = await settled(api);
      const settleSec = (Date.now() - started) / 1000;

      const readStarted = Date.now();
      const ids = await readIds(`${api.url}${path}`, headers, events, eventName);
      const readerSec = (Date.now() - readStarted) / 1000;
      const readerExact = ids.length === events && new Set(ids).size === events && (expectedIds === undefined || ids.every((id, i) => id === expectedIds[i]));

      const per = (bytes: number): number => round(bytes / STREAMS / KiB, 1);
      const result: ReplayMemoryCase = {
        kind,
        streams: STREAMS,
        events,
        historyMiB: round((events * EVENT_BYTES) / MiB, 1),
        rssBaseMiB: round(base.memory.rss / MiB),
        rssMiB: round(loaded.memory.rss / MiB),
        rssPerStreamKB: per(loaded.memory.rss - base.memory.rss),
        heapPerStreamKB: per(loaded.memory.heapUsed - base.memory.heapUsed),
        externalPerStreamKB: per(loaded.memory.external - base.memory.external),
        settleSec: round(settleSec),
        readerExact,
        readerSec: round(readerSec),
      };
      ctx.log(
        `replay-memory: ${kind}, ${STREAMS} streams not reading ${result.historyMiB} MiB each: RSS ${result.rssBaseMiB} → ${result.rssMiB} MiB ` +
          `(${result.rssPerStreamKB} KB per stream, heap ${result.heapPerStreamKB} KB); a reader got ${ids.length}/${events}${readerExact ? ', exact' : ', NOT EXACT'}`,
      );
      cases.push(result);
    } finally {
      for (const socket of sockets) socket.destroy();
      await queue.close();
      redis.disconnect();
      await api.stop();
    }
  }
  return { capBytes: CAP_BYTES, eventBytes: EVENT_BYTES, cases };
}

/** The scenario's table for the report. */
export function replayMemoryMarkdown(r: ReplayMemoryResult | undefined): string {
  if (!r) return '';
  const line = (cells: (string | number)[]): string => `| ${cells.map(String).join(' | ')} |`;
  const head = ['replayed', 'streams not reading', 'history each', 'api RSS (base → loaded)', 'RSS / stream', 'heap / stream', 'external / stream', 'a reader got every event once'];
  return [
    `### 9. Replays to clients that do not read (SSE_MAX_BUFFER_BYTES ${round(r.capBytes / MiB, 1)} MiB, ${round(r.eventBytes / KiB, 1)} KB events)`,
    '',
    line(head),
    line(head.map(() => '---')),
    ...r.cases.map((c) =>
      line([
        c.kind,
        c.streams,
        `${c.events} events, ${c.historyMiB} MiB`,
        `${c.rssBaseMiB} → ${c.rssMiB} MiB`,
        `${c.rssPerStreamKB} KB`,
        `${c.heapPerStreamKB} KB`,
        `${c.externalPerStreamKB} KB`,
        c.readerExact ? `yes (${c.readerSec} s)` : 'NO',
      ]),
    ),
    '',
  ].join('\n');
}
