import { streamEventSchemas, type JobSnapshot } from '@jobstream/contracts';
import { streamSnapshot } from './stream-snapshot';

const job = (result?: unknown): JobSnapshot => ({
  jobId: 'j',
  type: 'demo.work',
  state: 'completed',
  progress: 100,
  attemptsMade: 1,
  createdAt: '2026-01-01T00:00:00.000Z',
  ...(result !== undefined ? { result } : {}),
});

describe('streamSnapshot', () => {
  it('leaves a result of more JSON bytes than the limit out and says how large it was', () => {
    const result = { text: 'é'.repeat(10) };
    const bytes = Buffer.byteLength(JSON.stringify(result));
    const snapshot = streamSnapshot(job(result), bytes - 1);
    expect(snapshot).toEqual({ ...job(), resultOmitted: true, resultBytes: bytes });
    expect(() => streamEventSchemas.connected.parse({ jobId: 'j', timestamp: 't', job: snapshot })).not.toThrow();
  });

  it('keeps a result at the limit, a job without a result, and every result when the limit is 0', () => {
    const result = { text: 'é'.repeat(10) };
    const bytes = Buffer.byteLength(JSON.stringify(result));
    expect(streamSnapshot(job(result), bytes)).toEqual(job(result));
    expect(streamSnapshot(job(), 1)).toEqual(job());
    expect(streamSnapshot(job(result), 0)).toEqual(job(result));
  });
});
