import { compareStreamIds, streamIdTime } from './stream-id';

describe('compareStreamIds', () => {
  it('orders by time, then by sequence, numerically', () => {
    expect(compareStreamIds('9-0', '10-0')).toBeLessThan(0);
    expect(compareStreamIds('10-2', '10-10')).toBeLessThan(0);
    expect(compareStreamIds('1700000000001-0', '1700000000000-99')).toBeGreaterThan(0);
    expect(compareStreamIds('5-5', '5-5')).toBe(0);
  });

  it('reads the time out of an id', () => {
    expect(streamIdTime('1700000000000-3')).toBe('2023-11-14T22:13:20.000Z');
  });
});
