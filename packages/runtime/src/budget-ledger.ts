import type { BudgetStatus } from '@jobstream/contracts';
import type { JobstreamKeys } from './keys.js';
import { readKillSwitch } from './kill-switch.js';
import type { RedisClient } from './redis.js';
import { registerScript } from './lua-scripts.js';

type BudgetKeys = Pick<JobstreamKeys, 'budget' | 'budgetCharged'>;

/** A month's totals are kept for about 13 months, for year-over-year questions. */
const BUDGET_TTL_MS = 400 * 86_400_000;
/**
 * The charged-jobs set only has to outlive any replay of the month's events; the live feed is
 * capped far below that, so two months is plenty.
 */
const CHARGED_TTL_MS = 62 * 86_400_000;

/** The calendar month (UTC) a moment belongs to, `YYYY-MM`: the budget period. */
export function budgetPeriod(at: Date | number): string {
  return new Date(at).toISOString().slice(0, 7);
}

/**
 * Charges a job once per period: HSETNX marks the job as charged and only the first marker adds
 * to `spent`. Retried jobs complete once, and a replayed `completed` event finds its marker.
 * Returns the month's spend as strings (Lua would truncate numbers to integers).
 */
const CHARGE_SCRIPT = `
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 1 then
  local spent = redis.call('HINCRBYFLOAT', KEYS[1], 'spent', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  redis.call('PEXPIRE', KEYS[2], ARGV[4])
  return {1, spent}
end
return {0, redis.call('HGET', KEYS[1], 'spent') or '0'}
`;

type ChargeClient = RedisClient & { jobstreamChargeJob(...args: string[]): Promise<[number, string]> };

export interface ChargeResult {
  /** False when the job had been charged already. */
  charged: boolean;
  /** The period's spend after the charge, USD. */
  spent: number;
}

const defineChargeJob = registerScript('jobstreamChargeJob', { numberOfKeys: 2, lua: CHARGE_SCRIPT });

/** Adds a job's cost to its period's spend, at most once per job id. */
export async function chargeJob(
  redis: RedisClient,
  keys: BudgetKeys,
  charge: { period: string; jobId: string; cost: number },
): Promise<ChargeResult> {
  defineChargeJob(redis);
  const [charged, spent] = await (redis as ChargeClient).jobstreamChargeJob(
    keys.budget(charge.period),
    keys.budgetCharged(charge.period),
    charge.jobId,
    charge.cost.toFixed(9),
    String(BUDGET_TTL_MS),
    String(CHARGED_TTL_MS),
  );
  return { charged: charged === 1, spent: Number(spent) };
}

/**
 * The period's spend, and the limit and warning level the metrics service last recorded for it
 * (null before it ran).
 */
export async function readBudget(
  redis: RedisClient,
  keys: Pick<JobstreamKeys, 'budget'>,
  period: string,
): Promise<{ spent: number; limit: number | null; warnAt: number | null }> {
  const [spent, limit, warnAt] = await redis.hmget(keys.budget(period), 'spent', 'limit', 'warnAt');
  return { spent: spent ? Number(spent) : 0, limit: limit ? Number(limit) : null, warnAt: warnAt ? Number(warnAt) : null };
}

/**
 * Records the limit in force and the spend at which the warning goes out (limit × BUDGET_WARN_RATIO),
 * so every api replica answers budget status with the metrics service's numbers.
 */
export async function recordBudgetLimit(
  redis: RedisClient,
  keys: Pick<JobstreamKeys, 'budget'>,
  period: string,
  limit: number,
  warnAt: number,
): Promise<void> {
  await redis
    .multi()
    .hset(keys.budget(period), 'limit', String(limit), 'warnAt', String(warnAt))
    .pexpire(keys.budget(period), BUDGET_TTL_MS)
    .exec();
}

/**
 * Marks a threshold (warning, limit) as acted on for this period and limit; true only the first
 * time, so a warning is sent once and the switch is turned on once, however many replicas check.
 * Raising the limit makes a new marker, so the new limit is enforced again.
 */
export async function markBudgetThreshold(
  redis: RedisClient,
  keys: Pick<JobstreamKeys, 'budget'>,
  period: string,
  threshold: 'warned' | 'exceeded',
  limit: number,
): Promise<boolean> {
  return (await redis.hsetnx(keys.budget(period), `${threshold}:${limit}`, new Date().toISOString())) === 1;
}

/** `GET /api/admin/budget/status` for the current month. Amounts rounded to micro-dollars. */
export async function readBudgetStatus(
  redis: RedisClient,
  keys: Pick<JobstreamKeys, 'budget' | 'killSwitch'>,
  now: Date = new Date(),
): Promise<BudgetStatus> {
  const period = budgetPeriod(now);
  const [{ spent, limit, warnAt }, killSwitch] = await Promise.all([readBudget(redis, keys, period), readKillSwitch(redis, keys)]);
  const round = (n: number): number => Math.round(n * 1e6) / 1e6;
  return {
    period,
    spent: round(spent),
    limit,
    remaining: limit === null ? null : round(limit - spent),
    warnAt: warnAt === null ? null : round(warnAt),
    killSwitch,
  };
}
