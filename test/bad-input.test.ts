import type { ApiServer } from '@jobstream/api';
import { Redis } from 'ioredis';
import { http } from '../test-support/http';
import { rawRequest } from '../test-support/raw-http';
import { cleanupPrefix, startApi, testEnv, testRedisUrl } from '../test-support/services';
import { withDefaultAuth } from '../test-support/auth';

describe('bad input gets a clear 4xx with a stable code', () => {
  let env: Record<string, string>;
  let api: ApiServer & { url: string };

  beforeAll(async () => {
    env = testEnv({ BODY_LIMIT_BYTES: '2048' });
    api = await startApi(env);
  });

  afterAll(async () => {
    await api.close();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
  });

  const post = (body: unknown, headers: Record<string, string> = {}) => http('POST', `${api.url}/api/jobs`, body, headers);

  it('answers malformed JSON with 400 INVALID_JSON', async () => {
    const res = await post('{"type": "demo.work", ');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'Request body is not valid JSON', code: 'INVALID_JSON' });
  });

  it('answers a body that is not JSON with 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const res = await http('POST', `${api.url}/api/jobs`, undefined, { 'content-type': 'text/plain' });
    expect(res.status).toBe(415);
    expect(res.body.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const form = await fetch(`${api.url}/api/jobs`, { method: 'POST', headers: await withDefaultAuth({ 'content-type': 'application/x-www-form-urlencoded' }), body: 'type=demo.work' });
    expect(form.status).toBe(415);
  });

  it('answers a submission without any body with 400 VALIDATION_FAILED, not 415', async () => {
    const res = await rawRequest(api.url, 'POST', '/api/jobs');
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).code).toBe('VALIDATION_FAILED');
  });

  it('answers an oversize body with 413 PAYLOAD_TOO_LARGE', async () => {
    const res = await post({ type: 'demo.work', payload: { durationMs: 1, result: 'x'.repeat(5_000) } });
    expect(res.status).toBe(413);
    expect(res.body.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('names the field and the reason for an unknown job type', async () => {
    const res = await post({ type: 'rm -rf', payload: {} });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(res.body.details).toEqual([expect.objectContaining({ path: 'type' })]);
  });

  it('names the payload field and the reason for a payload that does not fit its type', async () => {
    const res = await post({ type: 'demo.work', payload: { durationMs: -5, steps: 'many' } });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    const paths = (res.body.details as { path: string }[]).map((d) => d.path).sort();
    expect(paths).toEqual(['payload.durationMs', 'payload.steps']);
    expect(res.body.error).toMatch(/payload\./);
  });

  it('rejects unknown fields, arrays and scalars as bodies', async () => {
    for (const body of [{ type: 'demo.work', payload: { durationMs: 1 }, extra: 1 }, [1, 2], 42, null, 'text']) {
      const res = await post(JSON.stringify(body));
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
    }
  });

  it('answers an unknown job with 404 JOB_NOT_FOUND on the snapshot and the stream', async () => {
    for (const path of ['/api/jobs/5b3c-unknown', '/api/jobs/5b3c-unknown/events', '/api/job-events?jobId=5b3c-unknown']) {
      const res = await http('GET', `${api.url}${path}`);
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('JOB_NOT_FOUND');
    }
  });

  it('answers hostile job ids with 400 INVALID_JOB_ID', async () => {
    for (const id of ['..%2F..%2Fetc', 'a%0D%0Aevent%3A%20x', 'x'.repeat(300), 'a:b', '%00']) {
      const res = await http('GET', `${api.url}/api/jobs/${id}`);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('INVALID_JOB_ID');
    }
    const missing = await http('GET', `${api.url}/api/job-events`);
    expect(missing.body.code).toBe('INVALID_JOB_ID');
  });

  it('answers unknown routes with 404 NOT_FOUND in the same error shape', async () => {
    const res = await http('GET', `${api.url}/api/nope`);
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ code: 'NOT_FOUND', error: expect.any(String) });
  });

  it('stores nothing for any rejected submission', async () => {
    const redis = new Redis(testRedisUrl());
    const keys = await redis.keys(`${env.QUEUE_PREFIX}*`);
    redis.disconnect();
    expect(keys.filter((k) => /:[0-9a-f-]{36}$/.test(k))).toEqual([]);
  });
});
