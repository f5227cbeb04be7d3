import {
  budgetPeriod,
  chargeJob,
  costOf,
  markBudgetThreshold,
  publishSystemEvent,
  readBudget,
  recordBudgetLimit,
  setKillSwitch,
  usageFromResult,
  type JobstreamKeys,
  type Logger,
  type PriceTable,
  type RedisClient,
} from '@jobstream/runtime';

export interface BudgetKeeperOptions {
  redis: RedisClient;
  keys: JobstreamKeys;
  logger: Logger;
  /** USD per calendar month. */
  monthlyLimit: number;
  /** Share of the limit that triggers the warning. */
  warnRatio: number;
  prices: PriceTable;
  /** Called for each job that was charged for the first time (metrics). */
  onCharged?: (cost: number) => void;
}

/**
 * Prices finished jobs, charges them to their month once, and acts on the month's thresholds:
 * a warning at `warnRatio` of the limit, the kill-switch at the limit. Each threshold is acted on
 * once per month and limit, so an operator who turns the switch off is not overruled seconds later.
 */
export class BudgetKeeper {
  private readonly log: Logger;

  constructor(private readonly options: BudgetKeeperOptions) {
    this.log = options.logger.child({ component: 'budget' });
  }

  get limit(): number {
    return this.options.monthlyLimit;
  }

  /**
   * Charges a completed job whose result reports token usage; `at` (ms) is when it completed and
   * decides the month. Jobs without usage cost nothing. Safe to call again for the same job.
   */
  async chargeCompleted(jobId: string, at: number, result: unknown): Promise<void> {
    const usage = usageFromResult(result);
    if (!usage) return;
    const cost = costOf(usage.usage, usage.provider, this.options.prices);
    const period = budgetPeriod(at);
    const { charged, spent } = await chargeJob(this.options.redis, this.options.keys, { period, jobId, cost });
    if (!charged) return;
    this.options.onCharged?.(cost);
    this.log.debug({ jobId, cost, spent, period }, 'job charged');
    await this.enforce(period, spent);
  }

  /** The spend at which the budget warning goes out: the limit × BUDGET_WARN_RATIO. */
  get warnAt(): number {
    // To the ledger's precision (9 decimals): 0.0007 × 0.8 is 0.0005600000000000001 in floating
    // point, and a spend of exactly 0.00056 must reach it.
    return Math.round(this.options.monthlyLimit * this.options.warnRatio * 1e9) / 1e9;
  }

  /** Records the limit for the current month and enforces it; returns the month's spend, the limit and the warning level. */
  async check(now: number = Date.now()): Promise<{ period: string; spent: number; limit: number; warnAt: number }> {
    const period = budgetPeriod(now);
    await recordBudgetLimit(this.options.redis, this.options.keys, period, this.options.monthlyLimit, this.warnAt);
    const { spent } = await readBudget(this.options.redis, this.options.keys, period);
    await this.enforce(period, spent);
    return { period, spent, limit: this.options.monthlyLimit, warnAt: this.warnAt };
  }

  private async enforce(period: string, spent: number): Promise<void> {
    const { redis, keys, monthlyLimit: limit } = this.options;
    // Only the current month can turn the switch on: a late event of last month must not block this one.
    if (period !== budgetPeriod(Date.now())) return;
    if (spent >= this.warnAt && spent < limit && (await markBudgetThreshold(redis, keys, period, 'warned', limit))) {
      const ratio = spent / limit;
      this.log.warn({ period, spent, limit, ratio }, `budget warning: ${Math.round(ratio * 100)} % of the monthly limit spent`);
      await publishSystemEvent(redis, keys, 'budget_warning', { timestamp: new Date().toISOString(), period, spent, limit, ratio });
    }
    if (spent >= limit && (await markBudgetThreshold(redis, keys, period, 'exceeded', limit))) {
      const reason = `monthly budget of ${limit} USD reached (${spent.toFixed(4)} USD spent in ${period})`;
      const turnedOn = await setKillSwitch(redis, keys, { enabled: true, reason, changedBy: 'budget', auto: true, onlyIfOff: true });
      this.log.error({ period, spent, limit, turnedOn }, `budget exceeded: ${turnedOn ? 'kill-switch turned on' : 'kill-switch was already on'}`);
    }
  }
}
