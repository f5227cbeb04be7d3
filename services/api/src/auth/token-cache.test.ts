import { ApiError } from '../http/api-error';
import type { TokenVerifier, VerifiedToken } from './jwt-verifier';
import { cachedVerifier } from './token-cache';

const T0 = 1_800_000_000_000;

/** A verifier that accepts `ok:<user>:<exp>` tokens, refuses anything else, and counts its calls. */
function countingVerifier(): { verify: TokenVerifier; calls: string[] } {
  const calls: string[] = [];
  const verify: TokenVerifier = async (token) => {
    calls.push(token);
    const [kind, userId = '', exp = '0'] = token.split(':');
    if (kind !== 'ok') throw new ApiError(401, 'INVALID_TOKEN', 'not valid');
    return { principal: { userId, roles: new Set() }, expiresAt: Number(exp) } satisfies VerifiedToken;
  };
  return { verify, calls };
}

describe('token cache', () => {
  it('verifies a token once and answers its later uses from memory', async () => {
    const { verify, calls } = countingVerifier();
    const cached = cachedVerifier(verify, { maxEntries: 10, clockSkewS: 0, now: () => T0 });
    const token = `ok:alice:${T0 / 1000 + 60}`;
    const first = await cached(token);
    const second = await cached(token);
    expect(second).toBe(first);
    expect(second.principal.userId).toBe('alice');
    expect(calls).toEqual([token]);
  });

  it('never answers from memory once the token is past its exp and the clock skew: it is verified again', async () => {
    let now = T0;
    const { verify, calls } = countingVerifier();
    const exp = T0 / 1000 + 60;
    const cached = cachedVerifier(verify, { maxEntries: 10, clockSkewS: 5, now: () => now });
    const token = `ok:alice:${exp}`;
    await cached(token);
    // The last second jose still accepts (exp + skew, in whole seconds): from memory.
    now = (exp + 4) * 1000 + 999;
    await cached(token);
    expect(calls).toHaveLength(1);
    // From the second jose refuses it on: the verifier decides again.
    now = (exp + 5) * 1000;
    await cached(token);
    expect(calls).toHaveLength(2);
  });

  it('remembers no refusal: a refused token is checked, and refused, every time', async () => {
    const { verify, calls } = countingVerifier();
    const cached = cachedVerifier(verify, { maxEntries: 10, clockSkewS: 0, now: () => T0 });
    await expect(cached('bad')).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    await expect(cached('bad')).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    expect(calls).toEqual(['bad', 'bad']);
  });

  it('keeps at most maxEntries tokens, dropping the least recently used', async () => {
    const { verify, calls } = countingVerifier();
    const cached = cachedVerifier(verify, { maxEntries: 2, clockSkewS: 0, now: () => T0 });
    const exp = T0 / 1000 + 60;
    const [a, b, c] = ['a', 'b', 'c'].map((user) => `ok:${user}:${exp}`) as [string, string, string];
    await cached(a);
    await cached(b);
    await cached(a);
    await cached(c);
    expect(calls).toEqual([a, b, c]);
    await cached(a);
    await cached(c);
    expect(calls).toEqual([a, b, c]);
    await cached(b);
    expect(calls).toEqual([a, b, c, b]);
  });

  it('verifies every request when turned off', async () => {
    const { verify, calls } = countingVerifier();
    const cached = cachedVerifier(verify, { maxEntries: 0, clockSkewS: 0, now: () => T0 });
    const token = `ok:alice:${T0 / 1000 + 60}`;
    await cached(token);
    await cached(token);
    expect(calls).toHaveLength(2);
  });
});
