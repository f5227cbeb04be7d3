import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { z } from 'zod';

const hostPort = /^[^\s:,]+:\d{1,5}$/;

/** A tri-state boolean: unset stays undefined, so a rule can tell "not said" from "said no". */
const optionalBool = z
  .preprocess((v) => (v === '' ? undefined : v), z.enum(['true', 'false', '1', '0', 'yes', 'no']).optional())
  .transform((v) => (v === undefined ? undefined : v === 'true' || v === '1' || v === 'yes'));

const optionalText = z.preprocess((v) => (v === '' ? undefined : v), z.string().min(1).optional());

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** A CA bundle read from the file `path`: the PEM text, or an issue on the variable and `z.NEVER`. */
function readCaBundle(path: string, ctx: z.RefinementCtx): { path: string; pem: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `cannot read the CA bundle (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` });
    return z.NEVER;
  }
  const blocks = text.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'is not a PEM file: it holds no "-----BEGIN CERTIFICATE-----" block' });
    return z.NEVER;
  }
  for (const [index, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch {
      ctx.addIssue({ code: 'custom', message: `certificate ${index + 1} of ${blocks.length} in the file is not a valid PEM certificate` });
      return z.NEVER;
    }
  }
  return { path, pem: text };
}

/**
 * How to reach Redis: one node (REDIS_URL) or a cluster (REDIS_CLUSTER_NODES), and the AUTH and
 * TLS settings every connection uses, to every node of a cluster alike.
 */
export const redisEnvShape = {
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
    .default('redis://127.0.0.1:6379'),
  REDIS_CLUSTER_NODES: z
    .string()
    .optional()
    .transform((v) => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined))
    .refine((nodes) => !nodes || nodes.every((n) => hostPort.test(n)), 'must be a comma-separated list of host:port'),
  REDIS_USERNAME: optionalText,
  REDIS_PASSWORD: optionalText,
  REDIS_TLS: optionalBool,
  REDIS_TLS_CA_FILE: z.preprocess((v) => (v === '' ? undefined : v), z.string().transform(readCaBundle).optional()),
  REDIS_TLS_SERVERNAME: optionalText,
};

export type RedisEnv = z.output<z.ZodObject<typeof redisEnvShape>>;

/** The credentials written into REDIS_URL (`redis://user:password@host`), decoded. */
function urlCredentials(url: string): { username?: string; password?: string } {
  try {
    const parsed = new URL(url);
    return {
      ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
      ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    };
  } catch {
    return {};
  }
}

function tlsFromUrl(url: string): boolean {
  return url.startsWith('rediss://');
}

/**
 * Cross-field rules of the Redis variables. A credential given both in REDIS_URL and in its own
 * variable must be the same in both: two different ones are refused rather than one silently
 * winning (they are often set by different people, a ConfigMap and a Secret). TLS settings
 * without TLS are refused too: they would read as "this connection is encrypted" when it is not.
 */
export function checkRedisEnv(env: RedisEnv, ctx: z.RefinementCtx): void {
  const fromUrl = urlCredentials(env.REDIS_URL);
  if (env.REDIS_PASSWORD !== undefined && fromUrl.password !== undefined && env.REDIS_PASSWORD !== fromUrl.password) {
    ctx.addIssue({ code: 'custom', path: ['REDIS_PASSWORD'], message: 'differs from the password in REDIS_URL: keep one of them' });
  }
  if (env.REDIS_USERNAME !== undefined && fromUrl.username !== undefined && env.REDIS_USERNAME !== fromUrl.username) {
    ctx.addIssue({ code: 'custom', path: ['REDIS_USERNAME'], message: 'differs from the username in REDIS_URL: keep one of them' });
  }
  if (env.REDIS_USERNAME !== undefined && env.REDIS_PASSWORD === undefined && fromUrl.password === undefined) {
    ctx.addIssue({ code: 'custom', path: ['REDIS_USERNAME'], message: 'needs a password: set REDIS_PASSWORD' });
  }
  if (env.REDIS_TLS === false && tlsFromUrl(env.REDIS_URL)) {
    ctx.addIssue({ code: 'custom', path: ['REDIS_TLS'], message: 'is false while REDIS_URL starts with rediss:// (TLS): keep one of them' });
  }
  if (!(env.REDIS_TLS ?? tlsFromUrl(env.REDIS_URL))) {
    for (const name of ['REDIS_TLS_CA_FILE', 'REDIS_TLS_SERVERNAME'] as const) {
      if (env[name] !== undefined) {
        ctx.addIssue({ code: 'custom', path: [name], message: 'has no effect without TLS: set REDIS_TLS=true or use a rediss:// REDIS_URL' });
      }
    }
  }
}

/** TLS to Redis; absent means plain TCP. */
export interface RedisTlsSettings {
  /** PEM text of REDIS_TLS_CA_FILE: the CAs trusted instead of Node's bundled ones. Default: Node's bundle. */
  ca?: string | undefined;
  /** REDIS_TLS_CA_FILE, for error messages. */
  caFile?: string | undefined;
  /** REDIS_TLS_SERVERNAME: the SNI name, and the name the certificate must carry. Default: the host connected to. */
  servername?: string | undefined;
}

/** What the Redis factory needs, taken from the Redis variables. */
export interface RedisTarget {
  url: string;
  clusterNodes?: string[] | undefined;
  /** ACL user (REDIS_USERNAME or REDIS_URL's); default Redis's `default` user. */
  username?: string | undefined;
  /** REDIS_PASSWORD or REDIS_URL's; sent with AUTH on every connection, to every cluster node. */
  password?: string | undefined;
  /** On with REDIS_TLS=true or a rediss:// REDIS_URL. */
  tls?: RedisTlsSettings | undefined;
}

export function redisTargetFrom(env: RedisEnv): RedisTarget {
  const fromUrl = urlCredentials(env.REDIS_URL);
  const tls = env.REDIS_TLS ?? tlsFromUrl(env.REDIS_URL);
  return {
    url: env.REDIS_URL,
    clusterNodes: env.REDIS_CLUSTER_NODES,
    username: env.REDIS_USERNAME ?? fromUrl.username,
    password: env.REDIS_PASSWORD ?? fromUrl.password,
    tls: tls ? { ca: env.REDIS_TLS_CA_FILE?.pem, caFile: env.REDIS_TLS_CA_FILE?.path, servername: env.REDIS_TLS_SERVERNAME } : undefined,
  };
}
