import { randomUUID } from 'node:crypto';
import { http } from '../../test-support/http';
import { prefixInSlots, startRedisCluster, type RedisClusterProcess } from '../../test-support/redis-cluster';
import { runServiceToExit, spawnService, testEnv, type ServiceProcess } from '../../test-support/services';
import { connectSse } from '../../test-support/sse-client';
import { createTestCertificates, type TestCertificates } from '../../test-support/tls-certs';
import { withTimeout } from '../../test-support/wait';

/**
 * The cluster counterpart of redis-auth-tls.test.ts, only on `npm run test:cluster`: a managed
 * Redis Cluster (ElastiCache, Memorystore, ...) as the services meet it. Every node requires the
 * password and listens with TLS only, its cluster bus too; the nodes announce themselves by
 * address while the certificate names a host, so REDIS_TLS_SERVERNAME is what verifies them.
 */
describe('a Redis Cluster that requires AUTH and TLS', () => {
  const SERVERNAME = 'redis-cluster.jobstream.test';
  const password = `pw-${randomUUID()}`;
  let certs: TestCertificates;
  let cluster: RedisClusterProcess;
  const processes: ServiceProcess[] = [];

  beforeAll(async () => {
    certs = createTestCertificates({ dnsNames: [SERVERNAME], ips: [] });
    cluster = await startRedisCluster({ password, tls: certs });
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop('SIGKILL')));
    await cluster?.destroy();
    certs?.destroy();
  });

  const envWith = (overrides: Record<string, string> = {}) =>
    testEnv({
      REDIS_URL: cluster.masters[0]!.url,
      REDIS_CLUSTER_NODES: cluster.nodes.join(','),
      // The queue on the second master: its commands go through a node found by the slot map, not a seed.
      QUEUE_PREFIX: prefixInSlots(cluster.slotRanges[1]!),
      REDIS_PASSWORD: password,
      REDIS_TLS: 'true',
      REDIS_TLS_CA_FILE: certs.caFile,
      REDIS_TLS_SERVERNAME: SERVERNAME,
      ...overrides,
    });

  it('runs a job from POST to its completed event through an api and a worker', async () => {
    const env = envWith();
    const api = await spawnService('api', env);
    const worker = await spawnService('worker', env);
    processes.push(api, worker);

    const res = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 10, steps: 0 } });
    expect(res.status).toBe(202);
    const stream = await connectSse(`${api.url}/api/jobs/${res.body.jobId}/events`);
    await withTimeout('the job to finish on its stream', stream.ended, 20_000);
    expect(stream.lifecycle().map((e) => e.event)).toEqual(['waiting', 'active', 'completed']);
    for (const p of [api, worker]) expect(p.output()).not.toContain(password);
  });

  it('fails the start at once, naming REDIS_PASSWORD, when the nodes refuse the password', async () => {
    const wrong = `wrong-${randomUUID()}`;
    const run = await runServiceToExit('api', envWith({ REDIS_PASSWORD: wrong }));
    expect(run.code).toBe(1);
    expect(run.output).toMatch(/Redis refused the connection's credentials \(WRONGPASS.*check REDIS_PASSWORD/);
    expect(run.elapsedMs).toBeLessThan(15_000);
    expect(run.output).not.toContain(wrong);
  });

  it('fails the start naming REDIS_TLS_SERVERNAME when the nodes are verified by their address', async () => {
    const run = await runServiceToExit('worker', envWith({ REDIS_TLS_SERVERNAME: '' }));
    expect(run.code).toBe(1);
    expect(run.output).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID.*REDIS_TLS_SERVERNAME/);
    expect(run.elapsedMs).toBeLessThan(15_000);
  });
});
