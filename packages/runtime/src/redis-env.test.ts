import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { createTestCertificates, type TestCertificates } from '../../../test-support/tls-certs';
import { checkCommonEnv, commonEnvShape, parseEnv, serviceSettingsFrom } from './config';

const schema = z.object(commonEnvShape).superRefine(checkCommonEnv);
const settings = (env: NodeJS.ProcessEnv) => serviceSettingsFrom(parseEnv('api', schema, env)).redis;
const problems = (env: NodeJS.ProcessEnv): string => {
  try {
    parseEnv('api', schema, env);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the configuration was accepted');
};

describe('the Redis AUTH and TLS variables', () => {
  let certs: TestCertificates;
  let dir: string;
  beforeAll(() => {
    certs = createTestCertificates();
    dir = mkdtempSync(join(tmpdir(), 'jobstream-redis-env-'));
  });
  afterAll(() => {
    certs?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('connects in plain TCP with no credentials by default', () => {
    expect(settings({})).toEqual({ url: 'redis://127.0.0.1:6379', clusterNodes: undefined, username: undefined, password: undefined, tls: undefined });
  });

  it('takes the password and username from REDIS_URL, and gives them to every cluster node alike', () => {
    expect(settings({ REDIS_URL: 'redis://app:p%40ss@redis:6379' })).toMatchObject({ username: 'app', password: 'p@ss' });
    expect(settings({ REDIS_PASSWORD: 'pw', REDIS_USERNAME: 'app', REDIS_CLUSTER_NODES: 'a:7000,b:7000' })).toMatchObject({
      clusterNodes: ['a:7000', 'b:7000'],
      username: 'app',
      password: 'pw',
    });
  });

  it('accepts the same password in REDIS_URL and REDIS_PASSWORD', () => {
    expect(settings({ REDIS_URL: 'redis://:p%40ss@redis:6379', REDIS_PASSWORD: 'p@ss' })).toMatchObject({ password: 'p@ss' });
  });

  it('refuses a password or username that differs between REDIS_URL and its own variable, without showing either', () => {
    const message = problems({ REDIS_URL: 'redis://app:url-secret@redis:6379', REDIS_PASSWORD: 'var-secret', REDIS_USERNAME: 'other' });
    expect(message).toContain('REDIS_PASSWORD: differs from the password in REDIS_URL');
    expect(message).toContain('REDIS_USERNAME: differs from the username in REDIS_URL');
    expect(message).not.toContain('url-secret');
    expect(message).not.toContain('var-secret');
  });

  it('refuses a username without a password', () => {
    expect(problems({ REDIS_USERNAME: 'app' })).toContain('REDIS_USERNAME: needs a password: set REDIS_PASSWORD');
  });

  it('turns TLS on with REDIS_TLS or a rediss:// URL, with the CA bundle read from REDIS_TLS_CA_FILE and the server name', () => {
    expect(settings({ REDIS_URL: 'rediss://redis:6380' }).tls).toEqual({ ca: undefined, caFile: undefined, servername: undefined });
    const tls = settings({ REDIS_TLS: 'true', REDIS_TLS_CA_FILE: certs.caFile, REDIS_TLS_SERVERNAME: 'redis.internal' }).tls;
    expect(tls).toEqual({ ca: certs.ca, caFile: certs.caFile, servername: 'redis.internal' });
  });

  it('refuses TLS settings while TLS is off, and REDIS_TLS=false with a rediss:// URL', () => {
    const message = problems({ REDIS_TLS_CA_FILE: certs.caFile, REDIS_TLS_SERVERNAME: 'redis.internal' });
    expect(message).toContain('REDIS_TLS_CA_FILE: has no effect without TLS');
    expect(message).toContain('REDIS_TLS_SERVERNAME: has no effect without TLS');
    expect(problems({ REDIS_URL: 'rediss://redis:6380', REDIS_TLS: 'false' })).toContain('REDIS_TLS: is false while REDIS_URL starts with rediss://');
    expect(problems({ REDIS_TLS: 'maybe' })).toContain('REDIS_TLS: ');
  });

  it('refuses a CA file that is missing, unreadable or not a PEM certificate, naming REDIS_TLS_CA_FILE', () => {
    expect(problems({ REDIS_TLS: 'true', REDIS_TLS_CA_FILE: join(dir, 'missing.pem') })).toContain('REDIS_TLS_CA_FILE: cannot read the CA bundle (ENOENT)');
    expect(problems({ REDIS_TLS: 'true', REDIS_TLS_CA_FILE: dir })).toContain('REDIS_TLS_CA_FILE: cannot read the CA bundle (EISDIR)');
    const text = join(dir, 'text.pem');
    writeFileSync(text, 'hello\n');
    expect(problems({ REDIS_TLS: 'true', REDIS_TLS_CA_FILE: text })).toContain('REDIS_TLS_CA_FILE: is not a PEM file');
    const broken = join(dir, 'broken.pem');
    writeFileSync(broken, '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n');
    expect(problems({ REDIS_TLS: 'true', REDIS_TLS_CA_FILE: broken })).toContain('REDIS_TLS_CA_FILE: certificate 1 of 1 in the file is not a valid PEM certificate');
  });
});
