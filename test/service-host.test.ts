import { commonEnvShape, createLogger, parseEnv, serviceSettingsFrom, startServiceHost, type RedisClient, type ServiceHost } from '@jobstream/runtime';
import { z } from 'zod';
import { testEnv, type TestEnv } from '../test-support/services';
import { waitUntil } from '../test-support/wait';

/** The host's settings as a service reads them from its environment. */
const settingsOf = (env: Record<string, string>) => serviceSettingsFrom(parseEnv('test', z.object(commonEnvShape), env));

/** The name Redis knows the connection by (on a cluster, the connection the command went through). */
const nameOf = async (client: RedisClient): Promise<unknown> => client.call('CLIENT', 'GETNAME');

describe('the service host', () => {
  let env: TestEnv;
  let host: ServiceHost | undefined;
  const logger = createLogger({ name: 'test', level: 'silent' });
  const names = { command: 'host-test:command', blocking: 'host-test:blocking' };

  beforeEach(() => {
    env = testEnv();
  });

  afterEach(async () => {
    await host?.close();
    host = undefined;
  });

  it('gives a service its logger, its keys and two ready connections under its names, and closes them all', async () => {
    host = await startServiceHost({ service: 'metrics', settings: settingsOf(env), logger, connectionNames: names });
    expect(host.logger).toBe(logger);
    expect(host.keys.bullEvents).toBe(`${env.QUEUE_PREFIX}:jobs:events`);
    const extra = host.connect('blocking', 'host-test:extra');
    expect([await nameOf(host.command), await nameOf(host.blocking), await nameOf(extra)]).toEqual(['host-test:command', 'host-test:blocking', 'host-test:extra']);

    await host.close();
    const clients = [host.command, host.blocking, extra];
    await waitUntil('every connection to end', () => clients.every((client) => client.status === 'end'), 5_000);
  });

  it('fails the start with a clear error when Redis does not answer in time', async () => {
    // Nothing listens on port 1: every attempt is refused.
    const settings = settingsOf(testEnv({ REDIS_URL: 'redis://127.0.0.1:1' }));
    await expect(startServiceHost({ service: 'api', settings, logger, connectionNames: names, readyTimeoutMs: 300 })).rejects.toThrow(/Redis not ready after 300 ms/);
  });
});
