import { http } from '../test-support/http';
import { connectSse } from '../test-support/sse-client';
import { useApiAndWorker } from '../test-support/services';

describe('the per-stream buffer cap (SSE_MAX_BUFFER_BYTES)', () => {
  // Results stay inline here (EVENT_RESULT_INLINE_MAX_BYTES), so that one event is larger than the cap.
  const stack = useApiAndWorker({ SSE_MAX_BUFFER_BYTES: '4096', EVENT_RESULT_INLINE_MAX_BYTES: '100000' });

  it('replays a history far larger than the cap, in one connection, to a client that reads', async () => {
    // 200 progress events and a 60 KB result: the replay is written at once, ~15 times the cap.
    const result = 'r'.repeat(60_000);
    const res = await http('POST', `${stack.api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 200, steps: 200, result } });
    expect(res.status).toBe(202);
    const live = await connectSse(`${stack.api.url}/api/jobs/${res.body.jobId}/events`);
    await live.ended;

    const replayed = await connectSse(`${stack.api.url}/api/jobs/${res.body.jobId}/events`);
    await replayed.ended;
    expect(replayed.lifecycle()).toHaveLength(203);
    expect(replayed.lifecycle().at(-1)).toMatchObject({ event: 'completed', data: { result } });
    const resumed = await connectSse(`${stack.api.url}/api/jobs/${res.body.jobId}/events`, { 'Last-Event-ID': replayed.lifecycle()[1]!.id! });
    await resumed.ended;
    expect(resumed.lifecycle().map((e) => e.id)).toEqual(replayed.lifecycle().slice(2).map((e) => e.id));
  });
});
