#!/usr/bin/env node
// Runs jobstream's services on this machine for a person at a terminal.
//
//   node scripts/start.mjs [api|worker|metrics ...]   (no names: api, worker, and metrics if built)
//
// 1. Checks that the ports of the chosen services are free (api PORT 3000, worker
//    WORKER_METRICS_PORT 9101, metrics METRICS_PORT 9102 and METRICS_ADMIN_PORT 9103; 0 is never
//    taken). When one is not, says which and why it likely is, starts nothing and exits 3.
// 2. Checks that Redis answers at REDIS_URL (default redis://127.0.0.1:6379). When it does not,
//    the host is loopback and `redis-server` is on the PATH, starts one on that port with its data
//    in <repo>/.data/redis (AOF on, noeviction as BullMQ requires, the password of REDIS_URL or
//    REDIS_PASSWORD) and stops it again on exit. With TLS on (REDIS_TLS, rediss://) it checks with
//    REDIS_TLS_CA_FILE and REDIS_TLS_SERVERNAME, and never starts one.
// 3. Starts each service as `node services/<name>/dist/main.js` with this environment, plus
//    LOG_PRETTY=true when stdout is a terminal and LOG_PRETTY is unset.
//    With AUTH_MODE=jwt (the default) and neither JWT_SECRET nor JWT_JWKS_URL set, the api verifies
//    tokens with the development secret in <repo>/.data/dev-jwt-secret (see dev-secret.mjs), the one
//    `npm run token` signs with.
// 4. Forwards SIGINT, SIGTERM and SIGHUP (as SIGTERM) to the services and waits for them; when one
//    exits on its own, stops the rest and exits non-zero. Redis goes last, so the services can
//    finish their shutdown.
//
// Exit codes: 0 stopped cleanly, 1 a service or Redis failed, 2 unknown service name, 3 a port is
// in use, 130 stopped before anything started.
//
// Children run in their own process groups (`detached`): Ctrl-C at the terminal then reaches them
// once, through this script, instead of twice (the services treat a second signal as "exit now"),
// and Redis is not killed while the services still need it. Detached, they get no signal when this
// script dies, so each holds a pipe from it at fd 3 (JOBSTREAM_PARENT_PIPE=3) and shuts down when
// the pipe closes: the kernel closes it however this script ended, SIGKILL included.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { createServer } from 'node:net';
import { dirname, join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { jwtSecret } from './dev-secret.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const KNOWN = ['api', 'worker', 'metrics'];
/** Past the worker's own hard limit (WORKER_SHUTDOWN_TIMEOUT_MS 30 s + 10 s); then they are killed. */
const KILL_AFTER_MS = 45_000;
/** The services find this fd in JOBSTREAM_PARENT_PIPE (see packages/runtime/src/parent-watch.ts). */
const PARENT_PIPE_FD = 3;
/** How often this script checks that its own parent (npm) is still there. */
const ORPHAN_CHECK_MS = 500;
const EXIT_PORT_IN_USE = 3;

/** The ports each service listens on: variable, default, and the variable of the host it binds. */
const PORTS = {
  api: [{ name: 'PORT', fallback: 3000, hostVar: 'HOST', hostFallback: '0.0.0.0' }],
  worker: [{ name: 'WORKER_METRICS_PORT', fallback: 9101, hostVar: 'WORKER_METRICS_HOST', hostFallback: '0.0.0.0' }],
  metrics: [
    { name: 'METRICS_PORT', fallback: 9102, hostVar: 'HOST', hostFallback: '0.0.0.0' },
    { name: 'METRICS_ADMIN_PORT', fallback: 9103, hostVar: 'METRICS_ADMIN_HOST', hostFallback: '127.0.0.1' },
  ],
};

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

/**
 * TLS options for the check, taken as the services take them (REDIS_TLS, a rediss:// URL,
 * REDIS_TLS_CA_FILE, REDIS_TLS_SERVERNAME), or undefined for plain TCP. A CA file that cannot be
 * read is left out here: the services stop with a configuration error that names it.
 */
function redisTlsOf(env) {
  const flag = (env.REDIS_TLS ?? '').toLowerCase();
  const on = flag === '' ? env.REDIS_URL.startsWith('rediss://') : ['true', '1', 'yes'].includes(flag);
  if (!on) return undefined;
  let ca;
  try {
    ca = env.REDIS_TLS_CA_FILE ? readFileSync(env.REDIS_TLS_CA_FILE, 'utf8') : undefined;
  } catch {
    ca = undefined;
  }
  return { ...(ca ? { ca } : {}), ...(env.REDIS_TLS_SERVERNAME ? { servername: env.REDIS_TLS_SERVERNAME } : {}) };
}

/** Node's codes for a server certificate it does not accept: something speaks TLS there. */
const CERTIFICATE_ERROR = /CERT|SELF_SIGNED|UNABLE_TO_|ALTNAME/;

/**
 * True when something at `url` speaks Redis: a reply error such as NOAUTH, or a certificate this
 * machine does not trust, still means it is there (the services then say what is wrong).
 */
async function redisAnswers(url, { tls, username, password } = {}) {
  let seen;
  const client = new Redis(url, {
    ...(tls ? { tls } : {}),
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', (err) => (seen ??= err));
  // Something that accepts TCP but never speaks Redis would hang the ready check: bound it.
  const timeout = sleep(2_000, undefined, { ref: false }).then(() => {
    throw new Error('timed out');
  });
  try {
    await Promise.race([client.connect().then(() => client.ping()), timeout]);
    return true;
  } catch (err) {
    return err?.name === 'ReplyError' || seen?.name === 'ReplyError' || CERTIFICATE_ERROR.test(seen?.code ?? '');
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
async function startRedis(url, envPassword) {
  const { port: rawPort, password: urlPassword } = new URL(url);
  const password = urlPassword ? decodeURIComponent(urlPassword) : envPassword;
  const port = rawPort || '6379';
  const dir = join(root, '.data', 'redis');
  mkdirSync(dir, { recursive: true });
  const args = ['--port', port, '--bind', '127.0.0.1', '-::1', '--dir', dir, '--logfile', join(dir, 'redis.log')];
  args.push('--appendonly', 'yes', '--maxmemory-policy', 'noeviction');
  if (password) args.push('--requirepass', password);
  const child = spawn('redis-server', args, { stdio: 'ignore', detached: true });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.on('error', () => undefined);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    if (await redisAnswers(url, { password })) {
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

/** `connection`: the TLS options and the credentials of REDIS_USERNAME and REDIS_PASSWORD. */
async function ensureRedis(url, connection) {
  if (await redisAnswers(url, connection)) return undefined;
  if (connection.tls) explainNoRedis(url, 'TLS is on (REDIS_TLS or rediss://), and a Redis with TLS is not started here');
  const { hostname } = new URL(url);
  if (!isLoopback(hostname)) explainNoRedis(url, `${hostname} is not this machine, so it is not started here`);
  if (!hasRedisServer()) explainNoRedis(url, 'no redis-server on the PATH');
  return (await startRedis(url, connection.password)) ?? explainNoRedis(url, 'starting redis-server failed');
}

/** The ports the chosen services will listen on, as configured in `env`; 0 and bad values are left to the services. */
function portsOf(names, env) {
  return names.flatMap((service) =>
    PORTS[service].map(({ name, fallback, hostVar, hostFallback }) => ({
      service,
      name,
      port: env[name] ? Number(env[name]) : fallback,
      host: env[hostVar] || hostFallback,
    })),
  ).filter(({ port }) => Number.isInteger(port) && port > 0 && port <= 65_535);
}

/** Resolves with the error code when binding `host:port` fails (EADDRINUSE, EACCES), else undefined. */
function bindError(port, host) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err) => resolve(err.code === 'EADDRINUSE' || err.code === 'EACCES' ? err.code : undefined));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

/** True when the port answers /metrics with jobstream's metrics: a jobstream service holds it. */
function isJobstream(port, host) {
  const target = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return new Promise((resolve) => {
    const req = httpGet({ host: target, port, path: '/metrics', timeout: 1_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve(body.includes('jobstream_')));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

/**
 * Exits with EXIT_PORT_IN_USE before anything starts when a port is taken: a service would fail
 * on it only after the others started (a worker then takes jobs from the stack that holds it).
 */
async function ensurePortsFree(names, env) {
  const taken = [];
  for (const entry of portsOf(names, env)) {
    const code = await bindError(entry.port, entry.host);
    if (code) taken.push({ ...entry, code });
  }
  if (taken.length === 0) return;
  for (const { service, name, port, host, code } of taken) {
    say(`port ${port} (${service}, ${name}) on ${host} ${code === 'EACCES' ? 'is not allowed for this user' : 'is in use'}`);
  }
  const ours = (await Promise.all(taken.map(({ port, host }) => isJobstream(port, host)))).some(Boolean);
  const others = taken.map(({ name, port }) => `${name}=${port + 100}`).join(' ');
  if (ours) say('jobstream is already running here (another `npm start`?): stop that one, or give this one other ports:');
  else say(`another program holds ${taken.length === 1 ? 'it' : 'them'} (\`ss -ltnp\` names it): stop it, or choose other ports:`);
  const script = process.env.npm_lifecycle_event;
  say(`  ${others} ${script?.startsWith('start:') ? `npm run ${script}` : 'npm start'}`);
  say('nothing was started');
  process.exit(EXIT_PORT_IN_USE);
}

/** Where to reach a listener bound to `host` from this machine. */
function localUrl(host, port) {
  return `http://${host === '0.0.0.0' || host === '::' ? 'localhost' : host}:${port}`;
}

/** What a person needs once the services run: where they are, how to sign in, how to stop them. */
function banner(names, env, secretSource) {
  const ports = portsOf(names, env);
  const portOf = (name) => ports.find((p) => p.name === name);
  const lines = [`started ${names.join(', ')}`];
  const api = portOf('PORT');
  if (api) lines.push(`  dashboard  ${localUrl(api.host, api.port)}/   (api on port ${api.port}, PORT)`);
  else if (names.includes('api')) lines.push('  api        on the port it logs (PORT=0)');
  if (names.includes('worker')) lines.push(`  worker     /metrics on port ${portOf('WORKER_METRICS_PORT')?.port ?? '(any free one)'} (WORKER_METRICS_PORT)`);
  if (names.includes('metrics')) {
    lines.push(`  metrics    /metrics on port ${portOf('METRICS_PORT')?.port ?? '(any free one)'} (METRICS_PORT), alerts on 127.0.0.1:${portOf('METRICS_ADMIN_PORT')?.port ?? '(any free one)'} (METRICS_ADMIN_PORT)`);
  }
  if (names.includes('api') && (env.AUTH_MODE ?? 'jwt') === 'jwt' && !env.JWT_JWKS_URL) {
    lines.push(`  token      npm run -s token -- --user alice [--role admin]   (signed with ${secretSource}; prints the dashboard sign-in link)`);
  }
  lines.push(`  stop       Ctrl-C, or kill ${process.pid}: every service above stops with it`);
  for (const line of lines) say(line);
}

async function main() {
  const names = chooseServices(process.argv.slice(2));
  const missing = names.filter((name) => !existsSync(entryOf(name)));
  if (missing.length > 0) {
    say(`${missing.map((name) => relative(root, entryOf(name))).join(', ')} not found: run npm run build first`);
    process.exit(1);
  }

  const env = { ...process.env };
  await ensurePortsFree(names, env);
  env.REDIS_URL ||= 'redis://127.0.0.1:6379';
  if (process.stdout.isTTY && env.LOG_PRETTY === undefined) env.LOG_PRETTY = 'true';
  let secretSource = 'JWT_SECRET';
  // Only the api checks tokens.
  if (names.includes('api') && (env.AUTH_MODE ?? 'jwt') === 'jwt' && !env.JWT_SECRET && !env.JWT_JWKS_URL) {
    env.JWT_SECRET = jwtSecret(env, { create: true }).secret;
    secretSource = 'the development secret in .data/dev-jwt-secret';
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
  // A closed terminal: the services are in sessions of their own and do not get it.
  process.on('SIGHUP', () => shutdown('SIGTERM'));
  // npm passes a SIGTERM on to its `sh -c`, which dies of it without passing it on: this script
  // is then orphaned (adopted by init or a subreaper) and still running. A new parent means stop.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent && !stopping) {
      say('the process that started this one is gone; stopping');
      shutdown('SIGTERM');
    }
  }, ORPHAN_CHECK_MS).unref();
  // Last resort if this script itself fails: do not leave detached children behind.
  process.on('exit', () => {
    stopAll('SIGKILL');
    redis?.child.kill('SIGKILL');
  });

  // With REDIS_CLUSTER_NODES set, the cluster is the operator's to run; the services report it.
  const connection = { tls: redisTlsOf(env), username: env.REDIS_USERNAME || undefined, password: env.REDIS_PASSWORD || undefined };
  redis = env.REDIS_CLUSTER_NODES ? undefined : await ensureRedis(env.REDIS_URL, connection);

  const finished = (stopping ? [] : names).map((name) => {
    const child = spawn(process.execPath, [entryOf(name)], {
      cwd: root,
      env: { ...env, JOBSTREAM_PARENT_PIPE: String(PARENT_PIPE_FD) },
      stdio: ['ignore', 'inherit', 'inherit', 'pipe'],
      detached: true,
    });
    // Nothing is written to it: the child only waits for it to close.
    child.stdio[PARENT_PIPE_FD]?.on('error', () => undefined);
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
  if (finished.length > 0) banner(names, env, secretSource);

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
