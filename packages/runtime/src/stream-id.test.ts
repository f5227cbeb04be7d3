import fc from 'fast-check';
import { compareStreamIds, streamIdTime } from './stream-id';

/** The order Redis gives stream ids, computed with BigInt. */
function reference(a: string, b: string): number {
  const [aMs = '0', aSeq = '0'] = a.split('-');
  const [bMs = '0', bSeq = '0'] = b.split('-');
  const ms = BigInt(aMs) - BigInt(bMs);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(aSeq) - BigInt(bSeq);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}

const digits = fc.stringMatching(/^\d{1,16}$/);
const streamId = fc.oneof(
  fc.tuple(digits, digits).map(([ms, seq]) => `${ms}-${seq}`),
  digits,
  fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })).map(([ms, seq]) => `${ms}-${seq}`),
);

describe('compareStreamIds', () => {
  it('orders by time, then by sequence, numerically', () => {
    expect(compareStreamIds('9-0', '10-0')).toBeLessThan(0);
    expect(compareStreamIds('10-2', '10-10')).toBeLessThan(0);
    expect(compareStreamIds('1700000000001-0', '1700000000000-99')).toBeGreaterThan(0);
    expect(compareStreamIds('5-5', '5-5')).toBe(0);
    expect(compareStreamIds('007-1', '7-1')).toBe(0);
    expect(compareStreamIds('5', '5-0')).toBe(0);
    expect(compareStreamIds('5', '5-1')).toBeLessThan(0);
  });

  it('orders ids as Redis does: by milliseconds, then sequence, leading zeros aside, a bare number as <ms>-0', () => {
    fc.assert(
      fc.property(streamId, streamId, (a, b) => {
        expect(Math.sign(compareStreamIds(a, b))).toBe(reference(a, b));
        expect(Math.sign(compareStreamIds(b, a))).toBe(reference(b, a));
      }),
      { numRuns: 5_000 },
    );
  });

  it('reads the time out of an id', () => {
    expect(streamIdTime('1700000000000-3')).toBe('2023-11-14T22:13:20.000Z');
  });
});
