import { Redis } from 'ioredis';
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { authHeaders, DEFAULT_TEST_USER } from '../../test-support/auth';
import { http } from '../../test-support/http';
import { startRedisServer, type RedisProcess } from '../../test-support/redis-server';
import { spawnService, testEnv, type ServiceProcess } from '../../test-support/services';
import { connectSse, type SseConnection } from '../../test-support/sse-client';
import { waitUntil, withTimeout } from '../../test-support/wait';

const JOBS = 20;
const CLIENTS_PER_JOB = 10;
const RETRY_MS = 1_000;
const SHUTDOWN_TIMEOUT_MS = 8_000;

/** A POST whose body is sent in two halves, so that it is in flight for as long as the test wants. */
function slowPost(url: string, body: unknown, headers: Record<string, string>) {
  const text = JSON.stringify(body);
  const half = Math.floor(text.length / 2);
  let finish = (): void => undefined;
  const answer = new Promise<{ status: number; body: any }>((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } }, (res) => {
      let raw = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (raw += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: raw ? JSON.parse(raw) : undefined }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.write(text.slice(0, half));
    finish = () => req.end(text.slice(half));
  });
  answer.catch(() => undefined);
  return { answer, finish: () => finish() };
}

/** SIGTERM to an api process holding 200 streams and one request whose body is still arriving. */
describe('chaos: an api process gets SIGTERM', () => {
  let redis: RedisProcess;
  const processes: ServiceProcess[] = [];
  const streams: SseConnection[] = [];

  afterAll(async () => {
    for (const stream of streams) stream.close();
    await Promise.all(processes.map((p) => p.stop('SIGKILL')));
    await redis?.destroy();
  });

  it('turns unready first, closes streams over a window with jittered retry hints, and finishes the request in flight', async () => {
    redis = await startRedisServer();
    const env = testEnv({ REDIS_URL: redis.url, SSE_RETRY_MS: String(RETRY_MS), SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) });
    const api = await spawnService('api', env);
    processes.push(api, await spawnService('worker', { ...env, WORKER_CONCURRENCY: String(JOBS) }));

    // The jobs outlast the test, so their streams stay open until the api closes them.
    for (let i = 0; i < JOBS; i += 1) {
      const res = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 120_000 } });
      for (let c = 0; c < CLIENTS_PER_JOB; c += 1) streams.push(await connectSse(`${api.url}/api/jobs/${res.body.jobId}/events`));
    }
    await waitUntil('every job to be active', () => streams.every((s) => s.lifecycle().length === 2), 10_000);
    const inFlight = slowPost(`${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 10, result: 'sent across a SIGTERM' } }, await authHeaders(DEFAULT_TEST_USER));
    await sleep(100);

    const signalledAt = Date.now();
    const exited = api.stop('SIGTERM');
    // Readiness goes false while streams are still open, so a load balancer stops routing first.
    // (The signal reaches the process a moment after kill(): poll until /readyz changes.)
    const ready = await waitUntil(
      '/readyz to change',
      async () => {
        const res = await http('GET', `${api.url}/readyz`).catch((err: Error) => ({ status: 0, body: { code: err.message } }));
        return res.status !== 200 && res;
      },
      2_000,
      5,
    );
    const openWhenUnready = streams.filter((s) => s.endedAt === undefined).length;
    expect(ready).toMatchObject({ status: 503, body: { code: 'SHUTTING_DOWN' } });
    expect(openWhenUnready).toBeGreaterThan(streams.length / 2);

    await withTimeout('every stream to be closed', Promise.all(streams.map((s) => s.ended)), SHUTDOWN_TIMEOUT_MS);
    // The request whose body is still arriving is answered after the streams are gone, not cut off.
    await sleep(200);
    inFlight.finish();
    const answer = await withTimeout('the in-flight POST to be answered', inFlight.answer, 5_000);
    expect(answer.status).toBe(202);
    const code = await withTimeout('the api to exit', exited, SHUTDOWN_TIMEOUT_MS + 5_000);
    expect(code).toBe(0);
    const inspect = new Redis(redis.url);
    expect(await inspect.exists(`${env.QUEUE_PREFIX}:jobs:${answer.body.jobId}`)).toBe(1);
    inspect.disconnect();

    // Every stream got a retry hint as it was closed (after the one `connected` carries), within [R, 5R].
    const hints = streams.map((s) => s.retries.at(-1)!);
    expect(streams.every((s) => s.retries.length === 2 && s.retries[0] === RETRY_MS)).toBe(true);
    expect(Math.min(...hints)).toBeGreaterThanOrEqual(RETRY_MS);
    expect(Math.max(...hints)).toBeLessThanOrEqual(5 * RETRY_MS);
    // Spread evenly: each quarter of the window holds at least 10 % of the hints (25 % expected).
    const quarters = [0, 0, 0, 0];
    for (const hint of hints) quarters[Math.min(3, Math.floor((hint - RETRY_MS) / RETRY_MS))]! += 1;
    for (const count of quarters) expect(count).toBeGreaterThanOrEqual(streams.length / 10);
    expect(new Set(hints).size).toBeGreaterThan(streams.length * 0.9);
    // The closes themselves are spread over the drain window (one retry interval), not one burst.
    const closedAfter = streams.map((s) => s.endedAt! - signalledAt).sort((a, b) => a - b);
    expect(closedAfter.at(-1)! - closedAfter[0]!).toBeGreaterThan(RETRY_MS / 2);
    expect(closedAfter.filter((ms) => ms > RETRY_MS / 2).length).toBeGreaterThan(streams.length / 4);
    // So the reconnects would arrive spread over about 5 retry intervals.
    const reconnectAt = streams.map((s, i) => s.endedAt! - signalledAt + hints[i]!).sort((a, b) => a - b);

    process.stdout.write(
      `chaos api-sigterm: /readyz 503 with ${openWhenUnready}/${streams.length} streams still open; streams closed from ` +
        `${closedAfter[0]} to ${closedAfter.at(-1)} ms after SIGTERM; retry hints ${Math.min(...hints)}-${Math.max(...hints)} ms ` +
        `(per quarter ${quarters.join('/')}); reconnects due ${reconnectAt[0]}-${reconnectAt.at(-1)} ms after SIGTERM; ` +
        `in-flight POST answered ${answer.status}; exit code ${code}\n`,
    );
  });
});
