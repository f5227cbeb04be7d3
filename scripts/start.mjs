#!/usr/bin/env node
// Runs jobstream's services on this machine for a person at a terminal.
//
//   node scripts/start.mjs [api|worker|metrics ...]   (no names: api, worker, and metrics if built)
//
// 1. Checks that Redis answers at REDIS_URL (default redis://127.0.0.1:6379). When it does not,
//    the host is loopback and `redis-server` is on the PATH, starts one on that port with its data
//    in <repo>/.data/redis (AOF on, noeviction as BullMQ requires) and stops it again on exit.
// 2. Starts each service as `node services/<name>/dist/main.js` with this environment, plus
//    LOG_PRETTY=true when stdout is a terminal and LOG_PRETTY is unset.
//    With AUTH_MODE=jwt (the default) and neither JWT_SECRET nor JWT_JWKS_URL set, the api verifies
//    tokens with the development secret in <repo>/.data/dev-jwt-secret (see dev-secret.mjs), the one
//    `npm run token` signs with.
// 3. Forwards SIGINT/SIGTERM to the services and waits for them; when one exits on its own, stops
//    the rest and exits non-zero. Redis goes last, so the services can finish their shutdown.
//
// Children run in their own process groups (`detached`): Ctrl-C at the terminal then reaches them
// once, through this script, instead of twice (the services treat a second signal as "exit now"),
// and Redis is not killed while the services still need it.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { jwtSecret } from './dev-secret.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const KNOWN = ['api', 'worker', 'metrics'];
/** Past the worker's own hard limit (WORKER_SHUTDOWN_TIMEOUT_MS 30 s + 10 s); then they are killed. */
const KILL_AFTER_MS = 45_000;

const say = (message) => console.error(`[start] ${message}`);
const entryOf = (name) => join(root, 'services', name, 'dist', 'main.js');

function chooseServices(args) {
  const unknown = args.filter((name) => !KNOWN.includes(name));
  if (unknown.length > 0) {
    say(`unknown service ${unknown.join(', ')}; choose from ${KNOWN.join(', ')}`);
    process.exit(2);
  }
  if (args.length > 0) return [...new Set(args)];
  return existsSync(entryOf('metrics')) ? KNOWN : ['api', 'worker'];
}

/** True when something at `url` speaks Redis (a reply error such as NOAUTH still means it is there). */
async function redisAnswers(url) {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  // Something that accepts TCP but never speaks Redis would hang the ready check: bound it.
  const timeout = sleep(2_000, undefined, { ref: false }).then(() => {
    throw new Error('timed out');
  });
  try {
    await Promise.race([client.connect().then(() => client.ping()), timeout]);
    return true;
  } catch (err) {
    return err?.name === 'ReplyError';
  } finally {
    client.disconnect();
  }
}

function isLoopback(hostname) {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

function hasRedisServer() {
  return !spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).error;
}

function explainNoRedis(url, reason) {
  say(`Redis does not answer at ${url} (${reason}). Any one of these fixes it:`);
  say('  - install it here:     sudo apt-get install redis-server   (this script then starts it for you)');
  say('  - run it in Docker:    docker run -p 6379:6379 redis:7');
  say('  - point at another:    REDIS_URL=redis://host:6379 npm start');
  process.exit(1);
}

/** Starts a redis-server for `url` with its data under .data/redis; resolves once it answers. */
async function startRedis(url) {
  const { port: rawPort, password } = new URL(url);
  const port = rawPort || '6379';
  const dir = join(root, '.data', 'redis');
  mkdirSync(dir, { recursive: true });
  const args = ['--port', port, '--bind', '127.0.0.1', '-::1', '--dir', dir, '--logfile', join(dir, 'redis.log')];
  args.push('--appendonly', 'yes', '--maxmemory-policy', 'noeviction');
  if (password) args.push('--requirepass', decodeURIComponent(password));
  const child = spawn('redis-server', args, { stdio: 'ignore', detached: true });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.on('error', () => undefined);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    if (await redisAnswers(url)) {
      say(`started redis-server on port ${port} (data in ${relative(process.cwd(), dir) || '.'}, log in redis.log)`);
      return { child, exited };
    }
    await sleep(100);
  }
  child.kill('SIGKILL');
  const log = existsSync(join(dir, 'redis.log')) ? readFileSync(join(dir, 'redis.log'), 'utf8').trim().split('\n') : [];
  say(`redis-server did not come up on port ${port}: ${log.at(-1) ?? 'no log'} (${join(dir, 'redis.log')})`);
  return undefined;
}

async function ensureRedis(url) {
  if (await redisAnswers(url)) return undefined;
  const { hostname } = new URL(url);
  if (!isLoopback(hostname)) explainNoRedis(url, `${hostname} is not this machine, so it is not started here`);
  if (!hasRedisServer()) explainNoRedis(url, 'no redis-server on the PATH');
  return (await startRedis(url)) ?? explainNoRedis(url, 'starting redis-server failed');
}

async function main() {
  const names = chooseServices(process.argv.slice(2));
  const missing = names.filter((name) => !existsSync(entryOf(name)));
  if (missing.length > 0) {
    say(`${missing.map((name) => relative(root, entryOf(name))).join(', ')} not found: run npm run build first`);
    process.exit(1);
  }

  const env = { ...process.env };
  env.REDIS_URL ||= 'redis://127.0.0.1:6379';
  if (process.stdout.isTTY && env.LOG_PRETTY === undefined) env.LOG_PRETTY = 'true';
  if ((env.AUTH_MODE ?? 'jwt') === 'jwt' && !env.JWT_SECRET && !env.JWT_JWKS_URL) {
    env.JWT_SECRET = jwtSecret(env, { create: true }).secret;
    say('AUTH_MODE=jwt with the development secret in .data/dev-jwt-secret; mint a token: npm run -s token -- --user alice');
  }

  let redis;
  let stopping = false;
  let exitCode = 0;
  const running = new Map();
  const stopAll = (signal) => {
    for (const child of running.values()) child.kill(signal);
  };
  const shutdown = (signal) => {
    if (!stopping) setTimeout(() => stopAll('SIGKILL'), KILL_AFTER_MS).unref();
    stopping = true;
    stopAll(signal);
  };
  // Registered before anything starts, so Ctrl-C while Redis comes up still cleans up.
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  // Last resort if this script itself fails: do not leave detached children behind.
  process.on('exit', () => {
    stopAll('SIGKILL');
    redis?.child.kill('SIGKILL');
  });

  // With REDIS_CLUSTER_NODES set, the cluster is the operator's to run; the services report it.
  redis = env.REDIS_CLUSTER_NODES ? undefined : await ensureRedis(env.REDIS_URL);

  const finished = (stopping ? [] : names).map((name) => {
    const child = spawn(process.execPath, [entryOf(name)], { cwd: root, env, stdio: ['ignore', 'inherit', 'inherit'], detached: true });
    running.set(name, child);
    return new Promise((resolve) => {
      const done = (how) => {
        if (!running.delete(name)) return;
        if (!stopping) {
          say(`${name} exited unexpectedly (${how}); stopping the others`);
          exitCode = 1;
          shutdown('SIGTERM');
        } else if (how !== 'code 0') {
          exitCode ||= 1;
        }
        resolve();
      };
      child.on('error', (err) => done(err.message));
      child.on('exit', (code, signal) => done(signal ?? `code ${code}`));
    });
  });
  if (finished.length > 0) say(`started ${names.join(', ')} (Ctrl-C stops them)`);

  await Promise.all(finished);
  if (redis) {
    redis.child.kill('SIGTERM'); // redis-server flushes the AOF on SIGTERM
    await redis.exited;
    say('stopped redis-server');
  }
  process.exit(stopping && finished.length === 0 ? 130 : exitCode);
}

main().catch((err) => {
  say(err?.stack ?? String(err));
  process.exit(1);
});
