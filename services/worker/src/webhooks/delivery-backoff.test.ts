import { deliveryBackoffMs } from './delivery-backoff';

describe('delivery backoff', () => {
  it('doubles from the base and stops at the cap', () => {
    const top = () => 1;
    expect([1, 2, 3, 4, 5, 12].map((n) => deliveryBackoffMs(n, 60_000, 3_600_000, top))).toEqual([60_000, 120_000, 240_000, 480_000, 960_000, 3_600_000]);
  });

  it('jitters each delay between half and all of it', () => {
    expect(deliveryBackoffMs(3, 1_000, 60_000, () => 0)).toBe(2_000);
    expect(deliveryBackoffMs(3, 1_000, 60_000, () => 0.5)).toBe(3_000);
  });
});
