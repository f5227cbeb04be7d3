import type { ApiServer } from '@jobstream/api';
import type { WorkerService } from '@jobstream/worker';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseAge } from '../packages/cli/src/commands/admin';
import { tokenFor } from '../test-support/auth';
import { http } from '../test-support/http';
import { cleanupPrefix, repoRoot, startApi, startWorker, testEnv, testRedisUrl } from '../test-support/services';
import { waitUntil } from '../test-support/wait';

/** The bin npm links as `jobstream` (`npm test` builds the CLI first). */
const bin = join(repoRoot, 'packages', 'cli', 'bin', 'jobstream.js');

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI as its own process, never through a shell, with `token`. */
function cli(args: string[], token: string): Promise<CliResult> {
  const { JOBSTREAM_URL: _u, JOBSTREAM_TOKEN: _t, ...base } = process.env;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...base, JOBSTREAM_TOKEN: token }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the jobstream CLI: cancel, retry and the admin commands', () => {
  let env: Record<string, string>;
  let api: ApiServer & { url: string };
  let worker: WorkerService;
  let url: string[];
  let user: string;
  let admin: string;

  beforeAll(async () => {
    env = testEnv();
    user = await tokenFor('cli-alice');
    admin = await tokenFor('cli-ops', ['admin']);
    api = await startApi(env);
    worker = await startWorker(env);
    url = ['--url', api.url];
  });

  afterAll(async () => {
    await worker.close();
    await api.close();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
  });

  const submit = async (payload: Record<string, unknown>): Promise<string> => {
    const res = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload }, { authorization: `Bearer ${user}` });
    expect(res.status).toBe(202);
    return res.body.jobId as string;
  };
  const untilState = (jobId: string, state: string) =>
    waitUntil(`job ${jobId} ${state}`, async () => (await http('GET', `${api.url}/api/jobs/${jobId}`, undefined, { authorization: `Bearer ${admin}` })).body.state === state, 20_000, 50);

  it('cancels a running job (exit 0) while a watch of it ends with exit 1 saying who cancelled it; cancelling again exits 3 with JOB_ALREADY_FINISHED', async () => {
    const jobId = await submit({ durationMs: 30_000, steps: 30 });
    await untilState(jobId, 'active');
    // Whether it connects before or after the cancel, the watch replays the job's history to its end.
    const watching = cli(['watch', jobId, ...url], user);
    const cancel = await cli(['cancel', jobId, ...url], user);
    expect(cancel).toMatchObject({ code: 0, stderr: '' });
    expect(cancel.stdout).toBe(`Cancelling job ${jobId}: its worker was asked to stop it; "jobstream watch ${jobId}" shows when it has.\n`);
    const watched = await watching;
    expect(watched.code).toBe(1);
    expect(watched.stdout).toMatch(new RegExp(`✖ demo\\.work job ${jobId} cancelled by its owner`));
    const again = await cli(['cancel', jobId, ...url], user);
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/^jobstream: JOB_ALREADY_FINISHED \(HTTP 409\)/);
  });

  it('retries a failed job (exit 0, the answer as JSON with --json), and a retry of a job that did not fail exits 3 with JOB_NOT_RETRYABLE', async () => {
    const jobId = await submit({ durationMs: 1, failAttempts: 3 });
    await untilState(jobId, 'failed');
    const retried = await cli(['retry', jobId, '--json', ...url], user);
    expect(retried).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(retried.stdout)).toMatchObject({ jobId, state: 'waiting' });
    await untilState(jobId, 'completed');
    const refused = await cli(['retry', jobId, ...url], user);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/^jobstream: JOB_NOT_RETRYABLE \(HTTP 409\)/);
  });

  it('lists failed jobs of every user for an admin, one line each with owner, attempts and reason, and pages with the cursor it prints', async () => {
    const ids = [await submit({ durationMs: 1, failAttempts: 3 }), await submit({ durationMs: 1, failAttempts: 3 })];
    for (const jobId of ids) await untilState(jobId, 'failed');
    const first = await cli(['admin', 'jobs', '--state', 'failed', '--limit', '1', ...url], admin);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    const [row, next] = first.stdout.trim().split('\n');
    expect(row).toMatch(/^[\w-]+ {2}demo\.work {2}cli-alice {2}failed {2}\S+ {2}3 attempts {2}demo\.work fails attempt 3/);
    expect(next).toMatch(/^older: jobstream admin jobs --state failed --limit 1 --cursor \S+$/);
    const cursor = next?.split(' ').at(-1) as string;
    const second = await cli(['admin', 'jobs', '--state', 'failed', '--limit', '1', '--cursor', cursor, ...url], admin);
    expect(second.stdout.split(/\s+/)[0]).not.toBe(row?.split(/\s+/)[0]);
    const forbidden = await cli(['admin', 'jobs', '--state', 'failed', ...url], user);
    expect(forbidden.code).toBe(3);
    expect(forbidden.stderr).toContain('FORBIDDEN (HTTP 403)');
  });

  it('cleans finished jobs older than an age given with a unit, saying how many it removed', async () => {
    const jobId = await submit({ durationMs: 1 });
    await untilState(jobId, 'completed');
    const none = await cli(['admin', 'clean', '--state', 'completed', '--older-than', '1h', ...url], admin);
    expect(none.stdout).toBe('Removed 0 completed jobs that finished more than 1h ago, with their history.\n');
    const all = await cli(['admin', 'clean', '--state', 'completed', '--older-than', '0', '--json', ...url], admin);
    expect(all.code).toBe(0);
    expect(JSON.parse(all.stdout)).toMatchObject({ state: 'completed' });
    expect(JSON.parse(all.stdout).removed).toBeGreaterThanOrEqual(1);
    expect((await http('GET', `${api.url}/api/jobs/${jobId}`, undefined, { authorization: `Bearer ${user}` })).status).toBe(404);
  });

  it('exits 2 with a usage message for mistakes in the new commands', async () => {
    const cases: [string[], RegExp][] = [
      [['cancel'], /cancel needs a job id/],
      [['retry', 'a', 'b'], /unexpected argument "b"/],
      [['admin'], /admin needs "jobs" or "clean"/],
      [['admin', 'jobs'], /admin jobs needs --state/],
      [['admin', 'jobs', '--state', 'removed'], /admin jobs needs --state/],
      [['admin', 'jobs', '--state', 'failed', '--limit', '500'], /--limit must be a whole number from 1 to 100/],
      [['admin', 'clean', '--state', 'active', '--older-than', '1h'], /admin clean needs --state completed\|failed/],
      [['admin', 'clean', '--state', 'failed'], /needs --older-than/],
      [['admin', 'clean', '--state', 'failed', '--older-than', '1 year'], /--older-than must be a whole number/],
      [['cancel', 'x', '--state', 'failed'], /--state does not apply to "cancel"/],
    ];
    for (const [args, message] of cases) {
      const res = await cli([...args, ...url], admin);
      expect({ args, code: res.code }).toEqual({ args, code: 2 });
      expect(res.stderr).toMatch(message);
    }
  });

  it('reads ages in seconds, minutes, hours, days and weeks', () => {
    expect([parseAge('90'), parseAge('90s'), parseAge('30m'), parseAge('1h'), parseAge('7d'), parseAge('2w')]).toEqual([90, 90, 1_800, 3_600, 604_800, 1_209_600]);
    expect(() => parseAge('-1h')).toThrow(/--older-than/);
  });
});
