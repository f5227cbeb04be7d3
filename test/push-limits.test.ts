import { http } from '../test-support/http';
import { logSink } from '../test-support/log-sink';
import { waitUntil } from '../test-support/wait';
import { usePushStack } from './push-helpers';

/** A push limit counts in clock minutes: a test that needs one minute for all its pushes starts early in one. */
async function earlyInAMinute(): Promise<void> {
  const intoMinute = Date.now() % 60_000;
  if (intoMinute > 40_000) await new Promise((resolve) => setTimeout(resolve, 60_000 - intoMinute + 50));
}

describe('push limits', () => {
  const t = usePushStack();
  const { start, register, notify, pushesTo, withPushQueue, skipped } = t;

  it('fits the payload in the 4 KB of Web Push whatever the notification holds', async () => {
    await start();
    await register(t.alice, 'alice-phone');
    // Each control character is six bytes of JSON (\u0001): 2,000 of them would be 12 KB.
    const res = await http('POST', `${t.api.url}/api/notifications`, { userId: 'alice', type: 'chat.message', title: '\u0002'.repeat(200), message: `x${'\u0001'.repeat(1_998)}x` }, t.publisher);
    expect(res.status).toBe(201);
    await waitUntil('the push', () => pushesTo('alice-phone').length > 0);
    expect(t.fake.problems).toEqual([]);
    expect(Buffer.byteLength(JSON.stringify(pushesTo('alice-phone')[0]?.payload))).toBeLessThanOrEqual(3_072);
  });

  it('drops the pushes of a user past PUSH_MAX_PER_USER_PER_MINUTE, and not those of other users', async () => {
    await earlyInAMinute();
    await start({ PUSH_MAX_PER_USER_PER_MINUTE: '2' });
    await register(t.alice, 'alice-phone');
    await register(t.bob, 'bob-phone');
    for (const n of [1, 2, 3, 4]) await notify('alice', `alice ${n}`);
    await notify('bob', 'bob 1');
    await waitUntil('bob’s push', () => pushesTo('bob-phone').length === 1);
    const queued = (await withPushQueue((queue) => queue.getJobs(['completed', 'active', 'waiting', 'delayed']))).filter((job) => job.data.userId === 'alice');
    expect(queued.map((job) => job.data.payload.title).sort()).toEqual(['alice 1', 'alice 2']);
  });

  it("drops a chatty device's pushes past PUSH_MAX_PER_DEVICE_PER_MINUTE while the user's other device still gets its pushes", async () => {
    await earlyInAMinute();
    await start({ PUSH_MAX_PER_DEVICE_PER_MINUTE: '2', PUSH_MAX_PER_USER_PER_MINUTE: '100' });
    const phone = await register(t.alice, 'alice-phone');
    for (const n of [1, 2]) await notify('alice', `alice ${n}`);
    await waitUntil('the phone’s two pushes', () => pushesTo('alice-phone').length === 2);
    // The laptop joins once the phone has used its minute: the user's next pushes reach the laptop only.
    await register(t.alice, 'alice-laptop');
    for (const n of [3, 4]) await notify('alice', `alice ${n}`);
    await waitUntil('the laptop’s two pushes', () => pushesTo('alice-laptop').length === 2);
    // The phone's jobs would have been queued in the same batches as the laptop's.
    const queuedForPhone = (await withPushQueue((queue) => queue.getJobs(['completed', 'active', 'waiting', 'delayed']))).filter((job) => job.data.subscriptionId === phone);
    expect(queuedForPhone.map((job) => job.data.payload.title).sort()).toEqual(['alice 1', 'alice 2']);
    expect(pushesTo('alice-phone').map((p) => p.payload.title)).toEqual(['alice 1', 'alice 2']);
    expect(pushesTo('alice-laptop').map((p) => p.payload.title)).toEqual(['alice 3', 'alice 4']);
    expect(await skipped('device_rate_limited')).toBe(2);
    expect(await skipped('rate_limited')).toBe(0);
  });

  it('refuses, for each device, a push whose request is over PUSH_MAX_PAYLOAD_BYTES, and says so in its log and metrics', async () => {
    const logs = logSink();
    await start({ PUSH_MAX_PAYLOAD_BYTES: '1024' }, logs);
    const phone = await register(t.alice, 'alice-phone');
    const laptop = await register(t.alice, 'alice-laptop');
    // 400 characters of three UTF-8 bytes each: 1,200 bytes of body alone.
    expect((await http('POST', `${t.api.url}/api/notifications`, { userId: 'alice', type: 'chat.message', title: 'big', message: '€'.repeat(400) }, t.publisher)).status).toBe(201);
    await notify('alice', 'small');
    await waitUntil('the small push on both devices', () => pushesTo('alice-phone').length === 1 && pushesTo('alice-laptop').length === 1);
    await waitUntil('both refusals counted', async () => (await skipped('oversized')) === 2);
    expect(t.fake.received.map((p) => p.payload.title)).toEqual(['small', 'small']);
    const refusals = logs.lines().filter((line) => line.msg === 'push refused for this device: its request is over PUSH_MAX_PAYLOAD_BYTES');
    expect(refusals.map((line) => line.subscriptionId).sort()).toEqual([phone, laptop].sort());
    for (const line of refusals) expect(line).toMatchObject({ level: 40, userId: 'alice', kind: 'web', maxBytes: 1024, bytes: expect.any(Number) });
    for (const line of refusals) expect(line.bytes as number).toBeGreaterThan(1024);
    expect(await skipped('device_rate_limited')).toBe(0);
  });
});
