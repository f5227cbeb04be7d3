import { isTerminalEvent, type LifecycleEvent } from '@jobstream/contracts';
import type { HistoryRead, StreamBounds } from '@jobstream/runtime';
import { markRetriedOutcomes, planReplay } from './history-replay';

const ev = (id: string, event: LifecycleEvent['event'] = 'progress'): LifecycleEvent =>
  ({ id, event, data: event === 'completed' ? { jobId: 'j', timestamp: 't', result: 1, duration: 1 } : { jobId: 'j', timestamp: 't', progress: 1 } }) as LifecycleEvent;

const history = [ev('10-0', 'waiting'), ev('10-1', 'active'), ev('12-0'), ev('15-0', 'completed')];
/** As XINFO STREAM tells it for `history`: nothing trimmed yet unless `removed`. */
const bounds = (firstId: string, lastId: string, removed = false): StreamBounds => ({ firstId, lastGeneratedId: lastId, maxDeletedId: '0-0', removed });
const read = (afterIndex?: number): HistoryRead => ({
  events: afterIndex === undefined ? history : history.slice(afterIndex + 1),
  bounds: bounds('10-0', '15-0'),
  last: history.at(-1)!,
});

describe('planReplay', () => {
  it('replays the whole history to a client without a cursor', () => {
    expect(planReplay(read(), undefined, isTerminalEvent)).toEqual({ kind: 'replay', events: history });
  });

  it('replays what follows a cursor inside the stored range', () => {
    expect(planReplay(read(1), '10-1', isTerminalEvent)).toEqual({ kind: 'replay', events: history.slice(2) });
    expect(planReplay(read(0), '10-0', isTerminalEvent)).toEqual({ kind: 'replay', events: history.slice(1) });
  });

  it('says finished when the cursor is the terminal event', () => {
    expect(planReplay(read(3), '15-0', isTerminalEvent)).toEqual({ kind: 'finished' });
  });

  it('resets when the cursor is older than the oldest stored event (trimmed)', () => {
    expect(planReplay(read(), '9-5', isTerminalEvent)).toEqual({ kind: 'reset' });
    const trimmed = { ...read(), bounds: bounds('10-0', '15-0', true) };
    expect(planReplay(trimmed, '0-0', isTerminalEvent)).toEqual({ kind: 'reset' });
  });

  it('replays everything after 0-0 while nothing was ever trimmed', () => {
    expect(planReplay(read(), '0-0', isTerminalEvent)).toEqual({ kind: 'replay', events: history });
  });

  it('resets when the cursor is newer than anything stored, or nothing is stored', () => {
    expect(planReplay(read(3), '16-0', isTerminalEvent)).toEqual({ kind: 'reset' });
    expect(planReplay({ events: [] }, '10-0', isTerminalEvent)).toEqual({ kind: 'reset' });
  });

  it('compares ids numerically, not as text', () => {
    const wide = { events: [], bounds: bounds('9-0', '100-0'), last: ev('100-0') };
    expect(planReplay(wide, '10-0', isTerminalEvent).kind).toBe('replay');
  });
});

describe('markRetriedOutcomes', () => {
  const failed = (id: string): LifecycleEvent => ({ id, event: 'failed', data: { jobId: 'j', timestamp: 't', error: 'e', attemptsMade: 3, willRetry: false } });
  const cancelled = (id: string): LifecycleEvent => ({ id, event: 'cancelled', data: { jobId: 'j', timestamp: 't', by: 'owner', previousState: 'active' } });

  it('marks every outcome older than the newest stored event retried, so that none of them ends the stream', () => {
    const page = [ev('10-0', 'waiting'), failed('11-0'), ev('12-0', 'waiting'), cancelled('13-0'), ev('14-0', 'waiting'), ev('15-0', 'completed')];
    const marked = markRetriedOutcomes(page, '15-0');
    expect(marked.filter(isTerminalEvent).map((e) => e.id)).toEqual(['15-0']);
    expect(marked[1]?.data).toMatchObject({ retried: true, willRetry: false });
    expect(marked[3]?.data).toMatchObject({ retried: true, by: 'owner' });
    expect(page[1]?.data).not.toHaveProperty('retried');
  });

  it('leaves the newest outcome, a retry-pending failure and a page without a known newest event alone', () => {
    const pending: LifecycleEvent = { id: '11-0', event: 'failed', data: { jobId: 'j', timestamp: 't', error: 'e', attemptsMade: 1, willRetry: true } };
    expect(markRetriedOutcomes([pending, failed('12-0')], '12-0')).toEqual([pending, failed('12-0')]);
    expect(markRetriedOutcomes([failed('12-0')], undefined)).toEqual([failed('12-0')]);
  });
});
