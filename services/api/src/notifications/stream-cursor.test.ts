import { ApiError } from '../http/api-error';
import { channelOfKey, cursorKeyOf, formatStreamCursor, parseStreamCursor } from './stream-cursor';

describe('the notification stream cursor', () => {
  it('reads back what it writes, in a fixed channel order', () => {
    const cursor = parseStreamCursor('t:news=5-0,s=1700000000000-3,u=1700000000001-0,t:alerts=0-0', 'Last-Event-ID');
    expect(formatStreamCursor(cursor)).toBe('u=1700000000001-0,s=1700000000000-3,t:alerts=0-0,t:news=5-0');
    expect(parseStreamCursor(formatStreamCursor(cursor), 'x')).toEqual(cursor);
  });

  it('maps cursor keys to the channels of the stream’s user and back', () => {
    for (const key of ['u', 's', 't:news'] as const) expect(cursorKeyOf(channelOfKey(key, 'alice'))).toBe(key);
    expect(channelOfKey('u', 'alice')).toBe('u:alice');
  });

  it.each([
    ['a job stream id', '1700000000000-0'],
    ['a bad id', 'u=abc'],
    ['a channel twice', 'u=1-0,u=2-0'],
    ['an unknown channel', 'x=1-0'],
    ['a topic that cannot exist', 't:a b=1-0'],
    ['an injected line', 'u=1-0\nevent: reset'],
    ['an empty string', ''],
    ['too long a cursor', `u=1-0,${'t:x=1-0,'.repeat(600)}`],
  ])('refuses %s with 400 INVALID_LAST_EVENT_ID', (_what, text) => {
    expect(() => parseStreamCursor(text, 'Last-Event-ID')).toThrow(ApiError);
    try {
      parseStreamCursor(text, 'Last-Event-ID');
    } catch (err) {
      expect(err).toMatchObject({ status: 400, code: 'INVALID_LAST_EVENT_ID' });
    }
  });
});
