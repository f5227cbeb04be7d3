import type { ApiServer } from '@jobstream/api';
import { randomUUID } from 'node:crypto';
import { authHeaders } from '../test-support/auth';
import { http } from '../test-support/http';
import { connectSse } from '../test-support/sse-client';
import { cleanupPrefix, startApi, testEnv, testRedisUrl } from '../test-support/services';

type Api = ApiServer & { url: string };

const ALLOWED = 'https://app.example.com';
const OTHER = 'https://evil.example.net';

/** The CSP directives as a map: `script-src` → `["'self'"]`. */
function cspDirectives(header: string | null): Map<string, string[]> {
  const directives = new Map<string, string[]>();
  for (const part of (header ?? '').split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) directives.set(name, values);
  }
  return directives;
}

const preflight = (api: Api, origin: string, requestHeaders = 'authorization,content-type,idempotency-key') =>
  fetch(`${api.url}/api/jobs`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': requestHeaders },
  });

describe('security headers and CORS', () => {
  let env: Record<string, string>;
  let api: Api;
  let sameOriginOnly: Api;

  beforeAll(async () => {
    env = testEnv({ CORS_ORIGINS: `${ALLOWED}, https://admin.example.com:8443` });
    api = await startApi(env);
    sameOriginOnly = await startApi({ ...env, CORS_ORIGINS: '' });
  });

  afterAll(async () => {
    await Promise.all([api.close(), sameOriginOnly.close()]);
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
  });

  it("sends helmet's headers with a CSP that lets a same-origin Vite build run but no inline script", async () => {
    for (const path of ['/', '/api/me', '/api/jobs/no-such-job', '/healthz']) {
      const res = await http('GET', `${api.url}${path}`);
      const csp = cspDirectives(res.headers.get('content-security-policy'));
      expect(csp.get('default-src')).toEqual(["'self'"]);
      expect(csp.get('script-src')).toEqual(["'self'"]);
      expect(csp.get('script-src-attr')).toEqual(["'none'"]);
      expect(csp.get('style-src')).toEqual(["'self'"]);
      expect(csp.get('connect-src')).toEqual(["'self'"]);
      expect(csp.get('object-src')).toEqual(["'none'"]);
      expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
      expect(csp.has('upgrade-insecure-requests')).toBe(false);
      expect(res.headers.get('content-security-policy')).not.toContain('unsafe-inline');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
      expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(res.headers.get('x-powered-by')).toBeNull();
    }
  });

  it('turns off the powerful features the dashboard never uses (Permissions-Policy) on its page', async () => {
    const res = await http('GET', `${api.url}/`);
    const policy = new Map((res.headers.get('permissions-policy') ?? '').split(',').map((part) => part.trim().split('=') as [string, string]));
    for (const feature of ['camera', 'microphone', 'geolocation', 'payment', 'usb']) expect(`${feature}=${policy.get(feature)}`).toBe(`${feature}=()`);
  });

  it('answers a preflight from an allowed origin with the headers clients send and a cache time', async () => {
    const res = await preflight(api, ALLOWED, 'authorization,content-type,last-event-id,idempotency-key');
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    const allowed = (res.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(',');
    expect(allowed).toEqual(expect.arrayContaining(['authorization', 'content-type', 'last-event-id', 'idempotency-key']));
    expect(res.headers.get('access-control-max-age')).toBe('600');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    expect(res.headers.get('vary')).toMatch(/origin/i);
    // An origin with a port is matched exactly.
    expect((await preflight(api, 'https://admin.example.com:8443')).headers.get('access-control-allow-origin')).toBe('https://admin.example.com:8443');
  });

  it('gives no allow-origin header to any other origin, and none at all without CORS_ORIGINS', async () => {
    for (const origin of [OTHER, 'https://app.example.com.evil.net', 'http://app.example.com', 'null']) {
      const res = await preflight(api, origin);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    }
    const res = await preflight(sameOriginOnly, ALLOWED);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const get = await http('GET', `${sameOriginOnly.url}/api/me`, undefined, { ...(await authHeaders('ann')), origin: ALLOWED });
    expect(get.status).toBe(200);
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('lets a page of an allowed origin read Location, Retry-After and the RateLimit headers', async () => {
    const res = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 10 } }, { ...(await authHeaders('ben')), origin: ALLOWED });
    expect(res.status).toBe(202);
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    const exposed = (res.headers.get('access-control-expose-headers') ?? '').split(',');
    expect(exposed).toEqual(
      expect.arrayContaining(['Location', 'Retry-After', 'Idempotent-Replayed', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'RateLimit-Policy']),
    );
    expect(res.headers.get('location')).toBe(`/api/jobs/${res.body.jobId}`);
    expect(res.headers.get('ratelimit-remaining')).toEqual(expect.any(String));
  });

  it('leaves SSE streams unbuffered and uncompressed, with CORS for an allowed origin and the headers that keep them from being taken for a page', async () => {
    const user = `cleo-${randomUUID()}`;
    const job = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 10 } }, await authHeaders(user));
    const stream = await connectSse(`${api.url}/api/jobs/${job.body.jobId}/events`, {
      ...(await authHeaders(user)),
      origin: ALLOWED,
      'accept-encoding': 'gzip, deflate, br',
    });
    try {
      expect(stream.status).toBe(200);
      expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      expect(stream.headers['content-encoding']).toBeUndefined();
      expect(stream.headers['x-accel-buffering']).toBe('no');
      expect(stream.headers['cache-control']).toBe('no-cache, no-transform');
      expect(stream.headers['access-control-allow-origin']).toBe(ALLOWED);
      expect(stream.headers['x-content-type-options']).toBe('nosniff');
      expect(stream.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
      // A stream is not a document: the document headers (and the memory they take per open stream) are left out.
      expect(stream.headers['x-frame-options']).toBeUndefined();
      expect(stream.headers['strict-transport-security']).toBeUndefined();
      await stream.waitFor((events) => events.some((e) => e.event === 'connected'));
    } finally {
      stream.close();
    }
  });

  it('sends nosniff and a CSP that allows nothing with the error answers of stream routes, and no CORS headers without an Origin', async () => {
    for (const path of ['/api/jobs/no-such-job/events', '/api/job-events?jobId=no-such-job', '/api/notifications/stream?types=%00']) {
      const res = await http('GET', `${api.url}${path}`);
      expect({ path, status: res.status >= 400 && res.status < 500 }).toEqual({ path, status: true });
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(res.headers.get('access-control-expose-headers')).toBeNull();
    }
  });

  it('answers an oversize body with 413 PAYLOAD_TOO_LARGE, security headers included', async () => {
    const small = await startApi({ ...env, BODY_LIMIT_BYTES: '1024' });
    try {
      const res = await http('POST', `${small.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 1, result: 'x'.repeat(2_000) } });
      expect(res.status).toBe(413);
      expect(res.body.code).toBe('PAYLOAD_TOO_LARGE');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    } finally {
      await small.close();
    }
  });
});
