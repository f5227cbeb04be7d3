import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { http } from '../test-support/http';
import { startRedisServer, type RedisProcess } from '../test-support/redis-server';
import { runServiceToExit, spawnService, testEnv, type ServiceProcess } from '../test-support/services';
import { connectSse } from '../test-support/sse-client';
import { createTestCertificates, type TestCertificates } from '../test-support/tls-certs';
import { withTimeout } from '../test-support/wait';

/**
 * A managed Redis as the services meet it in production: TLS only (no plain port), a certificate
 * from a private CA issued for a name and not for the address connected to, and an ACL user with
 * a password. Every service runs as its own process against it.
 */
describe('a Redis that requires AUTH and TLS', () => {
  const SERVERNAME = 'redis.jobstream.test';
  const USERNAME = 'jobstream-app';
  const password = `pw-${randomUUID()}`;
  let certs: TestCertificates;
  let otherCa: TestCertificates;
  let redis: RedisProcess;
  const processes: ServiceProcess[] = [];

  beforeAll(async () => {
    certs = createTestCertificates({ dnsNames: [SERVERNAME], ips: [] });
    otherCa = createTestCertificates({ dnsNames: [SERVERNAME], ips: [] });
    redis = await startRedisServer({ password: `admin-${randomUUID()}`, tls: certs });
    const admin = new Redis(redis.url, { ...redis.clientOptions, maxRetriesPerRequest: 1 });
    await admin.acl('SETUSER', USERNAME, 'on', `>${password}`, '~*', '&*', '+@all');
    admin.disconnect();
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop('SIGKILL')));
    await redis?.destroy();
    certs?.destroy();
    otherCa?.destroy();
  });

  const envWith = (overrides: Record<string, string> = {}) =>
    testEnv({
      REDIS_URL: redis.url,
      REDIS_USERNAME: USERNAME,
      REDIS_PASSWORD: password,
      REDIS_TLS_CA_FILE: certs.caFile,
      REDIS_TLS_SERVERNAME: SERVERNAME,
      METRICS_PORT: '0',
      METRICS_ADMIN_PORT: '0',
      ...overrides,
    });

  it('runs a job from POST to its completed event through the api, the worker and the metrics service', async () => {
    const env = envWith();
    const api = await spawnService('api', env);
    const worker = await spawnService('worker', env);
    const metrics = await spawnService('metrics', env);
    processes.push(api, worker, metrics);

    const res = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 10, steps: 0 } });
    expect(res.status).toBe(202);
    const stream = await connectSse(`${api.url}/api/jobs/${res.body.jobId}/events`);
    await withTimeout('the job to finish on its stream', stream.ended, 20_000);
    expect(stream.lifecycle().map((e) => e.event)).toEqual(['waiting', 'active', 'completed']);
    expect((await fetch(`${metrics.url}/readyz`)).status).toBe(200);
    for (const p of [api, worker, metrics]) expect(p.output()).not.toContain(password);
  });

  it('fails the start at once with the reason, naming REDIS_PASSWORD, when Redis refuses the password', async () => {
    const wrong = `wrong-${randomUUID()}`;
    const run = await runServiceToExit('worker', envWith({ REDIS_PASSWORD: wrong }));
    expect(run.code).toBe(1);
    expect(run.output).toMatch(/Redis refused the connection's credentials \(WRONGPASS.*check REDIS_PASSWORD/);
    // Well before the 30 s readiness timeout, and one warning per connection rather than one per retry.
    expect(run.elapsedMs).toBeLessThan(15_000);
    expect(run.output.match(/redis connection error/g)?.length ?? 0).toBeLessThanOrEqual(2);
    expect(run.output).not.toContain(wrong);
  });

  it('fails the start naming REDIS_TLS_CA_FILE when the certificate was signed by another CA', async () => {
    const run = await runServiceToExit('api', envWith({ REDIS_TLS_CA_FILE: otherCa.caFile }));
    expect(run.code).toBe(1);
    expect(run.output).toMatch(/The TLS certificate of Redis was not accepted \((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)/);
    expect(run.output).toContain('check REDIS_TLS_CA_FILE');
    expect(run.elapsedMs).toBeLessThan(15_000);
  });

  it('fails the start naming REDIS_TLS_SERVERNAME when the certificate is not issued for the name connected to', async () => {
    const run = await runServiceToExit('api', envWith({ REDIS_TLS_SERVERNAME: 'elsewhere.jobstream.test' }));
    expect(run.code).toBe(1);
    expect(run.output).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID.*REDIS_TLS_SERVERNAME/);
  });

  it('refuses to start, naming REDIS_TLS_CA_FILE, when the CA file is missing or holds no certificate', async () => {
    const missing = await runServiceToExit('api', envWith({ REDIS_TLS_CA_FILE: join(certs.dir, 'no-such-ca.pem') }));
    expect(missing.code).toBe(1);
    expect(missing.output).toMatch(/REDIS_TLS_CA_FILE: cannot read the CA bundle \(ENOENT\)/);

    const notPem = join(certs.dir, 'not-a-ca.pem');
    writeFileSync(notPem, 'this is not a certificate\n');
    const garbage = await runServiceToExit('worker', envWith({ REDIS_TLS_CA_FILE: notPem }));
    expect(garbage.code).toBe(1);
    expect(garbage.output).toMatch(/REDIS_TLS_CA_FILE: is not a PEM file/);
  });

  it('fails the start with a hint at REDIS_TLS when it connects without TLS to the TLS-only port', async () => {
    const run = await runServiceToExit('api', envWith({ REDIS_URL: redis.url.replace('rediss://', 'redis://'), REDIS_TLS_CA_FILE: '', REDIS_TLS_SERVERNAME: '' }));
    expect(run.code).toBe(1);
    expect(run.output).toMatch(/Redis not ready after 30000 ms .*if it accepts only TLS, set REDIS_TLS=true or use a rediss:\/\/ REDIS_URL/);
    // The reconnects in between are summed up, not logged one by one.
    expect(run.output.match(/redis connection error/g)?.length ?? 0).toBeLessThanOrEqual(2 * 4);
  }, 90_000);
});
