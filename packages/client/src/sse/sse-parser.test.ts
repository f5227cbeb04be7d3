import { backoffDelay, parseRetryAfter } from './backoff';
import { SseParser, type SseMessage } from './sse-parser';

/** Feeds `chunks` one by one and returns what was dispatched, with the retry values and comments. */
function parse(chunks: string[], initialId = '') {
  const messages: SseMessage[] = [];
  const retries: number[] = [];
  const comments: string[] = [];
  const parser = new SseParser(
    { onMessage: (m) => messages.push(m), onRetry: (ms) => retries.push(ms), onComment: (c) => comments.push(c) },
    initialId,
  );
  for (const chunk of chunks) parser.feed(chunk);
  return { messages, retries, comments, lastEventId: parser.lastEventId };
}

describe('the event-stream parser', () => {
  it('dispatches a block on its blank line with its event, data, id and retry', () => {
    const out = parse(['retry: 3000\nid: 1-0\nevent: progress\ndata: {"progress":50}\n\n']);
    expect(out.messages).toEqual([{ event: 'progress', data: '{"progress":50}', id: '1-0', lastEventId: '1-0' }]);
    expect(out.retries).toEqual([3000]);
  });

  it('gives the same result however the text is split, down to one character per chunk, with CRLF, LF or CR line ends', () => {
    const body = 'id: 7-1\r\nevent: a\r\ndata: x\r\n\r\nevent: b\rdata: y\r\rdata: z\n\n';
    const whole = parse([body]).messages;
    expect(whole.map((m) => [m.event, m.data, m.id, m.lastEventId])).toEqual([
      ['a', 'x', '7-1', '7-1'],
      ['b', 'y', undefined, '7-1'],
      ['message', 'z', undefined, '7-1'],
    ]);
    expect(parse(body.split('')).messages).toEqual(whole);
    // A CRLF split between two chunks is one line end, not two (which would dispatch early).
    expect(parse(['data: x\r', '\ndata: y\r\n\r\n']).messages.map((m) => m.data)).toEqual(['x\ny']);
  });

  it('joins data lines with newlines, strips one leading space only, and ignores comments and unknown fields', () => {
    const out = parse([': keep-alive\ndata:  two spaces\ndata\nfoo: bar\ndata:last\n\n']);
    expect(out.messages.map((m) => m.data)).toEqual([' two spaces\n\nlast']);
    expect(out.comments).toEqual(['keep-alive']);
  });

  it('does not dispatch a block without data, but keeps its id as the last event id', () => {
    const out = parse(['id: 5-0\n\nevent: lonely\n\ndata: after\n\n']);
    expect(out.messages).toEqual([{ event: 'message', data: 'after', id: undefined, lastEventId: '5-0' }]);
  });

  it('counts an id only once its block is complete, so a cut-off event is asked for again', () => {
    const out = parse(['id: 1-0\ndata: a\n\nid: 2-0\ndata: b\n']);
    expect(out.messages.map((m) => m.id)).toEqual(['1-0']);
    expect(out.lastEventId).toBe('1-0');
  });

  it('ignores an id containing NUL and a retry that is not all digits, and starts from the initial id', () => {
    const out = parse(['id: bad\0id\nretry: 10s\ndata: x\n\n'], '9-9');
    expect(out.messages[0]?.lastEventId).toBe('9-9');
    expect(out.retries).toEqual([]);
  });

  it('skips a leading byte order mark', () => {
    expect(parse(['\uFEFFdata: x\n\n']).messages.map((m) => m.data)).toEqual(['x']);
  });
});

describe('backoff', () => {
  it('draws from zero up to base times two to the attempt, never above the ceiling', () => {
    expect(backoffDelay(0, 1_000, 30_000, () => 0.999)).toBe(999);
    expect(backoffDelay(3, 1_000, 30_000, () => 0.5)).toBe(4_000);
    expect(backoffDelay(20, 1_000, 30_000, () => 0.999)).toBe(29_970);
    expect(backoffDelay(5, 1_000, 30_000, () => 0)).toBe(0);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('60')).toBe(60_000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});
