import { traceparentFromOptsField } from './job-trace';

describe('the enqueue span stored in a job hash', () => {
  const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

  it('reads the traceparent BullMQ stored as tm in the options field', () => {
    expect(traceparentFromOptsField(JSON.stringify({ jobId: 'j', tm: traceparent, attempts: 3 }))).toBe(traceparent);
  });

  it('ignores a missing field, options without tm, and a tm that is no traceparent', () => {
    expect(traceparentFromOptsField(null)).toBeUndefined();
    expect(traceparentFromOptsField(JSON.stringify({ attempts: 3 }))).toBeUndefined();
    for (const tm of ['{"traceparent":"x"}', '00-zz-b7ad6b7169203331-01', `${traceparent}\nx`, 42, null]) {
      expect(traceparentFromOptsField(JSON.stringify({ tm }))).toBeUndefined();
    }
  });

  it('ignores options that are not JSON or not an object', () => {
    expect(traceparentFromOptsField('{not json')).toBeUndefined();
    expect(traceparentFromOptsField('null')).toBeUndefined();
    expect(traceparentFromOptsField('"a string"')).toBeUndefined();
  });
});
