import { loadConfig as loadMetricsConfig, startMetricsService, type MetricsService } from '@jobstream/metrics';
import { createLogger, jobstreamKeys, readSystemEvents, type JobstreamKeys, type SystemEvent } from '@jobstream/runtime';
import { Redis } from 'ioredis';
import { http } from '../test-support/http';
import { testRedisUrl } from '../test-support/services';
import { authHeaders } from '../test-support/auth';

/** Helpers shared by the operations tests: the metrics service in-process, polling, system events. */

const quiet = () => createLogger({ name: 'test', level: (process.env.TEST_LOG_LEVEL as 'info') ?? 'silent' });

export async function startMetrics(env: Record<string, string>): Promise<MetricsService & { url: string; adminUrl: string }> {
  const service = await startMetricsService(loadMetricsConfig({ METRICS_PORT: '0', METRICS_ADMIN_PORT: '0', ...env }), quiet().child({ service: 'metrics' }));
  return Object.assign(service, { url: `http://127.0.0.1:${service.port}`, adminUrl: `http://127.0.0.1:${service.adminPort}` });
}

/** Polls `probe` until it returns something other than undefined/false; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 15_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export function keysFor(env: Record<string, string>): JobstreamKeys {
  return jobstreamKeys({ prefix: env.QUEUE_PREFIX ?? '{jobstream}', name: env.QUEUE_NAME ?? 'jobs' });
}

/** A plain Redis client on the test Redis; the caller disconnects it. */
export function testRedis(): Redis {
  return new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
}

export async function systemEvents(redis: Redis, env: Record<string, string>): Promise<SystemEvent[]> {
  return readSystemEvents(redis, keysFor(env), '-', 10_000);
}

export async function enqueueDemo(apiUrl: string, payload: Record<string, unknown>): Promise<{ status: number; jobId: string }> {
  const res = await http('POST', `${apiUrl}/api/jobs`, { type: 'demo.work', payload });
  return { status: res.status, jobId: res.body?.jobId };
}

export const FLASHCARDS_BODY = {
  content: 'Photosynthesis is the process by which plants turn light into chemical energy. Chlorophyll absorbs mostly blue and red light.',
  subject: 'Biology',
  topic: 'Plants',
  count: 2,
};

/** The alerts answer of one endpoint (api or metrics service). */
export async function alertsOf(baseUrl: string): Promise<any> {
  const res = await http('GET', `${baseUrl}/api/metrics/alerts`, undefined, await authHeaders('ops', ['admin']));
  return res.status === 200 ? res.body : undefined;
}
