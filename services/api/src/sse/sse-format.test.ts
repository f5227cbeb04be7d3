import { formatSse } from './sse-format';

describe('formatSse', () => {
  it('writes id, event and one-line JSON data, ending with a blank line', () => {
    expect(formatSse({ id: '1-0', event: 'progress', data: { progress: 5 } })).toBe(
      'id: 1-0\nevent: progress\ndata: {"progress":5}\n\n',
    );
  });

  it('keeps user content with newlines on one data line, so it cannot inject SSE fields', () => {
    const out = formatSse({ event: 'completed', data: { result: 'a\n\nevent: failed\r\nid: 9' } });
    expect(out.split('\n').filter((line) => line.startsWith('data:'))).toHaveLength(1);
    expect(out.match(/^event:/gm)).toHaveLength(1);
    expect(out.endsWith('\n\n')).toBe(true);
  });

  it('puts the retry hint in whole milliseconds first', () => {
    expect(formatSse({ event: 'connected', data: {}, retryMs: 2500.7 })).toMatch(/^retry: 2501\n/);
  });
});
