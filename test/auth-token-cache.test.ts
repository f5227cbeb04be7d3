import type { ApiServer } from '@jobstream/api';
import { tokenFor } from '../test-support/auth';
import { http } from '../test-support/http';
import { cleanupPrefix, startApi, testEnv, testRedisUrl } from '../test-support/services';
import { waitUntil } from '../test-support/wait';

const anonymous = { authorization: '' };
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('verified tokens remembered by the api', () => {
  let env: Record<string, string>;
  let api: ApiServer & { url: string };

  beforeEach(async () => {
    env = testEnv({ JWT_CLOCK_SKEW_S: '0' });
    api = await startApi(env);
  });

  afterEach(async () => {
    await api.close();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
  });

  it('refuses a token it accepted before with TOKEN_EXPIRED from the second its exp passes', async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const token = await tokenFor('alice', [], { expiresIn: exp });
    expect((await http('GET', `${api.url}/api/me`, undefined, bearer(token))).status).toBe(200);
    expect((await http('GET', `${api.url}/api/me`, undefined, bearer(token))).status).toBe(200);
    await waitUntil('the token to expire', () => Math.floor(Date.now() / 1000) >= exp, 5_000);
    const res = await http('GET', `${api.url}/api/me`, undefined, bearer(token));
    expect(res).toMatchObject({ status: 401, body: { code: 'TOKEN_EXPIRED' } });
  });

  it('still refuses a long-lived token in access_token after the same token was accepted in the Authorization header', async () => {
    const token = await tokenFor('alice', [], { expiresIn: '1h' });
    const job = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 10 } }, bearer(token));
    expect(job.status).toBe(202);
    const refused = await http('GET', `${api.url}/api/jobs/${job.body.jobId}/events?access_token=${token}`, undefined, anonymous);
    expect(refused).toMatchObject({ status: 401, body: { code: 'INVALID_TOKEN' } });
  });
});
