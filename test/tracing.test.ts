import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { createLogger, HISTORY_FIELDS, readHistoryEntries, startTracing } from '@jobstream/runtime';
import { http } from '../test-support/http';
import { cleanupPrefix, repoRoot, spawnService, testEnv, testRedisUrl, type ServiceProcess } from '../test-support/services';
import { connectSse } from '../test-support/sse-client';
import { waitUntil } from '../test-support/wait';
import { keysFor, testRedis } from './operations-helpers';

/** One span as an OTLP/HTTP JSON export carries it, with the service that sent it. */
interface ExportedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Record<string, unknown>;
  links: { traceId: string; spanId: string }[];
}

interface OtlpAttribute {
  key: string;
  value: Record<string, unknown>;
}

const SPAN_KIND = { internal: 1, server: 2, producer: 4, consumer: 5 };

function attributesOf(list: OtlpAttribute[] = []): Record<string, unknown> {
  return Object.fromEntries(list.map(({ key, value }) => [key, Object.values(value)[0]]));
}

/** A stand-in for a collector: accepts OTLP/HTTP JSON on /v1/traces and keeps every span. */
async function otlpReceiver(): Promise<{ server: Server; endpoint: string; spans: ExportedSpan[]; requests: string[] }> {
  const spans: ExportedSpan[] = [];
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push(`${req.method} ${req.url} ${req.headers['content-type']}`);
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      const exported = JSON.parse(body.toString('utf8')) as {
        resourceSpans: { resource: { attributes: OtlpAttribute[] }; scopeSpans: { spans: (Omit<ExportedSpan, 'service' | 'attributes' | 'links'> & { attributes?: OtlpAttribute[]; links?: { traceId: string; spanId: string }[] })[] }[] }[];
      };
      for (const resourceSpans of exported.resourceSpans) {
        const service = String(attributesOf(resourceSpans.resource.attributes)['service.name']);
        for (const scope of resourceSpans.scopeSpans) {
          for (const span of scope.spans) {
            spans.push({ ...span, service, attributes: attributesOf(span.attributes), links: span.links ?? [] });
          }
        }
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, requests };
}

describe('tracing across the api and the worker', () => {
  let env: Record<string, string>;
  let api: ServiceProcess | undefined;
  let worker: ServiceProcess | undefined;
  let receiver: Awaited<ReturnType<typeof otlpReceiver>>;

  beforeEach(async () => {
    receiver = await otlpReceiver();
    env = testEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_BSP_SCHEDULE_DELAY: '100' });
  });

  afterEach(async () => {
    await worker?.stop();
    await api?.stop();
    worker = api = undefined;
    receiver.server.close();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
  });

  it('puts the POST, the enqueue, the wait, the processing, the relay and each stream delivery of the outcome in one trace', async () => {
    api = await spawnService('api', env);
    worker = await spawnService('worker', env);
    expect(api.output()).toContain('tracing enabled');
    // The owner's notification stream gets the outcome too.
    const notifications = await connectSse(`${api.url}/api/notifications/stream`);

    // A client's traceparent is not followed: the POST starts a trace of its own.
    const clientTraceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const res = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 1_500 } }, { traceparent: clientTraceparent });
    expect(res.status).toBe(202);
    const jobId: string = res.body.jobId;
    // Two streams open while the job runs: each gets the outcome, and each write is a span.
    const streams = await Promise.all([1, 2].map(() => connectSse(`${api!.url}/api/jobs/${jobId}/events`)));
    await Promise.all(streams.map((s) => s.waitFor((events) => events.some((e) => e.event === 'completed'), 20_000)));
    await notifications.waitFor((events) => events.some((e) => e.event === 'job.completed' && e.data.jobId === jobId), 20_000);

    const named = (name: string, service: string) => receiver.spans.filter((s) => s.name === name && s.service === service);
    const allDeliveries = await waitUntil('the three deliveries to be exported', () => {
      const found = named('jobstream.stream.deliver', 'jobstream-api');
      return found.length === 3 && found;
    });
    const deliveries = allDeliveries.filter((d) => d.attributes['jobstream.stream.kind'] === 'job');
    const [notificationDelivery] = allDeliveries.filter((d) => d.attributes['jobstream.stream.kind'] === 'notifications');
    const post = named('POST /api/jobs', 'jobstream-api');
    expect(post).toHaveLength(1);
    const [postSpan] = post as [ExportedSpan];
    expect(postSpan).toMatchObject({ kind: SPAN_KIND.server, attributes: { 'http.request.method': 'POST', 'http.route': '/api/jobs', 'http.response.status_code': 202 } });
    expect(postSpan.parentSpanId ?? '').toBe('');
    const traceId = postSpan.traceId;
    expect(traceId).not.toBe(clientTraceparent.split('-')[1]);

    const inTrace = receiver.spans.filter((s) => s.traceId === traceId);
    const one = (name: string): ExportedSpan => {
      const found = inTrace.filter((s) => s.name === name);
      expect(found.map((s) => s.name)).toEqual([name]);
      return found[0] as ExportedSpan;
    };
    const enqueue = one('jobstream.job.enqueue');
    const wait = one('jobstream.job.wait');
    const processing = one('jobstream.job.process');
    const relay = one('jobstream.job.relay');

    expect(enqueue).toMatchObject({ service: 'jobstream-api', kind: SPAN_KIND.producer, parentSpanId: postSpan.spanId });
    expect(enqueue.attributes).toMatchObject({ 'jobstream.job.id': jobId, 'jobstream.job.type': 'demo.work' });
    // The worker's spans are children of the enqueue span: the trace context came with the job.
    expect(wait).toMatchObject({ service: 'jobstream-worker', parentSpanId: enqueue.spanId });
    expect(processing).toMatchObject({ service: 'jobstream-worker', kind: SPAN_KIND.consumer, parentSpanId: enqueue.spanId });
    expect(processing.attributes).toMatchObject({ 'jobstream.job.id': jobId, 'jobstream.job.attempt': 1 });
    // The wait ends when the processing starts, and the processing took the job's duration.
    expect(BigInt(wait.endTimeUnixNano)).toBeLessThanOrEqual(BigInt(processing.startTimeUnixNano));
    expect(Number(BigInt(processing.endTimeUnixNano) - BigInt(processing.startTimeUnixNano)) / 1e6).toBeGreaterThanOrEqual(1_400);
    expect(relay).toMatchObject({ service: 'jobstream-worker', kind: SPAN_KIND.producer, parentSpanId: enqueue.spanId });
    expect(relay.attributes).toMatchObject({ 'jobstream.job.id': jobId, 'jobstream.event.name': 'completed' });

    // One delivery per open stream, children of the relay span, each linked to the request that opened its stream.
    const streamRequests = named('GET /api/jobs/:id/events', 'jobstream-api');
    for (const delivery of deliveries) {
      expect(delivery).toMatchObject({ traceId, parentSpanId: relay.spanId, attributes: { 'jobstream.job.id': jobId, 'jobstream.event.name': 'completed' } });
      expect(delivery.links).toHaveLength(1);
      expect(streamRequests.map((s) => s.spanId)).toContain(delivery.links[0]?.spanId);
    }
    expect(new Set(deliveries.map((d) => d.links[0]?.spanId)).size).toBe(2);
    expect(notificationDelivery).toMatchObject({
      traceId,
      parentSpanId: relay.spanId,
      attributes: { 'jobstream.job.id': jobId, 'jobstream.event.name': 'job.completed' },
    });
    // The notification stream stays open; its request span is sent once the client leaves.
    notifications.close();
    const notificationRequest = await waitUntil('the notification stream request span', () => named('GET /api/notifications/stream', 'jobstream-api')[0]);
    expect(notificationRequest.attributes['jobstream.client_closed']).toBe(true);
    expect(notificationDelivery?.links.map((l) => l.spanId)).toEqual([notificationRequest.spanId]);
    // No query string leaves the process (stream URLs may carry ?access_token=).
    expect(receiver.spans.every((s) => !String(s.attributes['url.path'] ?? '').includes('?'))).toBe(true);
    expect(receiver.requests.every((r) => r.startsWith('POST /v1/traces application/json'))).toBe(true);

    // The worker's log lines for the job carry the trace id.
    const jobLines = worker
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{') && line.includes(jobId))
      .map((line) => JSON.parse(line) as { traceId?: string; msg: string });
    expect(jobLines.map((l) => l.msg)).toContain('attempt completed');
    expect(jobLines.every((l) => l.traceId === traceId)).toBe(true);
  });

  it('records nothing in the worker for a job whose trace the api did not sample, and stores no relay span with its outcome', async () => {
    // The worker would record every trace of its own: only the decision carried with the job keeps it quiet.
    api = await spawnService('api', { ...env, OTEL_TRACES_SAMPLER_ARG: '0' });
    worker = await spawnService('worker', { ...env, OTEL_TRACES_SAMPLER_ARG: '1' });
    const res = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 0 } });
    const jobId: string = res.body.jobId;
    const stream = await connectSse(`${api.url}/api/jobs/${jobId}/events`);
    await stream.waitFor((events) => events.some((e) => e.event === 'completed'), 20_000);
    // Shutdown sends whatever is still queued, so after it nothing more can arrive.
    await worker.stop();
    await api.stop();
    expect(receiver.spans).toEqual([]);
    const redis = testRedis();
    try {
      const history = await readHistoryEntries(redis, keysFor(env), jobId, { from: '-', to: '+' });
      expect(history.length).toBeGreaterThan(0);
      expect(history.every(([, fields]) => !fields.includes(HISTORY_FIELDS.trace))).toBe(true);
    } finally {
      redis.disconnect();
    }
  });

  it('shows a job held back by its owner\'s cap on running jobs as a processing span that did not fail, then the run that completed it', async () => {
    const capped = { ...env, MAX_ACTIVE_JOBS_PER_USER: '1', WORKER_CONCURRENCY: '2' };
    api = await spawnService('api', capped);
    worker = await spawnService('worker', capped);
    const first = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 1_000 } });
    const second = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 0 } });
    expect([first.status, second.status]).toEqual([202, 202]);
    const jobIds: string[] = [first.body.jobId, second.body.jobId];
    // Whichever of the two the worker took second was held back until the other finished.
    const relays = await waitUntil('both outcomes to be relayed', () => {
      const found = receiver.spans.filter((s) => s.name === 'jobstream.job.relay' && jobIds.includes(String(s.attributes['jobstream.job.id'])));
      return found.length === 2 && found;
    });
    const status = (s: ExportedSpan) => (s as unknown as { status?: { code?: number } }).status?.code ?? 0;
    const held: ExportedSpan[] = [];
    for (const relay of relays) {
      const runs = receiver.spans.filter((s) => s.name === 'jobstream.job.process' && s.traceId === relay.traceId);
      held.push(...runs.filter((s) => s.attributes['jobstream.job.held_back'] === true));
      expect(runs.filter((s) => s.attributes['jobstream.job.held_back'] !== true).map(status)).toEqual([0]);
    }
    expect(held.length).toBeGreaterThan(0);
    // Unset (0), not error (2): being held back is the cap working, not a failure.
    expect(held.map(status)).toEqual(held.map(() => 0));
  });

  it('marks the processing span of a failed attempt as an error and still relays the final failure into the trace', async () => {
    api = await spawnService('api', env);
    worker = await spawnService('worker', env);
    const res = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 0, failAttempts: 5 } });
    const jobId: string = res.body.jobId;
    const relay = await waitUntil('the relay of the failure', () =>
      receiver.spans.find((s) => s.name === 'jobstream.job.relay' && s.attributes['jobstream.job.id'] === jobId),
    );
    expect(relay.attributes['jobstream.event.name']).toBe('failed');
    const attempts = await waitUntil('three processing spans', () => {
      const found = receiver.spans.filter((s) => s.name === 'jobstream.job.process' && s.traceId === relay.traceId);
      return found.length === 3 && found;
    });
    expect(attempts.map((s) => s.attributes['jobstream.job.attempt']).sort()).toEqual([1, 2, 3]);
    expect(attempts.every((s) => (s as unknown as { status?: { code?: number } }).status?.code === 2)).toBe(true);
  });
});

describe('tracing loads only when configured', () => {
  const run = promisify(execFile);
  const RUNTIME = join(repoRoot, 'packages', 'runtime', 'dist', 'index.js');
  // @opentelemetry/api alone is no SDK: prom-client loads it in every process (it looks for an active
  // span to attach to exemplars), and with no SDK registered behind it every call is a no-op.
  const loadedOtel =
    "Object.keys(require.cache).filter((file) => file.includes('/@opentelemetry/') && !file.includes('/@opentelemetry/api/')).length";

  /** Runs a script in a fresh Node process with the built runtime as `runtime`; returns what it printed as JSON. */
  async function inNode(script: string, env: Record<string, string> = {}): Promise<any> {
    const { stdout } = await run(process.execPath, ['-e', `const runtime = require(${JSON.stringify(RUNTIME)});\n${script}`], {
      timeout: 20_000,
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    return JSON.parse(stdout);
  }

  it('never loads the OpenTelemetry SDK in the api and worker without OTEL_EXPORTER_OTLP_ENDPOINT', async () => {
    const out = await inNode(`
      require(${JSON.stringify(join(repoRoot, 'services', 'api', 'dist', 'index.js'))});
      require(${JSON.stringify(join(repoRoot, 'services', 'worker', 'dist', 'index.js'))});
      const logger = runtime.createLogger({ name: 'test', level: 'silent' });
      runtime.startTracing('api', logger).then(async (tracing) => {
        const inside = runtime.inSpan('x', {}, (span) => span === undefined);
        runtime.recordSpan('y', { endTimeMs: Date.now() });
        await tracing.shutdown();
        console.log(JSON.stringify({ enabled: tracing.enabled, active: runtime.tracingEnabled(), inside, traceparent: runtime.activeTraceparent() ?? null, loaded: ${loadedOtel} }));
      });
    `);
    expect(out).toEqual({ enabled: false, active: false, inside: true, traceparent: null, loaded: 0 });
  });

  it('loads the SDK once the endpoint is set, and sends what is queued at shutdown', async () => {
    const receiver = await otlpReceiver();
    try {
      const out = await inNode(
        `
        const logger = runtime.createLogger({ name: 'test', level: 'silent' });
        runtime.startTracing('api', logger).then(async (tracing) => {
          const traceparent = runtime.inSpan('checked', {}, () => runtime.activeTraceparent());
          await tracing.shutdown();
          console.log(JSON.stringify({ enabled: tracing.enabled, traceparent, loaded: ${loadedOtel} > 0 }));
        });
      `,
        // The default export delay (5 s) is longer than the script runs: only the shutdown sends the span.
        { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint },
      );
      expect(out).toMatchObject({ enabled: true, loaded: true });
      expect(out.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      const [, traceId, spanId] = (out.traceparent as string).split('-');
      expect(receiver.spans).toEqual([expect.objectContaining({ name: 'checked', service: 'jobstream-api', traceId, spanId })]);
    } finally {
      receiver.server.close();
    }
  });

  it('refuses an endpoint that is not an http(s) URL, naming the variable', async () => {
    const logger = createLogger({ name: 'test', level: 'silent' });
    await expect(startTracing('api', logger, { OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://collector:4318' })).rejects.toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
    await expect(startTracing('api', logger, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_SAMPLER_ARG: '2' })).rejects.toThrow(
      /OTEL_TRACES_SAMPLER_ARG/,
    );
  });
});
