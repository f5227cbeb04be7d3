import type { ApiServer } from '@jobstream/api';
import { compareStreamIds } from '@jobstream/runtime';
import type { WorkerService } from '@jobstream/worker';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { http } from '../../test-support/http';
import { connectSse } from '../../test-support/sse-client';
import { cleanupPrefix, startApi, startWorker, testEnv, testRedisUrl } from '../../test-support/services';
import { freePort, repoRoot } from './helpers';

/**
 * deploy/nginx/nginx.conf as compose runs it, in a real nginx (Debian's, installed by .ci/run),
 * in front of a real api: only the upstream address, the port and the file paths are changed.
 */
const confPath = join(repoRoot, 'deploy', 'nginx', 'nginx.conf');

function nginxBinary(): string {
  for (const candidate of ['nginx', '/usr/sbin/nginx']) {
    try {
      execFileSync(candidate, ['-v'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // try the next
    }
  }
  throw new Error('nginx is not installed: apt-get install nginx (.ci/run does)');
}

/**
 * Runs deploy/nginx/nginx.conf in front of `upstreams`. One replica replaces compose's address;
 * several become an upstream group of that name, which nginx looks up before DNS: the same
 * round robin over replicas that Docker's DNS gives compose.
 */
async function startNginx(dir: string, upstreams: string[]): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const original = readFileSync(confPath, 'utf8');
  const group = upstreams.length > 1 ? 'jobstream_api_replicas' : undefined;
  const conf = original
    .replace('set $api http://api:3000;', `set $api ${group ? `http://${group}` : upstreams[0]};`)
    .replace('resolver ', group ? `upstream ${group} {\n${upstreams.map((u) => `    server ${new URL(u).host};\n`).join('')}  }\n  resolver ` : 'resolver ')
    .replace('listen 8080;', `listen 127.0.0.1:${port};`)
    .replaceAll('/tmp/', `${dir}/`)
    // Jest's stdio are sockets, which nginx cannot open as /dev/stdout; in a container they are pipes.
    .replace('/dev/stdout', `${dir}/access.log`)
    .replace('/dev/stderr', `${dir}/error.log`);
  expect(conf).not.toBe(original);
  expect(conf).toContain(`set $api ${group ? `http://${group}` : upstreams[0]};`);
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const binary = nginxBinary();
  execFileSync(binary, ['-t', '-q', '-p', dir, '-c', join(dir, 'nginx.conf')]);
  const nginx = spawn(binary, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
    if (up) break;
    if (Date.now() > deadline) throw new Error('nginx did not answer /healthz within 10 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    async stop() {
      if (nginx.exitCode !== null) return;
      const exited = new Promise((resolve) => nginx.once('exit', resolve));
      nginx.kill('SIGQUIT');
      await exited;
    },
  };
}

/** How many 503 SERVER_BUSY a replica answered, from its /metrics. */
async function serverBusyAnswers(apiUrl: string): Promise<number> {
  const text = await (await fetch(`${apiUrl}/metrics`)).text();
  return [...text.matchAll(/^jobstream_http_errors_total\{[^}]*code="SERVER_BUSY"[^}]*\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}

describe('nginx in front of the api (deploy/nginx/nginx.conf)', () => {
  let env: ReturnType<typeof testEnv>;
  let api: (ApiServer & { url: string }) | undefined;
  let worker: WorkerService | undefined;
  let nginx: { url: string; stop(): Promise<void> } | undefined;
  let dir: string;
  let url: string;

  beforeAll(async () => {
    env = testEnv({ SSE_HEARTBEAT_MS: '300', WORKER_METRICS_PORT: '0' });
    api = await startApi(env);
    worker = await startWorker(env);
    dir = mkdtempSync(join(tmpdir(), 'jobstream-nginx-'));
    nginx = await startNginx(dir, [api.url]);
    url = nginx.url;
  });

  afterAll(async () => {
    await nginx?.stop();
    await worker?.close();
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX);
  });

  it("delivers each of a job's events through the proxy as it happens, not when the stream ends", async () => {
    const created = await http('POST', `${url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 1_500, steps: 3 } });
    expect(created.status).toBe(202);
    const stream = await connectSse(`${url}/api/jobs/${created.body.jobId}/events`);
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
    await stream.waitFor((events) => events.some((e) => e.event === 'active'));
    const activeAt = Date.now();
    await stream.waitFor((events) => events.some((e) => e.event === 'completed'));
    // The job runs 1.5 s after `active`: a buffering proxy would hand both over together.
    expect(Date.now() - activeAt).toBeGreaterThan(1_000);
    await stream.ended;
    expect(stream.lifecycle().map((e) => e.event)).toEqual(['waiting', 'active', 'progress', 'progress', 'progress', 'completed']);
  });

  it('keeps an idle stream open with heartbeats and passes Last-Event-ID through for a resume', async () => {
    const created = await http('POST', `${url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 2_000, steps: 1 } });
    const first = await connectSse(`${url}/api/jobs/${created.body.jobId}/events`);
    await first.waitFor((events) => events.filter((e) => e.event === 'heartbeat').length >= 2 && events.some((e) => e.event === 'active'));
    const cursor = first.lifecycle().at(-1)?.id ?? '';
    first.close();

    const resumed = await connectSse(`${url}/api/jobs/${created.body.jobId}/events`, { 'Last-Event-ID': cursor });
    await resumed.ended;
    const ids = resumed.lifecycle().map((e) => e.id ?? '');
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.every((id) => compareStreamIds(id, cursor) > 0)).toBe(true);
    expect(resumed.lifecycle().at(-1)?.event).toBe('completed');
  });

  it('keeps /metrics to Prometheus, which scrapes each replica directly', async () => {
    expect((await fetch(`${url}/metrics`)).status).toBe(404);
    expect((await fetch(`${api?.url}/metrics`)).status).toBe(200);
  });

  it('sends a stream that one replica refuses with 503 SERVER_BUSY to another replica', async () => {
    // A second replica that may hold one stream, and holds it: it answers every other with 503.
    const busy = await startApi({ ...env, MAX_STREAMS_PER_PROCESS: '1' });
    const pairDir = mkdtempSync(join(tmpdir(), 'jobstream-nginx-pair-'));
    const pair = await startNginx(pairDir, [busy.url, api?.url ?? '']);
    const held = await http('POST', `${url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 3_000, steps: 1 } });
    const holder = await connectSse(`${busy.url}/api/jobs/${held.body.jobId}/events`);
    try {
      expect(holder.status).toBe(200);
      const job = await http('POST', `${url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 0 } });
      const refused = await connectSse(`${busy.url}/api/jobs/${job.body.jobId}/events`);
      expect(refused.status).toBe(503);
      const busyBefore = await serverBusyAnswers(busy.url);
      expect(busyBefore).toBe(1);

      // Round robin hands every other request to the busy replica first: each must still stream.
      const streams = await Promise.all([1, 2, 3, 4].map(() => connectSse(`${pair.url}/api/jobs/${job.body.jobId}/events`)));
      expect(streams.map((s) => s.status)).toEqual([200, 200, 200, 200]);
      await Promise.all(streams.map((s) => s.ended));
      expect(streams.map((s) => s.lifecycle().at(-1)?.event)).toEqual(['completed', 'completed', 'completed', 'completed']);
      // The busy replica did get its turn (nginx then rests it for fail_timeout, 10 s), and refused.
      expect(await serverBusyAnswers(busy.url)).toBeGreaterThan(busyBefore);
    } finally {
      holder.close();
      await pair.stop();
      await busy.close();
      rmSync(pairDir, { recursive: true, force: true });
    }
  });

  it('answers the last 503 with its Retry-After when every replica is busy, then 502 while nginx rests them', async () => {
    const [a, b] = await Promise.all([startApi({ ...env, MAX_STREAMS_PER_PROCESS: '1' }), startApi({ ...env, MAX_STREAMS_PER_PROCESS: '1' })]);
    const pairDir = mkdtempSync(join(tmpdir(), 'jobstream-nginx-pair-'));
    const pair = await startNginx(pairDir, [a.url, b.url]);
    const held = await http('POST', `${url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 3_000, steps: 1 } });
    const holders = await Promise.all([a, b].map((replica) => connectSse(`${replica.url}/api/jobs/${held.body.jobId}/events`)));
    try {
      expect(holders.map((h) => h.status)).toEqual([200, 200]);
      const answers: [number, string | undefined][] = [];
      for (let i = 0; i < 2; i += 1) {
        const res = await connectSse(`${pair.url}/api/jobs/${held.body.jobId}/events`);
        answers.push([res.status, res.headers['retry-after'] as string | undefined]);
        res.close();
      }
      // Each 503 counts as a failed attempt (max_fails 1, fail_timeout 10 s of the implicit upstream):
      // the SDK retries both answers with backoff.
      expect(answers).toEqual([
        [503, '5'],
        [502, undefined],
      ]);
    } finally {
      for (const h of holders) h.close();
      await pair.stop();
      await Promise.all([a.close(), b.close()]);
      rmSync(pairDir, { recursive: true, force: true });
    }
  });
});
