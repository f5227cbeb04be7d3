import { createClient, type JobWatchItem, type NotificationItem } from '@jobstream/client';
import { lifecycleEventSchemas, notificationStreamSchemas, streamEventSchemas } from '@jobstream/contracts';
import { DEFAULT_TEST_USER, tokenFor } from '../test-support/auth';
import { http } from '../test-support/http';
import { useApiAndWorker } from '../test-support/services';
import { connectSse } from '../test-support/sse-client';
import { waitUntil } from '../test-support/wait';
import { named, openStream } from './notifications-helpers';

const INLINE_MAX_BYTES = 1_024;
const BIG = { text: 'x'.repeat(5_000), n: 1 };
const BIG_BYTES = Buffer.byteLength(JSON.stringify(BIG));
const SMALL = { ok: true };

async function completedJob(apiUrl: string, result: unknown): Promise<string> {
  const res = await http('POST', `${apiUrl}/api/jobs`, { type: 'demo.work', payload: { durationMs: 10, result } });
  expect(res.status).toBe(202);
  const jobId = res.body.jobId as string;
  await waitUntil('the job to complete', async () => (await http('GET', `${apiUrl}/api/jobs/${jobId}`)).body.state === 'completed');
  return jobId;
}

/**
 * A result larger than EVENT_RESULT_INLINE_MAX_BYTES stays in the job: the events and stream
 * snapshots say it was left out and how large it is, `GET /api/jobs/:id` has it, and the SDK
 * fetches it so that its callers get it as before.
 */
describe('a job result larger than EVENT_RESULT_INLINE_MAX_BYTES', () => {
  const stack = useApiAndWorker({ EVENT_RESULT_INLINE_MAX_BYTES: String(INLINE_MAX_BYTES) });

  it('is left out of completed, the owner channel and the stream snapshots with its size, and GET /api/jobs/:id has it', async () => {
    const channel = await openStream(stack.api.url, DEFAULT_TEST_USER);
    const jobId = await completedJob(stack.api.url, BIG);
    const small = await completedJob(stack.api.url, SMALL);

    const stream = await connectSse(`${stack.api.url}/api/jobs/${jobId}/events`);
    await stream.ended;
    const completed = stream.lifecycle().at(-1)!;
    expect(completed.event).toBe('completed');
    expect(completed.data).toEqual({ jobId, timestamp: expect.any(String), duration: expect.any(Number), resultOmitted: true, resultBytes: BIG_BYTES });
    expect(lifecycleEventSchemas.completed.parse(completed.data)).toEqual(completed.data);
    const connected = named(stream.events, 'connected')[0]!;
    expect(connected.data.job).toMatchObject({ state: 'completed', resultOmitted: true, resultBytes: BIG_BYTES });
    expect(connected.data.job).not.toHaveProperty('result');
    expect(streamEventSchemas.connected.parse(connected.data)).toEqual(connected.data);

    await channel.waitFor((events) => named(events, 'job.completed').length === 2);
    channel.close();
    const [big, inline] = named(channel.events, 'job.completed');
    expect(big!.data).toMatchObject({ jobId, resultOmitted: true, resultBytes: BIG_BYTES });
    expect(big!.data).not.toHaveProperty('result');
    expect(notificationStreamSchemas['job.completed'].parse(big!.data)).toEqual(big!.data);
    expect(inline!.data).toMatchObject({ jobId: small, result: SMALL });
    expect(inline!.data).not.toHaveProperty('resultOmitted');

    expect((await http('GET', `${stack.api.url}/api/jobs/${jobId}`)).body.result).toEqual(BIG);
    const smallStream = await connectSse(`${stack.api.url}/api/jobs/${small}/events`);
    await smallStream.ended;
    expect(smallStream.lifecycle().at(-1)?.data).toMatchObject({ result: SMALL });
    expect(named(smallStream.events, 'connected')[0]?.data.job).toMatchObject({ result: SMALL });
  });

  it('reaches SDK callers whole: watchJob and watchNotifications fetch what the stream left out', async () => {
    const client = createClient({ baseUrl: stack.api.url, token: await tokenFor(DEFAULT_TEST_USER) });
    const notifications = client.watchNotifications({ types: ['job.completed'] });
    const items: NotificationItem[] = [];
    notifications.on('notification', (item) => items.push(item));
    await waitUntil('the notification watch to be live', () => notifications.connectionState === 'live');

    const { jobId } = await client.enqueue('demo.work', { durationMs: 200, result: BIG });
    const live: JobWatchItem[] = [];
    const watch = client.watchJob(jobId);
    let ended: unknown;
    watch.on('end', (job) => (ended = job.result));
    for await (const item of watch) live.push(item);
    const completed = live.at(-1)!;
    expect(completed).toMatchObject({ event: 'completed', data: { jobId, result: BIG } });
    expect(completed.event === 'completed' && completed.data).not.toHaveProperty('resultOmitted');
    expect(watch.job?.result).toEqual(BIG);
    expect(ended).toEqual(BIG);

    // Watching the finished job again: its snapshot and its replayed completed carry the result.
    const again: JobWatchItem[] = [];
    for await (const item of client.watchJob(jobId)) again.push(item);
    expect(again[0]).toMatchObject({ event: 'snapshot', reason: 'connected', job: { state: 'completed', result: BIG } });
    expect(again.at(-1)).toMatchObject({ event: 'completed', data: { result: BIG } });

    // Resuming after `active`: the snapshot of a watch that starts with a cursor is the job as it is.
    const active = live.find((i) => i.event === 'active');
    const resumed: JobWatchItem[] = [];
    for await (const item of client.watchJob(jobId, { lastEventId: active?.event === 'active' ? active.id : undefined })) resumed.push(item);
    expect(resumed[0]).toMatchObject({ event: 'snapshot', job: { result: BIG } });

    await waitUntil('job.completed on the notification watch', () => items.some((i) => i.event === 'job.completed' && i.data.jobId === jobId));
    notifications.close();
    const notified = items.find((i) => i.event === 'job.completed' && i.data.jobId === jobId)!;
    expect(notified.data).toMatchObject({ jobId, result: BIG, jobType: 'demo.work' });
    expect(notified.data).not.toHaveProperty('resultOmitted');
  });
});
