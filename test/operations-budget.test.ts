import type { ApiServer } from '@jobstream/api';
import type { MetricsService } from '@jobstream/metrics';
import { budgetPeriod, chargeJob, createLogger, readHistoryEntries, readKillSwitch, readKillSwitchAudit } from '@jobstream/runtime';
import type { WorkerService } from '@jobstream/worker';
import type { Redis } from 'ioredis';
import { authHeaders, tokenFor } from '../test-support/auth';
import { http } from '../test-support/http';
import { connectSse } from '../test-support/sse-client';
import { cleanupPrefix, startApi, startWorker, testEnv, testRedisUrl } from '../test-support/services';
import { BudgetKeeper } from '../services/metrics/src/budget/budget-keeper';
import { enqueueDemo, FLASHCARDS_BODY, keysFor, startMetrics, systemEvents, testRedis, waitFor } from './operations-helpers';

let admin: Record<string, string>;
beforeAll(async () => {
  admin = await authHeaders('ops-alice', ['admin']);
});

/** Polls every replica until each answers a submission with `status`; returns ms since `since`. */
async function untilEveryReplica(urls: string[], status: number, since: number): Promise<number> {
  await Promise.all(
    urls.map((url) =>
      waitFor(`${url} to answer ${status}`, async () => (await enqueueDemo(url, { durationMs: 0 })).status === status, 5_000, 10),
    ),
  );
  return Date.now() - since;
}

describe('budget and kill-switch', () => {
  let env: Record<string, string>;
  let replicas: (ApiServer & { url: string })[] = [];
  let metrics: (MetricsService & { url: string; adminUrl: string }) | undefined;
  let worker: WorkerService | undefined;
  let redis: Redis;

  beforeEach(() => {
    env = testEnv({ ALERT_EVAL_INTERVAL_MS: '200', WORKER_METRICS_PORT: '0' });
    redis = testRedis();
  });

  afterEach(async () => {
    await worker?.close();
    await metrics?.close();
    await Promise.all(replicas.map((r) => r.close()));
    worker = metrics = undefined;
    replicas = [];
    redis.disconnect();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
  });

  it('turns the kill-switch on when spend reaches the limit; every replica then answers 429 with Retry-After while queued jobs, status and streams go on', async () => {
    // About 40 tokens per flashcards job at 1 USD per 1k tokens: a few cents, far over the limit.
    Object.assign(env, { BUDGET_MONTHLY_LIMIT: '0.001', BUDGET_PRICE_PER_1K_TOKENS: '1' });
    const a = await startApi(env);
    replicas.push(a);
    const b = await startApi(env);
    replicas.push(b);
    metrics = await startMetrics(env);
    const slow = await enqueueDemo(a.url, { durationMs: 1_500, steps: 3 });
    const paid = await http('POST', `${a.url}/api/ai/generate-flashcards`, FLASHCARDS_BODY);
    expect(paid.status).toBe(202);
    worker = await startWorker(env);

    const keys = keysFor(env);
    const switched = await waitFor('the kill-switch', async () => {
      const state = await readKillSwitch(redis, keys);
      return state.enabled ? state : undefined;
    });
    expect(switched).toMatchObject({ auto: true, changedBy: 'budget', reason: expect.stringContaining('monthly budget of 0.001 USD reached') });
    const latency = await untilEveryReplica([a.url, b.url], 429, Date.parse(switched.changedAt as string));
    expect(latency).toBeLessThan(1_000);

    const refused = await http('POST', `${b.url}/api/ai/generate-flashcards`, FLASHCARDS_BODY);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ code: 'BUDGET_LIMIT_EXCEEDED', error: expect.stringMatching(/^The budget limit was reached, so new jobs are refused: monthly budget of 0.001 USD reached/) });
    expect(refused.headers.get('retry-after')).toBe('60');

    // The job queued before the switch finishes, and everything but new jobs keeps working.
    const stream = await connectSse(`${b.url}/api/jobs/${slow.jobId}/events`);
    expect(stream.status).toBe(200);
    await stream.ended;
    expect(stream.events.at(-1)?.event).toBe('completed');
    expect((await http('GET', `${a.url}/readyz`)).status).toBe(200);
    expect((await http('GET', `${a.url}/api/jobs/${slow.jobId}`)).body.state).toBe('completed');
    expect((await http('GET', `${a.url}/api/queue/stats`)).status).toBe(200);
    expect((await http('GET', `${a.url}/metrics`)).status).toBe(200);

    const status = await http('GET', `${a.url}/api/admin/budget/status`, undefined, admin);
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ period: budgetPeriod(Date.now()), limit: 0.001, killSwitch: { enabled: true, auto: true, changedBy: 'budget' } });
    expect(status.body.spent).toBeGreaterThanOrEqual(0.001);
    expect(status.body.remaining).toBeCloseTo(0.001 - status.body.spent, 6);
    // The warning level the metrics service applies (BUDGET_WARN_RATIO, 0.8 by default), for dashboards.
    expect(status.body.warnAt).toBeCloseTo(0.001 * 0.8, 9);

    const audit = await readKillSwitchAudit(redis, keys);
    expect(audit[0]).toMatchObject({ by: 'budget', enabled: true, auto: true });
    const events = await systemEvents(redis, env);
    expect(events.find((e) => e.event === 'kill_switch_changed')?.data).toMatchObject({ enabled: true, auto: true, changedBy: 'budget' });
    const metricsUrl = metrics.adminUrl;
    await waitFor('budgetExceeded', async () => (await http('GET', `${metricsUrl}/api/metrics/alerts`)).body?.alerts?.budgetExceeded === true);
  });

  it('restores enqueueing on every replica when an admin turns the switch off, and the budget does not turn it on again', async () => {
    Object.assign(env, { BUDGET_MONTHLY_LIMIT: '0.001', BUDGET_PRICE_PER_1K_TOKENS: '1' });
    const a = await startApi(env);
    replicas.push(a);
    const b = await startApi(env);
    replicas.push(b);
    metrics = await startMetrics(env);
    worker = await startWorker(env);
    await http('POST', `${a.url}/api/ai/generate-flashcards`, FLASHCARDS_BODY);
    await untilEveryReplica([a.url, b.url], 429, Date.now());

    const off = await http('POST', `${b.url}/api/admin/budget/kill-switch`, { enabled: false, reason: 'raised the budget with finance' }, admin);
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ enabled: false, auto: false, changedBy: 'ops-alice', reason: 'raised the budget with finance' });
    expect(await untilEveryReplica([a.url, b.url], 202, Date.parse(off.body.changedAt))).toBeLessThan(1_000);

    // Several evaluations later the switch is still off: the month's limit was acted on once.
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await readKillSwitch(redis, keysFor(env))).enabled).toBe(false);
    expect((await enqueueDemo(a.url, { durationMs: 0 })).status).toBe(202);
    const audit = await readKillSwitchAudit(redis, keysFor(env));
    expect(audit.map((e) => [e.by, e.enabled])).toEqual([
      ['ops-alice', false],
      ['budget', true],
    ]);
  });

  it('applies a kill-switch turned on by an admin on every replica within one second', async () => {
    for (let i = 0; i < 3; i += 1) replicas.push(await startApi(env));
    const urls = replicas.map((r) => r.url);
    const on = await http('POST', `${urls[0]}/api/admin/budget/kill-switch`, { enabled: true, reason: 'provider incident' }, admin);
    expect(on.status).toBe(200);
    expect(await untilEveryReplica(urls, 429, Date.parse(on.body.changedAt))).toBeLessThan(1_000);
    const off = await http('POST', `${urls[2]}/api/admin/budget/kill-switch`, { enabled: false }, admin);
    expect(await untilEveryReplica(urls, 202, Date.parse(off.body.changedAt))).toBeLessThan(1_000);
  });

  it('refuses the admin endpoints to anonymous callers, bad tokens and users without the admin role, and records who changed the switch', async () => {
    const api = await startApi(env);
    replicas.push(api);
    const url = `${api.url}/api/admin/budget/status`;

    const none = await http('GET', url, undefined, { authorization: '' });
    expect(none.status).toBe(401);
    expect(none.body.code).toBe('AUTH_REQUIRED');
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    const forged = await http('GET', url, undefined, { Authorization: `Bearer ${await tokenFor('ops-alice', ['admin'], { secret: 'not-the-secret-of-this-deployment-0123456789' })}` });
    expect(forged.status).toBe(401);
    expect(forged.body.code).toBe('INVALID_TOKEN');
    const user = await http('POST', `${api.url}/api/admin/budget/kill-switch`, { enabled: true, reason: 'x' }, await authHeaders('bob'));
    expect(user.status).toBe(403);
    expect(user.body.code).toBe('FORBIDDEN');
    const basic = await http('POST', `${api.url}/api/admin/budget/kill-switch`, { enabled: true, reason: 'x' }, { Authorization: 'Basic abc' });
    expect(basic.status).toBe(401);
    expect((await readKillSwitch(redis, keysFor(env))).enabled).toBe(false);

    const ok = await http('GET', url, undefined, admin);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ spent: 0, limit: null, remaining: null, warnAt: null, killSwitch: { enabled: false, changedAt: null } });
    const noReason = await http('POST', `${api.url}/api/admin/budget/kill-switch`, { enabled: true }, admin);
    expect(noReason.status).toBe(400);
    expect(noReason.body.details).toEqual([{ path: 'reason', message: 'is required when enabling the kill-switch' }]);
    const on = await http('POST', `${api.url}/api/admin/budget/kill-switch`, { enabled: true, reason: 'audit check' }, admin);
    expect(on.body).toMatchObject({ enabled: true, changedBy: 'ops-alice' });
    expect((await readKillSwitchAudit(redis, keysFor(env), 1))[0]).toMatchObject({ enabled: true, by: 'ops-alice', reason: 'audit check' });
  });

  it('charges a completed job once, however often its completed event is replayed', async () => {
    Object.assign(env, { BUDGET_PRICE_PER_1K_TOKENS: '1' });
    replicas.push(await startApi(env));
    metrics = await startMetrics(env);
    worker = await startWorker(env);
    const keys = keysFor(env);
    const period = budgetPeriod(Date.now());
    const res = await http('POST', `${replicas[0]!.url}/api/ai/generate-flashcards`, FLASHCARDS_BODY);
    const jobId: string = res.body.jobId;
    const spent = await waitFor('the charge', async () => Number((await redis.hget(keys.budget(period), 'spent')) ?? 0) || undefined);
    const result = (await http('GET', `${replicas[0]!.url}/api/jobs/${jobId}`)).body.result;
    expect(spent).toBeCloseTo(result.tokenUsage.totalTokens / 1_000, 9);

    // 1. The feed announces the same completed event again (a relay replaying a batch).
    const history = await readHistoryEntries(redis, keys, jobId, { from: '-', to: '+' });
    const completedId = history.find(([, f]) => f[1] === 'completed')![0];
    const duplicate = (await redis.xadd(keys.feed, '*', 'j', jobId, 'i', completedId)) as string;
    await waitFor('the duplicate to be read', async () => ((await redis.get(keys.metricsCursor)) === duplicate ? true : undefined));

    // 2. The metrics service restarts having lost its cursor, and reads the whole feed again.
    await metrics.close();
    await redis.del(keys.metricsCursor);
    metrics = await startMetrics(env);
    await waitFor('the feed to be read again', async () => ((await redis.get(keys.metricsCursor)) === duplicate ? true : undefined));

    expect(Number(await redis.hget(keys.budget(period), 'spent'))).toBeCloseTo(spent, 9);
    expect(await redis.hkeys(keys.budgetCharged(period))).toEqual([jobId]);
  });

  it('warns once at 80 % of the limit and turns the switch on at the limit, as the keeper charges real jobs', async () => {
    const keys = keysFor(env);
    const keeper = new BudgetKeeper({
      redis,
      keys,
      logger: createLogger({ name: 'test', level: 'silent' }),
      monthlyLimit: 1,
      warnRatio: 0.8,
      prices: { default: { promptPer1k: 1, completionPer1k: 1 }, byProvider: { free: { promptPer1k: 0, completionPer1k: 0 } } },
    });
    const usage = (tokens: number, provider = 'openai') => ({ tokenUsage: { promptTokens: tokens, completionTokens: 0, totalTokens: tokens }, provider });
    const now = Date.now();
    await keeper.chargeCompleted('job-a', now, usage(500));
    await keeper.chargeCompleted('job-free', now, usage(5_000, 'free'));
    await keeper.chargeCompleted('job-none', now, { ok: true });
    expect((await systemEvents(redis, env)).map((e) => e.event)).toEqual([]);
    await keeper.chargeCompleted('job-b', now, usage(350));
    await keeper.chargeCompleted('job-b', now, usage(350));
    await keeper.check(now);
    const warnings = (await systemEvents(redis, env)).filter((e) => e.event === 'budget_warning');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.data).toMatchObject({ spent: 0.85, limit: 1, ratio: 0.85 });
    expect((await readKillSwitch(redis, keys)).enabled).toBe(false);

    await keeper.chargeCompleted('job-c', now, usage(150));
    expect(await readKillSwitch(redis, keys)).toMatchObject({ enabled: true, auto: true, changedBy: 'budget' });
    expect((await systemEvents(redis, env)).map((e) => e.event)).toEqual(['budget_warning', 'kill_switch_changed']);
  });

  it('warns when the spend lands exactly on the warning level, which floating point puts a hair above it', async () => {
    const keys = keysFor(env);
    // 0.0007 × 0.8 is 0.0005600000000000001 in floating point; the ledger holds 0.000560000.
    const keeper = new BudgetKeeper({
      redis,
      keys,
      logger: createLogger({ name: 'test', level: 'silent' }),
      monthlyLimit: 0.0007,
      warnRatio: 0.8,
      prices: { default: { promptPer1k: 1, completionPer1k: 1 }, byProvider: {} },
    });
    expect(keeper.warnAt).toBe(0.00056);
    const now = Date.now();
    await chargeJob(redis, keys, { period: budgetPeriod(now), jobId: 'job-a', cost: 0.00056 });
    await keeper.check(now);
    expect((await systemEvents(redis, env)).map((e) => e.event)).toEqual(['budget_warning']);
  });
});
