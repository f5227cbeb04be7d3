import type { ApiServer } from '@jobstream/api';
import { compareStreamIds } from '@jobstream/runtime';
import type { WorkerService } from '@jobstream/worker';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
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

describe('nginx in front of the api (deploy/nginx/nginx.conf)', () => {
  let env: ReturnType<typeof testEnv>;
  let api: (ApiServer & { url: string }) | undefined;
  let worker: WorkerService | undefined;
  let nginx: ChildProcess | undefined;
  let dir: string;
  let url: string;

  beforeAll(async () => {
    env = testEnv({ SSE_HEARTBEAT_MS: '300', WORKER_METRICS_PORT: '0' });
    api = await startApi(env);
    worker = await startWorker(env);
    dir = mkdtempSync(join(tmpdir(), 'jobstream-nginx-'));
    const port = await freePort();
    const original = readFileSync(confPath, 'utf8');
    const conf = original
      .replace('set $api http://api:3000;', `set $api ${api.url};`)
      .replace('listen 8080;', `listen 127.0.0.1:${port};`)
      .replaceAll('/tmp/', `${dir}/`)
      // Jest's stdio are sockets, which nginx cannot open as /dev/stdout; in a container they are pipes.
      .replace('/dev/stdout', `${dir}/access.log`)
      .replace('/dev/stderr', `${dir}/error.log`);
    expect(conf).not.toBe(original);
    expect(conf).toContain(`set $api ${api.url};`);
    writeFileSync(join(dir, 'nginx.conf'), conf);
    const binary = nginxBinary();
    execFileSync(binary, ['-t', '-q', '-p', dir, '-c', join(dir, 'nginx.conf')]);
    nginx = spawn(binary, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
    url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 10_000;
    for (;;) {
      const up = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
      if (up) break;
      if (Date.now() > deadline) throw new Error('nginx did not answer /healthz within 10 s');
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  afterAll(async () => {
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((resolve) => nginx?.once('exit', resolve));
      nginx.kill('SIGQUIT');
      await exited;
    }
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
});
