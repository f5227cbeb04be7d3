import { formatDuration } from './format-duration';

describe('formatDuration', () => {
  it('picks the unit after rounding, so no value reads as 1000 ms, 60.0 s or 60 min', () => {
    expect([0, 850.4, 999.4, 999.6, 2_449, 59_949, 59_950, 59_999].map(formatDuration)).toEqual([
      '0 ms',
      '850 ms',
      '999 ms',
      '1.0 s',
      '2.4 s',
      '59.9 s',
      '1 min 00 s',
      '1 min 00 s',
    ]);
    expect([61_000, 119_600, 3_599_400, 3_599_500, 7_380_000].map(formatDuration)).toEqual(['1 min 01 s', '2 min 00 s', '59 min 59 s', '1 h 00 min', '2 h 03 min']);
  });

  it('shows a dash for what is no duration', () => {
    expect([-1, Number.NaN, Number.POSITIVE_INFINITY].map(formatDuration)).toEqual(['–', '–', '–']);
  });
});
