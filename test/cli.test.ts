import type { ApiServer } from '@jobstream/api';
import type { WorkerService } from '@jobstream/worker';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { formatDuration } from '../packages/cli/src/output';
import { renderProgressLine } from '../packages/cli/src/progress-bar';
import { freePort } from '../test-support/redis-server';
import { DEFAULT_TEST_USER, tokenFor } from '../test-support/auth';
import { cleanupPrefix, repoRoot, startApi, startWorker, testEnv, testRedisUrl } from '../test-support/services';
import { budgetPeriod, chargeJob, publishSystemEvent } from '@jobstream/runtime';
import { keysFor, startMetrics, testRedis } from './operations-helpers';

/** Tokens of a plain user (the default of `cli`) and of an operator with the admin role. */
let userToken: string;
let adminToken: string;
/** The bin npm links as `jobstream` (`npm test` builds the CLI first). */
const bin = join(repoRoot, 'packages', 'cli', 'bin', 'jobstream.js');

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a process to its end without blocking (the api under test runs in this process). */
function run(command: string, args: string[], env: Record<string, string | undefined>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs the CLI as its own process, as an operator would; never through a shell. As the plain user unless `env` sets JOBSTREAM_TOKEN. */
function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const { JOBSTREAM_URL: _u, JOBSTREAM_TOKEN: _t, ...base } = process.env;
  return run(process.execPath, [bin, ...args], { ...base, JOBSTREAM_TOKEN: userToken, ...env });
}

const jsonLines = (text: string) => text.trim().split('\n').map((line) => JSON.parse(line));

describe('the jobstream CLI', () => {
  let env: Record<string, string>;
  let api: ApiServer & { url: string };
  let worker: WorkerService;
  let url: string[];

  beforeAll(async () => {
    env = testEnv({ ALERT_EVAL_INTERVAL_MS: '200' });
    userToken = await tokenFor(DEFAULT_TEST_USER);
    adminToken = await tokenFor('cli-ops', ['admin']);
    api = await startApi(env);
    worker = await startWorker(env);
    url = ['--url', api.url];
  });

  afterAll(async () => {
    await worker.close();
    await api.close();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
  });

  it('enqueues a job and watches it to completion with plain lines when not at a terminal, exit 0', async () => {
    const res = await cli(['enqueue', 'demo.work', '--payload', '{"durationMs":400,"steps":2,"result":{"answer":42}}', '--watch', ...url]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const lines = res.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^Enqueued demo\.work job [\w-]+ \(waiting\)$/);
    const body = lines.slice(1).map((l) => l.replace(/^\s*[\d.]+ (ms|s)\s+/, ''));
    expect(body.slice(0, 5)).toEqual(['waiting', 'active', 'progress 50%', 'progress 100%', 'completed']);
    expect(body[5]).toMatch(/^✔ demo\.work job [\w-]+ completed in \d/);
    expect(res.stdout).toContain('result: {\n  "answer": 42\n}');
  });

  it("stamps each line of a finished job's watch with the job's own times, not the replay's", async () => {
    const enqueued = await cli(['enqueue', 'demo.work', '--payload', '{"durationMs":600,"steps":2}', '--watch', ...url]);
    expect(enqueued.code).toBe(0);
    const jobId = /job ([\w-]+) \(waiting\)/.exec(enqueued.stdout)?.[1];
    // Watched again once it finished, its whole history arrives at once.
    const replay = await cli(['watch', jobId!, ...url]);
    expect(replay.code).toBe(0);
    const stamps = Object.fromEntries(
      replay.stdout
        .split('\n')
        .map((line) => /^\s*([\d.]+) (ms|s) {2}(\w+)/.exec(line))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [m[3], Number(m[1]) * (m[2] === 's' ? 1_000 : 1)]),
    );
    expect(Object.keys(stamps)).toEqual(['waiting', 'active', 'progress', 'completed']);
    expect(stamps.completed! - stamps.active!).toBeGreaterThanOrEqual(550);
    expect(replay.stdout).toMatch(/completed in (6\d\d ms|0\.[6-9] s)/);
  });

  it('prints the enqueue answer and then one JSON line per event with --json, exit 1 when the job fails', async () => {
    const enqueued = await cli(['enqueue', 'demo.work', '--payload', '{"durationMs":10,"failAttempts":3}', '--json', ...url]);
    expect(enqueued.code).toBe(0);
    const { jobId } = JSON.parse(enqueued.stdout);
    const res = await cli(['watch', jobId, '--json'], { JOBSTREAM_URL: api.url });
    expect(res.code).toBe(1);
    const lines = jsonLines(res.stdout);
    expect(lines[0]).toEqual({ event: 'connection', state: 'connecting' });
    expect(lines.filter((l) => l.event === 'failed').map((l) => l.data.willRetry)).toEqual([true, true, false]);
    expect(lines.at(-1)).toMatchObject({ event: 'failed', id: expect.stringMatching(/^\d+-\d+$/), data: { jobId, willRetry: false, attemptsMade: 3 } });

    const human = await cli(['watch', jobId, ...url]);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/✖ demo\.work job [\w-]+ failed after 3 attempts/);
  });

  it('draws a progress bar in place at a terminal', async () => {
    const enqueued = await cli(['enqueue', 'demo.work', '--payload', '{"durationMs":600,"steps":4}', '--json', ...url]);
    const { jobId } = JSON.parse(enqueued.stdout);
    // util-linux `script` runs the command on a pseudo-terminal, so stdout.isTTY is true.
    const command = [process.execPath, bin, 'watch', jobId, '--url', api.url].map((a) => `'${a}'`).join(' ');
    const res = await run('script', ['-qec', command, '/dev/null'], { ...process.env, JOBSTREAM_TOKEN: userToken, COLUMNS: '100', NO_COLOR: '1' });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('\r\x1b[2K');
    expect(res.stdout).toMatch(/active\s+\[█+░*\]\s+\d+%/);
    expect(res.stdout).toMatch(/✔ demo\.work job [\w-]+ completed/);
  });

  it('formats durations over a minute without a sixtieth second', () => {
    expect([119_600, 120_400, 61_000, 3_599_500].map(formatDuration)).toEqual(['2 min 00 s', '2 min 00 s', '1 min 01 s', '1 h 00 min']);
  });

  it('renders the progress line within the terminal width, with the connection when it is not live', () => {
    const job = { jobId: 'j', type: 'demo.work', state: 'active' as const, progress: 50, attemptsMade: 0, createdAt: '' };
    const line = renderProgressLine({ job, connection: 'live', elapsedMs: 1_234, columns: 60, frame: 0 });
    expect(line).toMatch(/^⠋ active\s+\[█+░+\] {2}50% {2}1\.2s$/);
    expect(line.length).toBeLessThanOrEqual(60);
    expect(renderProgressLine({ job, connection: 'polling', elapsedMs: 0, columns: 80, frame: 1 })).toMatch(/\(polling\)$/);
    expect(renderProgressLine({ job: { ...job, progress: { page: 3 } }, connection: 'live', elapsedMs: 0, columns: 80, frame: 2 })).toContain('{"page":3}');
  });

  it('exits 3 with the API code for an unknown job and for an invalid payload, naming the field', async () => {
    const missing = await cli(['watch', 'no-such-job', ...url]);
    expect(missing.code).toBe(3);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toMatch(/^jobstream: JOB_NOT_FOUND \(HTTP 404\): No job with id "no-such-job"/);

    const invalid = await cli(['enqueue', 'demo.work', '--payload', '{"durationMs":-5}', ...url]);
    expect(invalid.code).toBe(3);
    expect(invalid.stderr).toContain('jobstream: VALIDATION_FAILED (HTTP 400)');
    expect(invalid.stderr).toContain('  - payload.durationMs: ');

    const asJson = await cli(['enqueue', 'nope.type', '--payload', '{}', '--json', ...url]);
    expect(asJson.code).toBe(3);
    expect(JSON.parse(asJson.stderr)).toMatchObject({ code: 'VALIDATION_FAILED', status: 400, details: [{ path: 'type' }] });
  });

  it('exits 2 with a usage message for mistakes in the command line', async () => {
    const cases: [string[], RegExp][] = [
      [['frobnicate'], /unknown command "frobnicate"/],
      [['enqueue'], /enqueue needs a job type/],
      [['enqueue', 'demo.work', '--payload', '{oops'], /--payload is not valid JSON/],
      [['watch'], /watch needs a job id/],
      [['kill-switch', 'on'], /needs a --reason/],
      [['kill-switch', 'maybe'], /needs "on", "off" or "audit"/],
      [['stats', '--reason', 'x'], /--reason does not apply to "stats"/],
      [['stats', '--bogus'], /Unknown option '--bogus'/],
      [['stats', '--url', 'localhost:3000'], /--url must be an http\(s\) URL/],
      [['job'], /job needs a job id/],
      [['job', 'a', 'b'], /unexpected argument "b"/],
      [['workers', 'now'], /unexpected argument "now"/],
      [['workers', '--limit', '5'], /--limit does not apply to "workers"/],
      [['events', '--limit', '1001'], /--limit must be a whole number from 1 to 1000/],
      [['events', '--event', 'alert_exploded'], /--event must be one of alert_started, alert_resolved, kill_switch_changed, budget_warning, circuit_breaker_state/],
      [['stats', '--event', 'alert_started'], /--event does not apply to "stats"/],
    ];
    for (const [args, message] of cases) {
      const res = await cli(args);
      expect([args, res.code]).toEqual([args, 2]);
      expect(res.stderr).toMatch(message);
      expect(res.stderr).toContain('Run "jobstream help" for usage.');
    }
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: jobstream <command>');
    expect((await cli(['help'])).code).toBe(0);
    // No command at all is a mistake in the call, like an unknown one: the usage goes to stderr.
    const bare = await cli([]);
    expect(bare.code).toBe(2);
    expect(bare.stdout).toBe('');
    expect(bare.stderr).toMatch(/^jobstream: no command given\n\nUsage: jobstream <command>/);
  });

  it('ends quietly with exit 0 when the reader of its output goes away (| head -1)', async () => {
    const enqueued = await cli(['enqueue', 'demo.work', '--payload', '{"durationMs":1500,"steps":6}', '--json', ...url]);
    const { jobId } = JSON.parse(enqueued.stdout);
    const { JOBSTREAM_URL: _u, JOBSTREAM_TOKEN: _t, ...base } = process.env;
    const child = spawn(process.execPath, [bin, 'watch', jobId, ...url], { env: { ...base, JOBSTREAM_TOKEN: userToken }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    // Like `head -1`: read the first line, then close the pipe while the watch still has lines to write.
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  });

  it('answers --help of the token script with its usage, exit 0', async () => {
    const res = await run(process.execPath, [join(repoRoot, 'scripts', 'token.mjs'), '--help'], process.env);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('usage: npm run -s token -- --user <id>');
    expect(res.stdout).toContain('--ttl');
  });

  it('says which api it could not reach, exit 3', async () => {
    const port = await freePort();
    const res = await cli(['stats', '--url', `http://127.0.0.1:${port}`]);
    expect(res.code).toBe(3);
    expect(res.stderr).toContain('jobstream: NETWORK_ERROR');
    expect(res.stderr).toContain(`is the api running at http://127.0.0.1:${port}?`);
  });

  it("lists the caller's own jobs newest first, one line each, and pages with the cursor it prints", async () => {
    const token = await tokenFor(`cli-lister-${Date.now()}`);
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const res = await cli(['enqueue', 'demo.work', '--payload', '{"durationMs":10}', '--json', ...url], { JOBSTREAM_TOKEN: token });
      ids.push(JSON.parse(res.stdout).jobId as string);
    }
    const first = await cli(['jobs', '--limit', '2', ...url], { JOBSTREAM_TOKEN: token });
    expect(first.code).toBe(0);
    const lines = first.stdout.trim().split('\n');
    expect(lines.slice(0, 2).map((line) => line.split(/\s+/)[0])).toEqual([ids[2], ids[1]]);
    expect(lines[0]).toMatch(/ demo\.work +(waiting|active|completed)/);
    const next = /^older: jobstream jobs --limit 2 --cursor (\S+)$/.exec(lines[2] ?? '');
    expect(next).not.toBeNull();
    const second = await cli(['jobs', '--json', '--cursor', next![1]!, ...url], { JOBSTREAM_TOKEN: token });
    expect(JSON.parse(second.stdout)).toMatchObject({ jobs: [{ jobId: ids[0] }], nextCursor: null });
    // Types of different lengths share one table: every column starts at the same place.
    const mixed = await cli(['enqueue', 'flashcards.generate', '--payload', '{"content":"The sky is blue.","subject":"science","topic":"sky","count":1}', '--json', ...url], { JOBSTREAM_TOKEN: token });
    expect(mixed.code).toBe(0);
    const table = (await cli(['jobs', '--limit', '2', ...url], { JOBSTREAM_TOKEN: token })).stdout.trim().split('\n').slice(0, 2);
    expect(table[0]).toContain(' flashcards.generate ');
    expect(table[1]).toContain(' demo.work ');
    const columnStarts = (line: string) => [...line.matchAll(/ {2}(?=\S)/g)].map((m) => m.index);
    expect(columnStarts(table[0]!)).toEqual(columnStarts(table[1]!));
    const bad = await cli(['jobs', '--limit', '0', ...url], { JOBSTREAM_TOKEN: token });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--limit must be a whole number from 1 to 100');
  });

  it('shows one job as it is now, with its outcome, and JOB_NOT_FOUND for an unknown or foreign id', async () => {
    const unknown = await cli(['job', 'no-such-job', ...url]);
    expect([unknown.code, unknown.stderr]).toEqual([3, expect.stringMatching(/^jobstream: JOB_NOT_FOUND \(HTTP 404\)/)]);
    const enqueued = await cli(['enqueue', 'demo.work', '--payload', '{"durationMs":10}', '--watch', ...url]);
    expect(enqueued.code).toBe(0);
    const jobId = /Enqueued demo.work job (\S+)/.exec(enqueued.stdout)?.[1] as string;
    const shown = await cli(['job', jobId, ...url]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(new RegExp(`^Job ${jobId}  demo\\.work  completed, 1 attempt made\n  created \\S+, started \\S+, finished \\S+, took \\d`));
    expect(shown.stdout).toContain('  result: {');
    const json = await cli(['job', jobId, '--json', ...url]);
    expect(JSON.parse(json.stdout)).toMatchObject({ jobId, type: 'demo.work', state: 'completed' });
    // An admin reads anyone's job; another user gets the same 404 as for a job that does not exist.
    expect((await cli(['job', jobId, ...url], { JOBSTREAM_TOKEN: adminToken })).code).toBe(0);
    const foreign = await cli(['job', jobId, ...url], { JOBSTREAM_TOKEN: await tokenFor('someone-else') });
    expect([foreign.code, foreign.stderr]).toEqual([3, expect.stringMatching(/^jobstream: JOB_NOT_FOUND \(HTTP 404\)/)]);
  });

  it("shows every worker's heartbeat, its jobs and breakers, to admins only", async () => {
    const human = await cli(['workers', ...url], { JOBSTREAM_TOKEN: adminToken });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^Workers: 1 live, 0 stalled \((stall limit unknown: no alert evaluation yet|stall limit [^)]+)\)\n/);
    expect(human.stdout).toMatch(/\n\S+ {2}pid \d+ on \S+ {2}heartbeat \S+ m?s ago {2}live\n/);
    expect(human.stdout).toMatch(/\n {2}breaker flashcards\S* {2}closed, 0 failures, since \S+\n/);
    const json = await cli(['workers', '--json', ...url], { JOBSTREAM_TOKEN: adminToken });
    expect(JSON.parse(json.stdout)).toMatchObject({ workers: [{ live: true, pid: expect.any(Number) }] });
    const denied = await cli(['workers', ...url]);
    expect([denied.code, denied.stderr]).toEqual([3, expect.stringContaining('FORBIDDEN (HTTP 403)')]);
  });

  it('lists the latest system events newest first, of one kind with --event', async () => {
    const redis = testRedis();
    try {
      const at = '2026-12-06T10:00:00.000Z';
      await publishSystemEvent(redis, keysFor(env), 'budget_warning', { timestamp: at, period: '2026-12', spent: 85, limit: 100, ratio: 0.85 });
      await publishSystemEvent(redis, keysFor(env), 'circuit_breaker_state', { timestamp: at, breaker: 'flashcards', worker: 'w1', from: 'closed', to: 'open', failures: 5 });
    } finally {
      redis.disconnect();
    }
    const admin = { JOBSTREAM_TOKEN: adminToken, JOBSTREAM_URL: api.url };
    const latest = await cli(['events', '--limit', '2'], admin);
    expect(latest.code).toBe(0);
    expect(latest.stdout.trim().split('\n')).toEqual([
      '2026-12-06T10:00:00.000Z  circuit_breaker_state  flashcards on w1: closed -> open (5 failures)',
      '2026-12-06T10:00:00.000Z  budget_warning         $85.00 of $100.00 spent in 2026-12 (85.0%)',
    ]);
    const warnings = await cli(['events', '--event', 'budget_warning', '--json'], admin);
    expect(JSON.parse(warnings.stdout).events).toEqual([expect.objectContaining({ event: 'budget_warning', data: expect.objectContaining({ spent: 85 }) })]);
    const none = await cli(['events', '--event', 'alert_resolved'], admin);
    expect([none.code, none.stdout]).toEqual([0, 'No alert_resolved event yet.\n']);
    const denied = await cli(['events', ...url]);
    expect([denied.code, denied.stderr]).toEqual([3, expect.stringContaining('FORBIDDEN (HTTP 403)')]);
  });

  it('breaks the newest failed jobs down by owner, type and error, and lists the most expensive jobs of the month', async () => {
    const failing = await cli(['enqueue', 'demo.work', '--payload', '{"durationMs":1,"failAttempts":10}', '--watch', ...url]);
    expect(failing.code).toBe(1);
    const jobId = /Enqueued demo.work job (\S+)/.exec(failing.stdout)?.[1] as string;
    const admin = { JOBSTREAM_TOKEN: adminToken, JOBSTREAM_URL: api.url };
    const breakdown = await cli(['breakdown', 'failed', '--limit', '1'], admin);
    expect(breakdown.code).toBe(0);
    expect(breakdown.stdout).toMatch(new RegExp(`^The newest 1 failed job\nby owner:\n  1  ${DEFAULT_TEST_USER}\nby type:\n  1  demo\\.work\nby error:\n  1  \\S`));
    expect(JSON.parse((await cli(['breakdown', 'waiting', '--json'], admin)).stdout)).toMatchObject({ state: 'waiting', byError: [] });

    const redis = testRedis();
    try {
      await chargeJob(redis, keysFor(env), { period: budgetPeriod(Date.now()), jobId, cost: 0.5 });
    } finally {
      redis.disconnect();
    }
    const charges = await cli(['budget', 'charges', '--limit', '1'], admin);
    expect(charges.code).toBe(0);
    expect(charges.stdout).toMatch(new RegExp(`^Budget \\d{4}-\\d{2}: 1 job charged, \\$0\\.50 in all\n  \\$0\\.50  ${jobId}  ${DEFAULT_TEST_USER}\n$`));
    const older = await cli(['budget', 'charges', '--period', '2001-01', '--json'], admin);
    expect(JSON.parse(older.stdout)).toEqual({ period: '2001-01', jobsCharged: 0, total: 0, jobs: [] });
    for (const [args, message] of [
      [['breakdown'], 'breakdown needs "waiting" or "failed"'],
      [['breakdown', 'active'], 'breakdown needs "waiting" or "failed"'],
      [['budget', 'charges', '--period', '2026-13'], '--period must be a month as YYYY-MM'],
      [['budget', 'charges', '--limit', '101'], '--limit must be a whole number from 1 to 100'],
      [['budget', '--limit', '5'], '--limit and --period apply to "budget charges"'],
      [['budget', 'spent'], 'unknown budget view "spent"'],
    ] as const) {
      const res = await cli([...args], admin);
      expect([args, res.code, res.stderr]).toEqual([args, 2, expect.stringContaining(message)]);
    }
    const denied = await cli(['breakdown', 'failed', ...url]);
    expect([denied.code, denied.stderr]).toEqual([3, expect.stringContaining('FORBIDDEN (HTTP 403)')]);
  });

  it('shows how far the metrics service has read the live feed', async () => {
    const admin = { JOBSTREAM_TOKEN: adminToken, JOBSTREAM_URL: api.url };
    const feed = await cli(['feed'], admin);
    expect(feed.code).toBe(0);
    // No metrics service has run against this queue yet (the alerts test starts one later).
    expect(feed.stdout).toMatch(/^Live feed: newest entry \d+-\d+ \(\S+Z\)\nMetrics service: read up to \(nothing yet: has it ever run\?\)\n {2}\d+ entries behind, \S+ (ms|s|min \d+ s) of events\n$/);
    expect(JSON.parse((await cli(['feed', '--json'], admin)).stdout)).toMatchObject({ metricsCursor: null, behindEntries: expect.any(Number) });
    const denied = await cli(['feed', ...url]);
    expect([denied.code, denied.stderr]).toEqual([3, expect.stringContaining('FORBIDDEN (HTTP 403)')]);
  });

  it('shows queue stats, for people and for scripts', async () => {
    const human = await cli(['stats', ...url], { JOBSTREAM_TOKEN: adminToken });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^Queue jobs\n/);
    expect(human.stdout).toMatch(/ {2}completed\s+\d+\n/);
    const json = await cli(['stats', '--json', ...url], { JOBSTREAM_TOKEN: adminToken });
    expect(JSON.parse(json.stdout)).toMatchObject({ queue: 'jobs', counts: { completed: expect.any(Number) } });
  });

  it('turns the kill-switch on and off with an admin token; budget shows it; a refused enqueue prints BUDGET_LIMIT_EXCEEDED', async () => {
    const anonymous = await cli(['budget', ...url], { JOBSTREAM_TOKEN: '' });
    expect(anonymous.code).toBe(3);
    expect(anonymous.stderr).toContain('AUTH_REQUIRED (HTTP 401)');
    expect(anonymous.stderr).toContain('--token or JOBSTREAM_TOKEN');
    expect(anonymous.stderr).toContain('get a token: npm run -s token -- --user <you> [--role admin] in development (npm start), from your identity provider otherwise');
    const refusedToken = await cli(['budget', ...url], { JOBSTREAM_TOKEN: 'not-a-token' });
    expect(refusedToken.code).toBe(3);
    expect(refusedToken.stderr).toContain('the token was refused');
    expect(refusedToken.stderr).toContain('get a token: npm run -s token -- --user <you>');
    const denied = await cli(['budget', ...url]);
    expect(denied.code).toBe(3);
    expect(denied.stderr).toContain('FORBIDDEN (HTTP 403)');
    expect(denied.stderr).toContain('admin role');

    const admin = { JOBSTREAM_URL: api.url, JOBSTREAM_TOKEN: adminToken };
    const on = await cli(['kill-switch', 'on', '--reason', 'provider outage'], admin);
    expect(on.code).toBe(0);
    expect(on.stdout).toMatch(/^Kill-switch: ON since .* by cli-ops: provider outage\n/);
    try {
      const budget = await cli(['budget'], admin);
      expect(budget.code).toBe(0);
      expect(budget.stdout).toMatch(/^Budget \d{4}-\d{2}: \$\d+\.\d{2} spent/);
      expect(budget.stdout).toContain('Kill-switch: ON');
      const budgetJson = await cli(['budget', '--json', '--token', adminToken, ...url]);
      expect(JSON.parse(budgetJson.stdout)).toMatchObject({ killSwitch: { enabled: true, reason: 'provider outage' } });

      let refused: CliResult | undefined;
      for (let i = 0; i < 20; i += 1) {
        refused = await cli(['enqueue', 'demo.work', '--payload', '{"durationMs":0}', ...url]);
        if (refused.code !== 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(refused?.code).toBe(3);
      expect(refused?.stderr).toContain('BUDGET_LIMIT_EXCEEDED (HTTP 429)');
      expect(refused?.stderr).toContain('retry after 60 s');
    } finally {
      const off = await cli(['kill-switch', 'off', '--json'], admin);
      expect(off.code).toBe(0);
      expect(JSON.parse(off.stdout)).toMatchObject({ enabled: false });
    }

    const audit = await cli(['kill-switch', 'audit', '--limit', '2'], admin);
    expect(audit.code).toBe(0);
    const entries = audit.stdout.trim().split('\n');
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatch(/^\d{4}-\d{2}-\d{2}T\S+ {2}off {2}by cli-ops$/);
    expect(entries[1]).toMatch(/^\d{4}-\d{2}-\d{2}T\S+ {2}ON {3}by cli-ops: provider outage$/);
    const auditJson = await cli(['kill-switch', 'audit', '--json', '--limit', '1'], admin);
    expect(JSON.parse(auditJson.stdout)).toMatchObject({ entries: [{ enabled: false, by: 'cli-ops', auto: false }] });
    expect(JSON.parse(auditJson.stdout).entries).toHaveLength(1);
    const denied2 = await cli(['kill-switch', 'audit', ...url]);
    expect(denied2.stderr).toContain('FORBIDDEN (HTTP 403)');
    for (const [args, message] of [
      [['kill-switch', 'audit', '--limit', '0'], '--limit must be a whole number from 1 to 1000'],
      [['kill-switch', 'off', '--limit', '5'], '--limit applies to "kill-switch audit"'],
    ] as const) {
      const res = await cli([...args], admin);
      expect([res.code, res.stderr]).toEqual([2, expect.stringContaining(message)]);
    }
  });

  it('shows the alerts once the metrics service has evaluated them', async () => {
    const none = await cli(['alerts', ...url], { JOBSTREAM_TOKEN: adminToken });
    expect(none.code).toBe(3);
    expect(none.stderr).toContain('ALERTS_UNAVAILABLE (HTTP 503)');

    // The jobs this suite failed on purpose must not raise failureRateHigh here.
    const metrics = await startMetrics({ ...env, ALERT_FAILURE_MIN_JOBS: '1000' });
    try {
      let res: CliResult | undefined;
      for (let i = 0; i < 50 && res?.code !== 0; i += 1) {
        await new Promise((r) => setTimeout(r, 100));
        res = await cli(['alerts', ...url], { JOBSTREAM_TOKEN: adminToken });
      }
      expect(res?.code).toBe(0);
      expect(res?.stdout).toMatch(/^No alert active \(evaluated .* ago\)\n/);
      expect(res?.stdout).toMatch(/ok\s+queueDepthHigh/);
      expect(res?.stdout).toContain('Values:');
      const json = await cli(['alerts', '--json', ...url], { JOBSTREAM_TOKEN: adminToken });
      expect(JSON.parse(json.stdout)).toMatchObject({ alertsActive: 0, alerts: { queueDepthHigh: false }, stale: false });
    } finally {
      await metrics.close();
    }
  });
});
