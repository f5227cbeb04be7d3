import { jsonDepth } from './json-depth.js';

describe('jsonDepth', () => {
  it('counts arrays and objects, not scalars', () => {
    expect([null, 1, 'text', true].map((value) => jsonDepth(value, 64))).toEqual([0, 0, 0, 0]);
    expect(jsonDepth([], 64)).toBe(1);
    expect(jsonDepth({ a: [{ b: 1 }], c: 'd' }, 64)).toBe(3);
  });

  it('measures 200,000 levels without recursing, and stops counting past the limit', () => {
    let deep: unknown = [];
    for (let i = 1; i < 200_000; i += 1) deep = [deep];
    expect(jsonDepth(deep, 1_000_000)).toBe(200_000);
    expect(jsonDepth(deep, 64)).toBe(65);
  });
});
