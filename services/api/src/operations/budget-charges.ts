import type { BudgetChargesResponse } from '@jobstream/contracts';
import { budgetPeriod, LUA_JOB_OWNER, registerScript, type JobstreamKeys, type RedisClient } from '@jobstream/runtime';

/** Lua: the owner of each job hash in KEYS, or false once the job is gone. */
const OWNERS_SCRIPT = `${LUA_JOB_OWNER}
local out = {}
for i, key in ipairs(KEYS) do
  local owner = job_owner(key)
  out[i] = owner or false
end
return out
`;

type ScriptClient = RedisClient & { jobstreamJobOwners(numberOfKeys: number, ...keys: string[]): Promise<(string | null)[]> };

const defineJobOwners = registerScript('jobstreamJobOwners', { lua: OWNERS_SCRIPT });

/**
 * The month's most expensive jobs with their owners, how many jobs were charged and their total.
 * Reads the month's whole ledger (one field per charged job): an admin's occasional question, not
 * a per-request path.
 */
export async function readBudgetCharges(
  redis: RedisClient,
  keys: Pick<JobstreamKeys, 'budgetCharged' | 'job'>,
  query: { period?: string | undefined; limit: number },
  now: number = Date.now(),
): Promise<BudgetChargesResponse> {
  const period = query.period ?? budgetPeriod(now);
  const ledger = await redis.hgetall(keys.budgetCharged(period));
  const charges = Object.entries(ledger).map(([jobId, cost]) => ({ jobId, cost: Number(cost) || 0 }));
  const total = charges.reduce((sum, charge) => sum + charge.cost, 0);
  const top = charges.sort((a, b) => b.cost - a.cost || a.jobId.localeCompare(b.jobId)).slice(0, query.limit);
  defineJobOwners(redis);
  const owners = top.length === 0 ? [] : await (redis as ScriptClient).jobstreamJobOwners(top.length, ...top.map((charge) => keys.job(charge.jobId)));
  return {
    period,
    jobsCharged: charges.length,
    total: Math.round(total * 1e6) / 1e6,
    jobs: top.map((charge, i) => ({ ...charge, owner: owners[i] || null })),
  };
}
