import { http } from '../test-support/http';
import { connectSse } from '../test-support/sse-client';
import { cleanupPrefix, spawnService, startApi, testEnv, testRedisUrl, type ServiceProcess } from '../test-support/services';

describe('worker processes', () => {
  let env: Record<string, string>;
  let api: Awaited<ReturnType<typeof startApi>>;
  const spawned: ServiceProcess[] = [];

  beforeEach(async () => {
    env = testEnv();
    api = await startApi(env);
  });

  afterEach(async () => {
    await Promise.all(spawned.splice(0).map((p) => p.stop('SIGKILL')));
    await api.close();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
  });

  const start = async (overrides: Record<string, string> = {}) => {
    const worker = await spawnService('worker', { ...env, ...overrides });
    spawned.push(worker);
    return worker;
  };

  it('picks a killed worker\'s job up again through stalled-job recovery, and the stream shows it', async () => {
    const first = await start();
    const res = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 1_500, steps: 3 } });
    const stream = await connectSse(`${api.url}/api/jobs/${res.body.jobId}/events`);
    await stream.waitFor((events) => events.some((e) => e.event === 'progress'));
    await first.stop('SIGKILL');
    await start();
    await stream.ended;
    const names = stream.lifecycle().map((e) => e.event);
    expect(names.slice(0, 2)).toEqual(['waiting', 'active']);
    expect(names).toContain('stalled');
    expect(names.filter((n) => n === 'active')).toHaveLength(2);
    expect(names.at(-1)).toBe('completed');
  });

  it('lets active jobs finish on SIGTERM, takes no new ones, and exits cleanly', async () => {
    const worker = await start({ WORKER_CONCURRENCY: '1' });
    const running = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 800 } });
    const stream = await connectSse(`${api.url}/api/jobs/${running.body.jobId}/events`);
    await stream.waitFor((events) => events.some((e) => e.event === 'active'));
    const queued = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 10 } });

    const code = await worker.stop('SIGTERM');
    expect(code).toBe(0);
    await stream.ended;
    expect(stream.events.at(-1)?.event).toBe('completed');
    const left = await http('GET', `${api.url}/api/jobs/${queued.body.jobId}`);
    expect(left.body.state).toBe('waiting');
  });

  it('gives up on active jobs after the shutdown timeout, leaving them to stalled-job recovery', async () => {
    const worker = await start({ WORKER_SHUTDOWN_TIMEOUT_MS: '300' });
    const res = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 5_000 } });
    const stream = await connectSse(`${api.url}/api/jobs/${res.body.jobId}/events`);
    await stream.waitFor((events) => events.some((e) => e.event === 'active'));
    const startedAt = Date.now();
    await worker.stop('SIGTERM');
    expect(Date.now() - startedAt).toBeLessThan(4_000);
    expect(worker.output()).toContain('did not finish in time');
    await start();
    await stream.waitFor((events) => events.filter((e) => e.event === 'active').length === 2, 15_000);
    stream.close();
  });
});
