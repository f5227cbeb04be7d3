import { z } from 'zod';
import { ConfigError, commonEnvShape, intVar, parseEnv, requireHashTagOnCluster } from './config';

const schema = z.object({ ...commonEnvShape, PORT: intVar(3000, 0, 65_535) }).superRefine(requireHashTagOnCluster);

describe('parseEnv', () => {
  it('applies the defaults to an empty environment', () => {
    const env = parseEnv('test', schema, {});
    expect(env).toMatchObject({ PORT: 3000, REDIS_URL: 'redis://127.0.0.1:6379', QUEUE_PREFIX: '{jobstream}', JOB_RETENTION_SECONDS: 86_400 });
  });

  it('lists every bad variable with its value in one error', () => {
    let error: unknown;
    try {
      parseEnv('api', schema, { PORT: 'eighty', REDIS_URL: 'http://x', LOG_LEVEL: 'loud' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('Invalid api configuration');
    expect(message).toMatch(/PORT: .*\(got "eighty"\)/);
    expect(message).toMatch(/REDIS_URL: must start with redis:\/\//);
    expect(message).toMatch(/LOG_LEVEL: /);
    expect((error as ConfigError).problems).toHaveLength(3);
  });

  it('requires a hash tag in the prefix on a Redis Cluster', () => {
    expect(() => parseEnv('api', schema, { REDIS_CLUSTER_NODES: '127.0.0.1:7000', QUEUE_PREFIX: 'plain' })).toThrow(
      /QUEUE_PREFIX: must contain a hash tag/,
    );
    expect(() => parseEnv('api', schema, { REDIS_CLUSTER_NODES: 'nonsense' })).toThrow(/REDIS_CLUSTER_NODES/);
  });
});
