import { lifecycleEventSchemas } from '@jobstream/contracts';
import { JOB_CANCELLED_EVENT, readFields } from '@jobstream/runtime';
import { isFinalEvent, mapBullEvent } from './map-bull-event';
import { ATTEMPT_FAILED_EVENT } from './attempt-failed';

const id = '1700000000000-1';

describe('mapBullEvent', () => {
  it('maps completed with the parsed result and the duration of the attempt', () => {
    const event = mapBullEvent(id, readFields(['event', 'completed', 'jobId', 'j1', 'returnvalue', '{"a":1}', 'prev', 'active']), {
      processedOn: 1_000,
      finishedOn: 1_250,
    });
    expect(event).toEqual({
      jobId: 'j1',
      id,
      event: 'completed',
      data: { jobId: 'j1', timestamp: '2023-11-14T22:13:20.000Z', result: { a: 1 }, duration: 250 },
    });
  });

  it('leaves a result larger than the inline limit out of completed, with its size, and keeps one at the limit', () => {
    const big = JSON.stringify({ text: 'é'.repeat(10) });
    const bytes = Buffer.byteLength(big);
    const fields = readFields(['event', 'completed', 'jobId', 'j1', 'returnvalue', big]);
    const omitted = mapBullEvent(id, fields, { processedOn: 1, finishedOn: 3 }, bytes - 1);
    expect(omitted?.data).toEqual({ jobId: 'j1', timestamp: '2023-11-14T22:13:20.000Z', duration: 2, resultOmitted: true, resultBytes: bytes });
    expect(mapBullEvent(id, fields, {}, bytes)?.data).toMatchObject({ result: { text: 'é'.repeat(10) } });
    expect(mapBullEvent(id, fields, {}, 0)?.data).toMatchObject({ result: { text: 'é'.repeat(10) } });
    expect(() => lifecycleEventSchemas.completed.parse(omitted?.data)).not.toThrow();
  });

  it('maps a final failure and a retried attempt to failed with willRetry', () => {
    const final = mapBullEvent(id, readFields(['event', 'failed', 'jobId', 'j1', 'failedReason', 'boom']), { attemptsMade: 3 });
    expect(final?.data).toMatchObject({ error: 'boom', attemptsMade: 3, willRetry: false });
    const retried = mapBullEvent(id, readFields(['event', ATTEMPT_FAILED_EVENT, 'jobId', 'j1', 'failedReason', 'x', 'attemptsMade', '1']));
    expect(retried?.data).toMatchObject({ error: 'x', attemptsMade: 1, willRetry: true });
  });

  it('maps progress numbers and objects, and delayed with the time it waits for', () => {
    expect(mapBullEvent(id, readFields(['event', 'progress', 'jobId', 'j', 'data', '40']))?.data).toMatchObject({ progress: 40 });
    expect(mapBullEvent(id, readFields(['event', 'progress', 'jobId', 'j', 'data', '{"step":2}']))?.data).toMatchObject({
      progress: { step: 2 },
    });
    expect(mapBullEvent(id, readFields(['event', 'delayed', 'jobId', 'j', 'delay', '1700000005000']))?.data).toMatchObject({
      delayedUntil: '2023-11-14T22:13:25.000Z',
    });
  });

  it('maps the api\'s cancel of a removed job, and a failed job the worker marked as cancelled, to a final cancelled', () => {
    const removed = mapBullEvent(id, readFields(['event', JOB_CANCELLED_EVENT, 'jobId', 'j', 'owner', 'alice', 'jobType', 'demo.work', 'by', 'admin', 'previousState', 'delayed']));
    expect(removed).toMatchObject({ event: 'cancelled', data: { jobId: 'j', by: 'admin', previousState: 'delayed' } });
    expect(isFinalEvent(removed!)).toBe(true);
    const stopped = mapBullEvent(id, readFields(['event', 'failed', 'jobId', 'j', 'failedReason', 'cancelled by its owner']), { cancelledBy: 'owner' });
    expect(stopped).toMatchObject({ event: 'cancelled', data: { by: 'owner', previousState: 'active' } });
  });

  it('skips a cancel event whose fields do not fit (a state that was never removable, an unknown canceller)', () => {
    expect(mapBullEvent(id, readFields(['event', JOB_CANCELLED_EVENT, 'jobId', 'j', 'by', 'admin', 'previousState', 'completed']))).toBeUndefined();
    expect(mapBullEvent(id, readFields(['event', JOB_CANCELLED_EVENT, 'jobId', 'j', 'by', 'root', 'previousState', 'waiting']))).toBeUndefined();
  });

  it('skips queue events that are not part of a job lifecycle', () => {
    for (const name of ['added', 'drained', 'duplicated', 'retries-exhausted', 'removed']) {
      expect(mapBullEvent(id, readFields(['event', name, 'jobId', 'j']))).toBeUndefined();
    }
    expect(mapBullEvent(id, readFields(['event', 'drained']))).toBeUndefined();
  });
});

describe('mapBullEvent output', () => {
  it('fits the contracts schema of its event for every lifecycle event it produces', () => {
    const samples: string[][] = [
      ['event', 'waiting', 'jobId', 'j'],
      ['event', 'active', 'jobId', 'j'],
      ['event', 'stalled', 'jobId', 'j'],
      ['event', 'delayed', 'jobId', 'j', 'delay', '1700000005000'],
      ['event', 'progress', 'jobId', 'j', 'data', '"not a number"'],
      ['event', 'completed', 'jobId', 'j', 'returnvalue', 'not json'],
      ['event', 'failed', 'jobId', 'j'],
      ['event', ATTEMPT_FAILED_EVENT, 'jobId', 'j', 'failedReason', 'x', 'attemptsMade', '2'],
      ['event', JOB_CANCELLED_EVENT, 'jobId', 'j', 'owner', 'o', 'jobType', 't', 'by', 'owner', 'previousState', 'waiting'],
    ];
    for (const fields of samples) {
      const event = mapBullEvent(id, readFields(fields))!;
      expect(() => lifecycleEventSchemas[event.event].parse(event.data)).not.toThrow();
    }
  });
});
