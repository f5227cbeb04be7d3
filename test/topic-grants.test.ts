import { loadConfig as loadApiConfig, type ApiServer } from '@jobstream/api';
import { ConfigError } from '@jobstream/runtime';
import { authHeaders, tokenFor } from '../test-support/auth';
import { requestOnce } from '../test-support/raw-http';
import { cleanupPrefix, startApi, testEnv, testRedisUrl, type TestEnv } from '../test-support/services';
import { connectSse } from '../test-support/sse-client';
import { named, notify } from './notifications-helpers';

/** `status code` of a notification stream request (a 200 stream is closed as soon as it answered), and the refusal's details. */
async function follow(apiUrl: string, headers: Record<string, string>, query = '', extra: Record<string, string> = {}) {
  const res = await requestOnce('GET', `${apiUrl}/api/notifications/stream${query ? `?${query}` : ''}`, { headers: { ...headers, ...extra } });
  return { answer: `${res.status}${res.body?.code ? ` ${res.body.code}` : ''}`, error: res.body?.error as string | undefined, details: res.body?.details };
}

/** The answer for each topic, one stream request per topic. */
async function answers(apiUrl: string, headers: Record<string, string>, topics: string[]): Promise<Record<string, string>> {
  const entries = await Promise.all(topics.map(async (topic) => [topic, (await follow(apiUrl, headers, `topics=${topic}`)).answer] as const));
  return Object.fromEntries(entries);
}

describe('topic grants on the notification stream', () => {
  let env: TestEnv;
  let api: ApiServer & { url: string };

  beforeEach(async () => {
    env = testEnv({ NOTIFICATION_PUBLIC_TOPICS: 'news, public.*' });
    api = await startApi(env);
  });

  afterEach(async () => {
    await api.close();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX);
  });

  it('lets anyone signed in follow the public topics and refuses every other one with 403 TOPIC_NOT_ALLOWED naming it', async () => {
    const plain = await authHeaders('alice', [], { topics: null });
    expect(await answers(api.url, plain, ['news', 'public.status', 'public.eu.status', 'newsroom', 'public', 'payroll'])).toEqual({
      news: '200',
      'public.status': '200',
      'public.eu.status': '200',
      newsroom: '403 TOPIC_NOT_ALLOWED',
      public: '403 TOPIC_NOT_ALLOWED',
      payroll: '403 TOPIC_NOT_ALLOWED',
    });
    const mixed = await follow(api.url, plain, 'topics=news,payroll,board');
    expect(mixed.answer).toBe('403 TOPIC_NOT_ALLOWED');
    expect(mixed.error).toContain('"payroll", "board"');
    expect(mixed.error).not.toContain('news');
    expect(mixed.details).toEqual([
      { path: 'topics', message: 'topic "payroll" is not allowed' },
      { path: 'topics', message: 'topic "board" is not allowed' },
    ]);
    expect((await follow(api.url, { authorization: '' }, 'topics=news')).answer).toBe('401 AUTH_REQUIRED');
  });

  it('follows the topics of the topics claim: a name, or every topic below a prefix.*', async () => {
    const granted = await authHeaders('alice', [], { topics: ['team-42.*', 'billing'] });
    expect(await answers(api.url, granted, ['team-42.ops', 'team-42.ops.eu', 'billing', 'news', 'team-42', 'team-420.ops', 'billing.eu'])).toEqual({
      'team-42.ops': '200',
      'team-42.ops.eu': '200',
      billing: '200',
      news: '200',
      'team-42': '403 TOPIC_NOT_ALLOWED',
      'team-420.ops': '403 TOPIC_NOT_ALLOWED',
      'billing.eu': '403 TOPIC_NOT_ALLOWED',
    });
  });

  it.each([
    ['one entry that is no pattern', ['team-42.*', 'team 42']],
    ['a wildcard inside a name', ['team-*.ops']],
    ['a string instead of an array', 'team-42.ops'],
    ['an object', { 'team-42.ops': true }],
    ['more than 100 patterns', [...Array.from({ length: 100 }, (_, i) => `t${i}`), 'team-42.ops']],
  ])('grants nothing for a malformed topics claim (%s), but leaves the public topics', async (_what, claim) => {
    const headers = { authorization: `Bearer ${await tokenFor('alice', [], { topics: null, claims: { topics: claim } })}` };
    expect(await answers(api.url, headers, ['team-42.ops', 'news'])).toEqual({ 'team-42.ops': '403 TOPIC_NOT_ALLOWED', news: '200' });
  });

  it('tells each caller the topics they may follow in GET /api/me: the public ones, then their grants; any topic for the publishers', async () => {
    const topicsOf = async (headers: Record<string, string>) => {
      const res = await requestOnce('GET', `${api.url}/api/me`, { headers });
      expect(res.status).toBe(200);
      return res.body.topics as string[];
    };
    expect(await topicsOf(await authHeaders('alice', [], { topics: null }))).toEqual(['news', 'public.*']);
    expect(await topicsOf(await authHeaders('alice', [], { topics: ['team-42.*', 'billing', 'news'] }))).toEqual(['news', 'public.*', 'team-42.*', 'billing']);
    // A claim that is not a list of patterns grants nothing, and says so.
    expect(await topicsOf(await authHeaders('alice', [], { topics: ['billing', 'bad topic'] }))).toEqual(['news', 'public.*']);
    expect(await topicsOf(await authHeaders('svc', ['service'], { topics: null }))).toEqual(['*']);
    expect(await topicsOf(await authHeaders('root', ['admin'], { topics: null }))).toEqual(['*']);
  });

  it('lets the publishers, the service and admin roles, follow any topic without a grant', async () => {
    for (const role of ['service', 'admin'] as const) {
      const headers = await authHeaders(`a-${role}`, [role], { topics: null });
      expect(await answers(api.url, headers, ['payroll', 'team-42.ops'])).toEqual({ payroll: '200', 'team-42.ops': '200' });
    }
  });

  it("never replays a topic's stored history to a caller without a grant, whatever its cursor names", async () => {
    const first = await notify(api.url, { topic: 'payroll', type: 'payroll.run', title: 'Salaries', message: 'March' });
    const second = await notify(api.url, { topic: 'payroll', type: 'payroll.run', title: 'Bonuses', message: 'Q1' });
    const mallory = await authHeaders('mallory', [], { topics: null });

    const viaBoth = await follow(api.url, mallory, 'topics=payroll', { 'Last-Event-ID': 't:payroll=0-0' });
    expect(viaBoth.answer).toBe('403 TOPIC_NOT_ALLOWED');
    // A cursor alone names the topic too: refused, not silently dropped.
    const viaHeader = await follow(api.url, mallory, '', { 'Last-Event-ID': 'u=0-0,t:payroll=0-0' });
    expect(viaHeader).toMatchObject({ answer: '403 TOPIC_NOT_ALLOWED', details: [{ path: 'Last-Event-ID', message: 'topic "payroll" is not allowed' }] });
    const viaQuery = await follow(api.url, mallory, 'topics=news&lastEventId=t:payroll=0-0');
    expect(viaQuery).toMatchObject({ answer: '403 TOPIC_NOT_ALLOWED', details: [{ path: 'lastEventId', message: 'topic "payroll" is not allowed' }] });

    // The same request with a grant replays both: the cursor does reach the history.
    const accountant = await connectSse(`${api.url}/api/notifications/stream?topics=payroll`, {
      ...(await authHeaders('carla', [], { topics: ['payroll'] })),
      'Last-Event-ID': 't:payroll=0-0',
    });
    try {
      expect(accountant.status).toBe(200);
      await accountant.waitFor((events) => named(events, 'notification').length === 2);
      expect(named(accountant.events, 'notification').map((e) => e.data.id)).toEqual([first.id, second.id]);
    } finally {
      accountant.close();
    }
  });

  it('is refused at start for a public topic list with an entry that is no pattern', () => {
    let problems: string[] = [];
    try {
      loadApiConfig({ ...env, NOTIFICATION_PUBLIC_TOPICS: 'news,bad topic,x.*.y' });
    } catch (err) {
      if (err instanceof ConfigError) problems = err.problems;
    }
    expect(problems).toEqual([
      expect.stringContaining('NOTIFICATION_PUBLIC_TOPICS: "bad topic" is not a topic or pattern'),
      expect.stringContaining('NOTIFICATION_PUBLIC_TOPICS: "x.*.y" is not a topic or pattern'),
    ]);
  });
});

describe('topic grants under AUTH_MODE=gateway', () => {
  let env: TestEnv;
  let api: ApiServer & { url: string };
  const secret = 'gateway-secret-for-topic-grant-tests-0123456789';

  beforeEach(async () => {
    env = testEnv({ AUTH_MODE: 'gateway', JWT_SECRET: '', GATEWAY_SECRET: secret, GATEWAY_TOPICS_HEADER: 'X-User-Topics', NOTIFICATION_PUBLIC_TOPICS: 'news' });
    api = await startApi(env);
  });

  afterEach(async () => {
    await api.close();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX);
  });

  it('takes the grants from the topics header the gateway sets; without it only the public topics', async () => {
    const gateway = { authorization: '', 'x-gateway-secret': secret, 'x-user-id': 'dave' };
    expect(await answers(api.url, { ...gateway, 'x-user-topics': 'team-42.*, billing' }, ['team-42.ops', 'billing', 'news', 'payroll'])).toEqual({
      'team-42.ops': '200',
      billing: '200',
      news: '200',
      payroll: '403 TOPIC_NOT_ALLOWED',
    });
    expect(await answers(api.url, gateway, ['team-42.ops', 'news'])).toEqual({ 'team-42.ops': '403 TOPIC_NOT_ALLOWED', news: '200' });
    // One bad pattern in the header: nothing from it.
    expect(await answers(api.url, { ...gateway, 'x-user-topics': 'team-42.*,a:b' }, ['team-42.ops'])).toEqual({ 'team-42.ops': '403 TOPIC_NOT_ALLOWED' });
  });
});
