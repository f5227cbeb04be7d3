import type { ApiServer } from '@jobstream/api';
import { FlowProducer, Queue, Worker, type Job } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { createConnection } from 'node:net';
import { Redis } from 'ioredis';
import { authHeaders } from '../test-support/auth';
import { http } from '../test-support/http';
import { connectSse } from '../test-support/sse-client';
import { cleanupPrefix, startApi, testEnv, testRedisUrl } from '../test-support/services';
import { waitUntil } from '../test-support/wait';

/**
 * The api reads a job's state in its own script instead of BullMQ's `getState` (which scans the
 * wait list); for every state BullMQ can put a job in, both must say the same.
 */
describe('job state in snapshots and streams', () => {
  let env: Record<string, string>;
  let api: ApiServer & { url: string };
  let connection: Redis;
  let queue: Queue;
  let admin: Record<string, string>;
  const closers: (() => Promise<unknown>)[] = [];

  beforeEach(async () => {
    env = testEnv();
    api = await startApi(env);
    connection = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
    queue = new Queue('jobs', { connection, prefix: env.QUEUE_PREFIX });
    admin = await authHeaders('state-admin', ['admin']);
  });

  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await queue.close();
    await api.close();
    connection.disconnect();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
  });

  const data = { owner: 'state-user', requestHash: 'x', payload: {} };
  const add = (opts: Record<string, unknown> = {}) => queue.add('demo.work', data, { jobId: randomUUID(), ...opts });

  /** The state GET /api/jobs/:id and the stream's `connected` show, and BullMQ's own answer. */
  const states = async (jobId: string) => {
    const snapshot = await http('GET', `${api.url}/api/jobs/${jobId}`, undefined, admin);
    expect(snapshot.status).toBe(200);
    const stream = await connectSse(`${api.url}/api/jobs/${jobId}/events`, admin);
    await stream.waitFor((events) => events[0]?.event === 'connected');
    stream.close();
    return { snapshot: snapshot.body.state as string, connected: (stream.events[0]?.data as { job?: { state?: string } } | undefined)?.job?.state, bullmq: await queue.getJobState(jobId) };
  };

  it('agrees with BullMQ for waiting, delayed, prioritized, paused and waiting-children jobs', async () => {
    const waiting = await add();
    // Behind a backlog: the job is not near either end of the wait list.
    await queue.addBulk(Array.from({ length: 200 }, () => ({ name: 'demo.work', data, opts: { jobId: randomUUID() } })));
    const delayed = await add({ delay: 3_600_000 });
    const prioritized = await add({ priority: 5 });
    const flows = new FlowProducer({ connection, prefix: env.QUEUE_PREFIX });
    closers.push(() => flows.close());
    const flow = await flows.add({ name: 'demo.work', queueName: 'jobs', data, opts: { jobId: randomUUID() }, children: [{ name: 'demo.work', queueName: 'jobs', data, opts: { jobId: randomUUID() } }] });
    await queue.pause();
    const paused = await add();

    expect(await states(waiting.id!)).toEqual({ snapshot: 'waiting', connected: 'waiting', bullmq: 'waiting' });
    expect(await states(delayed.id!)).toEqual({ snapshot: 'delayed', connected: 'delayed', bullmq: 'delayed' });
    expect(await states(prioritized.id!)).toEqual({ snapshot: 'prioritized', connected: 'prioritized', bullmq: 'prioritized' });
    expect(await states(flow.job.id!)).toEqual({ snapshot: 'waiting-children', connected: 'waiting-children', bullmq: 'waiting-children' });
    expect(await states(paused.id!)).toEqual({ snapshot: 'waiting', connected: 'waiting', bullmq: 'waiting' });
  });

  it('reads a waiting job without searching the wait list, so its cost does not grow with the backlog', async () => {
    await queue.addBulk(Array.from({ length: 100 }, () => ({ name: 'demo.work', data, opts: { jobId: randomUUID() } })));
    const waiting = await add();
    await queue.addBulk(Array.from({ length: 100 }, () => ({ name: 'demo.work', data, opts: { jobId: randomUUID() } })));
    // MONITOR over a plain socket: every command Redis runs, those of scripts one by one, as lines.
    const url = new URL(testRedisUrl());
    const monitor = createConnection({ host: url.hostname, port: Number(url.port || 6379) });
    closers.push(async () => monitor.destroy());
    let output = '';
    monitor.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    monitor.write('MONITOR\r\n');
    await waitUntil('MONITOR to start', () => output.startsWith('+OK'));
    const marker = `job-state-marker-${randomUUID()}`;
    /** The lines of what ran since the last call: everything sent before the marker was seen once the marker is. */
    const commandsBefore = async (): Promise<string[]> => {
      await connection.echo(marker);
      const end = await waitUntil('the monitor to see the marker', () => {
        const at = output.indexOf(marker);
        return at >= 0 ? output.indexOf('\n', at) : undefined;
      });
      const lines = output.slice(0, end).split('\n');
      output = output.slice(end + 1);
      return lines;
    };
    await commandsBefore();

    const snapshot = await http('GET', `${api.url}/api/jobs/${waiting.id}`, undefined, admin);
    const stream = await connectSse(`${api.url}/api/jobs/${waiting.id}/events`, admin);
    await stream.waitFor((events) => events[0]?.event === 'connected');
    stream.close();
    const sent = await commandsBefore();

    expect(snapshot.body.state).toBe('waiting');
    expect(stream.events[0]?.data).toMatchObject({ job: { state: 'waiting' } });
    // The api's reads ran (they name the job's key), and no command looked into the wait list (the
    // scripts' calls are shown one by one; the script itself gets the key, unread, among its KEYS).
    const quoted = (key: string) => JSON.stringify(key);
    expect(sent.some((line) => line.includes(quoted(queue.toKey(waiting.id!))))).toBe(true);
    const intoWaitList = sent.filter((line) => !/\] "eval/i.test(line) && line.includes(quoted(queue.toKey('wait'))));
    expect(intoWaitList).toEqual([]);
  });

  it('agrees with BullMQ for active, completed, failed and retried jobs', async () => {
    const worker = new Worker('jobs', null, { connection, prefix: env.QUEUE_PREFIX });
    closers.push(() => worker.close(true));
    const token = randomUUID();
    const next = async (): Promise<Job> => {
      const job = (await worker.getNextJob(token)) as Job | undefined;
      if (!job) throw new Error('no job to take');
      return job;
    };

    const running = await add();
    const active = await next();
    expect(active.id).toBe(running.id);
    expect(await states(running.id!)).toEqual({ snapshot: 'active', connected: 'active', bullmq: 'active' });

    await active.moveToCompleted({ done: true }, token, false);
    expect(await states(running.id!)).toEqual({ snapshot: 'completed', connected: 'completed', bullmq: 'completed' });

    const failing = await add({ attempts: 1 });
    await (await next()).moveToFailed(new Error('boom'), token, false);
    expect(await states(failing.id!)).toEqual({ snapshot: 'failed', connected: 'failed', bullmq: 'failed' });

    // An attempt that failed with attempts left: delayed for its backoff.
    const retrying = await add({ attempts: 3, backoff: { type: 'fixed', delay: 3_600_000 } });
    await (await next()).moveToFailed(new Error('once'), token, false);
    expect(await states(retrying.id!)).toEqual({ snapshot: 'delayed', connected: 'delayed', bullmq: 'delayed' });

    // Failed and taken back by hand: finished once, waiting again.
    await (await queue.getJob(failing.id!))!.retry('failed');
    expect(await states(failing.id!)).toEqual({ snapshot: 'waiting', connected: 'waiting', bullmq: 'waiting' });
  });
});
