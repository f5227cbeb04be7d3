import { z } from 'zod';
import { ConfigError, commonEnvShape, intVar, parseEnv, checkCommonEnv } from './config';

const schema = z.object({ ...commonEnvShape, PORT: intVar(3000, 0, 65_535) }).superRefine(checkCommonEnv);

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

  it('never repeats a rejected secret, and masks the credentials of a rejected URL', () => {
    const secrets = z.object({
      JWT_SECRET: z.string().min(32),
      GATEWAY_SECRET: z.string().min(32),
      SENTRY_DSN: z.url(),
      REDIS_URL: z.string().startsWith('rediss://'),
    });
    let message = '';
    try {
      parseEnv('api', secrets, { JWT_SECRET: 'hunter2-short', GATEWAY_SECRET: 'gw-pass', SENTRY_DSN: 'not a dsn', REDIS_URL: 'redis://:s3cret-pass@redis.internal:6379/0' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('JWT_SECRET: ');
    expect(message).toContain('(got a value of 13 characters, not shown)');
    expect(message).toContain('REDIS_URL: ');
    expect(message).toContain('(got "redis://***@redis.internal:6379/0")');
    for (const secret of ['hunter2-short', 'gw-pass', 'not a dsn', 's3cret-pass']) expect(message).not.toContain(secret);
  });

  it('requires a hash tag in the prefix on a Redis Cluster', () => {
    expect(() => parseEnv('api', schema, { REDIS_CLUSTER_NODES: '127.0.0.1:7000', QUEUE_PREFIX: 'plain' })).toThrow(
      /QUEUE_PREFIX: must contain a hash tag/,
    );
    expect(() => parseEnv('api', schema, { REDIS_CLUSTER_NODES: 'nonsense' })).toThrow(/REDIS_CLUSTER_NODES/);
  });
});
