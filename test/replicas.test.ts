import { http } from '../test-support/http';
import { connectSse, type ReceivedEvent, type SseConnection } from '../test-support/sse-client';
import { cleanupPrefix, spawnService, testEnv, testRedisUrl, type ServiceProcess } from '../test-support/services';

const lifecycleIds = (events: ReceivedEvent[]) => events.filter((e) => e.id).map((e) => e.id);

/** Two api processes and two worker processes on one Redis, as separate OS processes. */
describe('any replica, any worker', () => {
  let env: Record<string, string>;
  let apis: ServiceProcess[] = [];
  let workers: ServiceProcess[] = [];

  beforeAll(async () => {
    env = testEnv({ WORKER_CONCURRENCY: '2' });
    apis = await Promise.all([spawnService('api', env), spawnService('api', env)]);
    workers = await Promise.all([spawnService('worker', env), spawnService('worker', env)]);
  });

  afterAll(async () => {
    await Promise.all([...apis, ...workers].map((p) => p.stop('SIGKILL')));
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
  });

  const [api1, api2] = [() => apis[0]!.url!, () => apis[1]!.url!];

  it('delivers every event of a job enqueued through api #2 to clients on api #1 and api #2 alike', async () => {
    const res = await http('POST', `${api2()}/api/jobs`, { type: 'demo.work', payload: { durationMs: 600, steps: 6 } });
    expect(res.status).toBe(202);
    const path = `/api/jobs/${res.body.jobId}/events`;
    const clients = await Promise.all([api1(), api1(), api1(), api2(), api2()].map((base) => connectSse(`${base}${path}`)));
    await Promise.all(clients.map((c) => c.ended));
    const expected = ['waiting', 'active', ...Array(6).fill('progress'), 'completed'];
    for (const client of clients) {
      expect(client.lifecycle().map((e) => e.event)).toEqual(expected);
      expect(lifecycleIds(client.events)).toEqual(lifecycleIds(clients[0]!.events));
    }
  });

  it('delivers the events of one job in the order they happened', async () => {
    const res = await http('POST', `${api1()}/api/jobs`, { type: 'demo.work', payload: { durationMs: 500, steps: 50 } });
    const stream = await connectSse(`${api2()}/api/jobs/${res.body.jobId}/events`);
    await stream.ended;
    const events = stream.lifecycle();
    const progress = events.filter((e) => e.event === 'progress').map((e) => e.data.progress as number);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress).toHaveLength(50);
    const times = events.map((e) => Date.parse(String(e.data.timestamp)));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const ids = lifecycleIds(events) as string[];
    const asPairs = ids.map((id) => id.split('-').map(Number) as [number, number]);
    for (let i = 1; i < asPairs.length; i += 1) {
      const [prev, cur] = [asPairs[i - 1]!, asPairs[i]!];
      expect(cur[0] > prev[0] || (cur[0] === prev[0] && cur[1] > prev[1])).toBe(true);
    }
    expect(events.at(-1)?.event).toBe('completed');
  });

  it('spreads jobs over both workers and every client sees each outcome', async () => {
    const jobs = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        http('POST', `${i % 2 ? api1() : api2()}/api/jobs`, { type: 'demo.work', payload: { durationMs: 150, result: i } }),
      ),
    );
    const streams: SseConnection[] = await Promise.all(
      jobs.map((job, i) => connectSse(`${i % 2 ? api2() : api1()}/api/jobs/${job.body.jobId}/events`)),
    );
    await Promise.all(streams.map((s) => s.ended));
    streams.forEach((s, i) => expect(s.events.at(-1)).toMatchObject({ event: 'completed', data: { result: i } }));
    for (const worker of workers) expect(worker.output()).toContain('attempt completed');
  });

  it('keeps delivering events after the worker process that relays them is killed', async () => {
    await workers[0]!.stop('SIGKILL');
    const res = await http('POST', `${api1()}/api/jobs`, { type: 'demo.work', payload: { durationMs: 100, steps: 2 } });
    const stream = await connectSse(`${api2()}/api/jobs/${res.body.jobId}/events`);
    await stream.ended;
    expect(stream.lifecycle().map((e) => e.event)).toEqual(['waiting', 'active', 'progress', 'progress', 'completed']);
  });
});
