import { formatUsd } from './format-usd';

describe('formatUsd', () => {
  it('shows cents, and the two significant digits of an amount under a cent so it never reads as nothing', () => {
    expect(formatUsd(0)).toBe('$0.00');
    expect(formatUsd(12.4)).toBe('$12.40');
    expect(formatUsd(100)).toBe('$100.00');
    expect(formatUsd(0.01)).toBe('$0.01');
    expect(formatUsd(0.000092)).toBe('$0.000092');
    expect(formatUsd(0.0042)).toBe('$0.0042');
    expect(formatUsd(-0.35)).toBe('$-0.35');
  });
});
