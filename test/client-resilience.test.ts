import type { ApiServer } from '@jobstream/api';
import { createClient, type ConnectionState, type JobWatchItem, type LifecycleEvent } from '@jobstream/client';
import type { WorkerService } from '@jobstream/worker';
import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_TEST_USER, tokenFor } from '../test-support/auth';
import { http } from '../test-support/http';
import { connectSse, type ReceivedEvent } from '../test-support/sse-client';
import { cleanupPrefix, startApi, startWorker, testEnv, testRedisUrl, useRestartableStack } from '../test-support/services';

/** What the proxy saw of one `/events` request. */
interface StreamRequest {
  path: string;
  authorization: string | undefined;
  lastEventId: string | undefined;
}

/**
 * A tiny real HTTP proxy in front of the api. Everything passes through, except `/events`
 * responses opened while `streams` is not `pass`: their headers go out at once, but the body is
 * held until the upstream ends (`buffer`, as nginx does with `proxy_buffering on`) or never sent
 * at all (`blackhole`). `cutStreams()` drops every open stream, as a flaky network would.
 */
class TestProxy {
  streams: 'pass' | 'buffer' | 'blackhole' = 'pass';
  readonly streamRequests: StreamRequest[] = [];
  private readonly open = new Set<ServerResponse>();
  private readonly server: Server;
  url = '';

  constructor(private readonly target: URL) {
    this.server = createServer((req, res) => this.forward(req, res));
  }

  async listen(): Promise<this> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  cutStreams(): void {
    for (const res of this.open) res.destroy();
  }

  async close(): Promise<void> {
    this.cutStreams();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const isStream = /\/events(\?|$)/.test(req.url ?? '');
    const mode = isStream ? this.streams : 'pass';
    if (isStream) {
      this.streamRequests.push({
        path: req.url ?? '',
        authorization: req.headers.authorization,
        lastEventId: req.headers['last-event-id'] as string | undefined,
      });
      this.open.add(res);
    }
    const upstream = request(
      { host: this.target.hostname, port: this.target.port, path: req.url, method: req.method, headers: req.headers },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        res.flushHeaders();
        if (mode === 'pass') {
          upRes.pipe(res);
          return;
        }
        const held: Buffer[] = [];
        upRes.on('data', (chunk: Buffer) => held.push(chunk));
        if (mode === 'buffer') upRes.on('end', () => res.end(Buffer.concat(held)));
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => {
      this.open.delete(res);
      upstream.destroy();
    });
    req.pipe(upstream);
  }
}

const lifecycleOf = (items: JobWatchItem[]) => items.filter((i): i is LifecycleEvent => i.event !== 'snapshot');
/** Consecutive repeats removed: `polling, polling, live` → `polling, live`. */
const collapse = (states: ConnectionState[]) => states.filter((s, i) => s !== states[i - 1]);

async function referenceEvents(baseUrl: string, jobId: string): Promise<ReceivedEvent[]> {
  const stream = await connectSse(`${baseUrl}/api/jobs/${jobId}/events`);
  await stream.ended;
  return stream.lifecycle();
}

async function until(what: string, predicate: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('the client SDK when the connection is not reliable', () => {
  describe('behind a proxy', () => {
    let env: Record<string, string>;
    let api: ApiServer & { url: string };
    let worker: WorkerService;
    let proxy: TestProxy;

    beforeEach(async () => {
      // A short heartbeat so that a silent (buffered) stream is noticed within a second.
      env = testEnv({ SSE_HEARTBEAT_MS: '300', SSE_RETRY_MS: '100' });
      api = await startApi(env);
      worker = await startWorker(env);
      proxy = await new TestProxy(new URL(api.url)).listen();
    });

    afterEach(async () => {
      await proxy.close();
      await worker.close();
      await api.close();
      await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
    });

    it('polls while a buffering proxy holds the stream back, then switches back to live when it lets go, losing and repeating nothing', async () => {
      proxy.streams = 'buffer';
      const client = createClient({
        baseUrl: proxy.url,
        getToken: () => tokenFor(DEFAULT_TEST_USER),
        stream: { heartbeatMs: 300, pollIntervalMs: 200, retryBaseMs: 100, maxRetryDelayMs: 400 },
      });
      const { jobId } = await client.enqueue('demo.work', { durationMs: 4_000, steps: 8 });
      const watch = client.watchJob(jobId);
      const states: ConnectionState[] = [];
      const reasons: (string | undefined)[] = [];
      watch.on('connection', (info) => {
        states.push(info.state);
        reasons.push(info.reason);
      });
      const items: JobWatchItem[] = [];
      const consumed = (async () => {
        for await (const item of watch) items.push(item);
      })();

      // Polling takes over and shows the job moving although no stream byte gets through.
      await until('two polled snapshots with different progress', () => {
        const polled = items.filter((i) => i.event === 'snapshot' && i.reason === 'poll');
        return new Set(polled.map((i) => i.event === 'snapshot' && JSON.stringify(i.job.progress))).size >= 2;
      });
      expect(watch.connectionState).toBe('polling');
      expect(lifecycleOf(items)).toEqual([]);
      expect(reasons.find((r) => r?.includes('buffering proxy'))).toBeDefined();

      proxy.streams = 'pass';
      await until('the stream to be live again', () => states.includes('live'));
      await consumed;

      expect(collapse(states)).toEqual(['connecting', 'polling', 'live', 'closed']);
      const reference = await referenceEvents(api.url, jobId);
      const events = lifecycleOf(items);
      expect(events.map((e) => e.id)).toEqual(reference.map((e) => e.id));
      expect(events.at(-1)?.event).toBe('completed');
      expect(watch.job).toMatchObject({ state: 'completed', progress: 100 });
      // The probes kept trying the stream while the polls ran.
      expect(proxy.streamRequests.length).toBeGreaterThan(2);
    });

    it('fetches the events the polls skipped with one last stream attempt when the job finishes while it polls', async () => {
      proxy.streams = 'blackhole';
      const client = createClient({
        baseUrl: proxy.url,
        getToken: () => tokenFor(DEFAULT_TEST_USER),
        stream: { heartbeatMs: 300, pollIntervalMs: 200, retryBaseMs: 100, maxRetryDelayMs: 400 },
      });
      const { jobId } = await client.enqueue('demo.work', { durationMs: 1_500, steps: 3 });
      const watch = client.watchJob(jobId);
      const states: ConnectionState[] = [];
      let replayed: boolean | undefined;
      watch
        .on('connection', (info) => states.push(info.state))
        .on('end', (_job, info) => (replayed = info.replayed))
        // From the poll that sees the end on, the proxy buffers instead: a finished job's stream ends, so it gets through.
        .on('snapshot', (job, reason) => {
          if (reason === 'poll' && job.state === 'completed') proxy.streams = 'buffer';
        });
      const items: JobWatchItem[] = [];
      for await (const item of watch) items.push(item);

      expect(states).toContain('polling');
      const finalPoll = items.findIndex((i) => i.event === 'snapshot' && i.reason === 'poll' && i.job.state === 'completed');
      expect(finalPoll).toBeGreaterThan(0);
      const reference = await referenceEvents(api.url, jobId);
      expect(lifecycleOf(items).map((e) => e.id)).toEqual(reference.map((e) => e.id));
      expect(items.at(-1)?.event).toBe('completed');
      expect(replayed).toBe(false);
    });

    it('ends with the polled outcome when not even the last stream attempt gets through', async () => {
      proxy.streams = 'blackhole';
      const client = createClient({
        baseUrl: proxy.url,
        getToken: () => tokenFor(DEFAULT_TEST_USER),
        stream: { heartbeatMs: 300, pollIntervalMs: 200, retryBaseMs: 100, maxRetryDelayMs: 400 },
      });
      const { jobId } = await client.enqueue('demo.work', { durationMs: 800, steps: 2, result: { answer: 42 } });
      const watch = client.watchJob(jobId);
      const ends: string[] = [];
      watch.on('end', (job) => ends.push(job.state));
      const items: JobWatchItem[] = [];
      for await (const item of watch) items.push(item);

      expect(lifecycleOf(items)).toEqual([]);
      expect(items.at(-1)).toMatchObject({ event: 'snapshot', reason: 'poll', job: { state: 'completed', result: { answer: 42 } } });
      expect(ends).toEqual(['completed']);
      expect(await watch.done).toMatchObject({ jobId, state: 'completed' });
    });

    it('asks getToken for a fresh token before every reconnect and resumes after the last event it got', async () => {
      let calls = 0;
      const minted: string[] = [];
      const client = createClient({
        baseUrl: proxy.url,
        getToken: async () => {
          const token = await tokenFor(DEFAULT_TEST_USER, [], { claims: { n: ++calls } });
          minted.push(token);
          return token;
        },
        stream: { heartbeatMs: 300, retryBaseMs: 50, maxRetryDelayMs: 200 },
      });
      const { jobId } = await client.enqueue('demo.work', { durationMs: 2_000, steps: 10 });
      const items: JobWatchItem[] = [];
      const cutAfter: string[] = [];
      let count = 0;
      const watch = client.watchJob(jobId).on('event', (e) => {
        // Cut the connection twice mid-job, right after an event arrived.
        count += 1;
        if (count === 3 || count === 7) {
          cutAfter.push(e.id);
          proxy.cutStreams();
        }
      });
      for await (const item of watch) items.push(item);

      const reference = await referenceEvents(api.url, jobId);
      expect(lifecycleOf(items).map((e) => e.id)).toEqual(reference.map((e) => e.id));
      const streams = proxy.streamRequests.filter((r) => r.path.includes(jobId));
      expect(streams.length).toBeGreaterThanOrEqual(3);
      // The enqueue used the first token; each stream connect asked for the next one.
      expect(streams.map((r) => r.authorization)).toEqual(minted.slice(1).map((token) => `Bearer ${token}`));
      expect(calls).toBe(streams.length + 1);
      // Each reconnect resumed after the last event it had (the cut one, or one that shared its chunk).
      const position = (id: string | undefined) => reference.findIndex((e) => e.id === id);
      expect(streams[0]?.lastEventId).toBeUndefined();
      expect(position(streams[1]?.lastEventId)).toBeGreaterThanOrEqual(position(cutAfter[0]));
      expect(position(streams.at(-1)?.lastEventId)).toBeGreaterThanOrEqual(position(cutAfter[1]));
    });
  });

  describe('across an api restart', () => {
    const processes = useRestartableStack({ SSE_RETRY_MS: '200' });

    it('resumes after the api process is killed and restarted on the same port: nothing lost, nothing repeated, through both forms', async () => {
      const { api, base } = await processes.start();
      let tokenCalls = 0;
      const client = createClient({
        baseUrl: base,
        getToken: () => {
          tokenCalls += 1;
          return tokenFor(DEFAULT_TEST_USER);
        },
        // Enough patience to ride out the restart by reconnecting alone (polling is covered above).
        stream: { retryBaseMs: 100, maxRetryDelayMs: 1_000, failuresBeforePolling: 50 },
      });
      const job = await http('POST', `${base}/api/jobs`, { type: 'demo.work', payload: { durationMs: 3_000, steps: 10 } });
      const jobId = job.body.jobId as string;

      // Form 1: the async iterator.
      const iterated: JobWatchItem[] = [];
      const iterStates: ConnectionState[] = [];
      const iterWatch = client.watchJob(jobId).on('connection', (info) => iterStates.push(info.state));
      const iterating = (async () => {
        for await (const item of iterWatch) iterated.push(item);
      })();
      // Form 2: listeners.
      const heard: LifecycleEvent[] = [];
      const progress: unknown[] = [];
      const listenStates: ConnectionState[] = [];
      const listenWatch = client
        .watchJob(jobId)
        .on('event', (e) => heard.push(e))
        .on('progress', (p) => progress.push(p))
        .on('connection', (info) => listenStates.push(info.state));

      await until('the first progress event', () => heard.some((e) => e.event === 'progress'));
      await api.stop('SIGKILL');
      await processes.restartApi();
      await Promise.all([iterating, listenWatch.done]);

      const reference = await referenceEvents(base, jobId);
      expect(reference.map((e) => e.event)).toEqual(['waiting', 'active', ...Array(10).fill('progress'), 'completed']);
      for (const events of [lifecycleOf(iterated), heard]) {
        expect(events.map((e) => e.id)).toEqual(reference.map((e) => e.id));
        expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
      }
      expect(progress).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
      for (const states of [iterStates, listenStates]) {
        expect(collapse(states).slice(0, 3)).toEqual(['connecting', 'live', 'reconnecting']);
        expect(collapse(states).slice(-2)).toEqual(['live', 'closed']);
      }
      expect(tokenCalls).toBeGreaterThanOrEqual(4); // two watches, each connecting at least twice
    });
  });
});
