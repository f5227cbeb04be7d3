import { ExpiryClock } from './expiry-clock';

describe('ExpiryClock', () => {
  it('makes a key due again only once the interval passed since its expiry was set', () => {
    const clock = new ExpiryClock(1_000, 10);
    expect(clock.due('a', 0)).toBe(true);
    clock.set('a', 0);
    expect(clock.due('a', 999)).toBe(false);
    expect(clock.due('a', 1_000)).toBe(true);
  });

  it('treats a forgotten key, or one dropped beyond its size, as due', () => {
    const clock = new ExpiryClock(1_000, 2);
    clock.set('a', 0);
    clock.set('b', 0);
    clock.set('c', 0);
    expect([clock.due('a', 1), clock.due('b', 1), clock.due('c', 1)]).toEqual([true, false, false]);
    clock.forget('b');
    expect(clock.due('b', 1)).toBe(true);
  });
});
