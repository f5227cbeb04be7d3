import { budgetPeriod } from './budget-ledger';
import { budgetPricesVar, costOf, usageFromResult, type PriceTable } from './budget-pricing';

const table: PriceTable = {
  default: { promptPer1k: 0.002, completionPer1k: 0.002 },
  byProvider: { openai: { promptPer1k: 0.00015, completionPer1k: 0.0006 }, local: { promptPer1k: 0, completionPer1k: 0 } },
};

describe('budget pricing', () => {
  it('prices prompt and completion tokens at the provider price, others at the default', () => {
    const usage = { promptTokens: 2_000, completionTokens: 1_000, totalTokens: 3_000 };
    expect(costOf(usage, 'openai', table)).toBeCloseTo(0.0009, 12);
    expect(costOf(usage, 'local', table)).toBe(0);
    expect(costOf(usage, 'other', table)).toBeCloseTo(0.006, 12);
    expect(costOf(usage, undefined, table)).toBeCloseTo(0.006, 12);
  });

  it('finds token usage in a flashcards result and nothing in other results', () => {
    const tokenUsage = { promptTokens: 1, completionTokens: 2, totalTokens: 3 };
    expect(usageFromResult({ flashcards: [], tokenUsage, provider: 'openai' })).toEqual({ usage: tokenUsage, provider: 'openai' });
    expect(usageFromResult({ ok: true })).toBeUndefined();
    expect(usageFromResult({ tokenUsage: { promptTokens: -1 } })).toBeUndefined();
    expect(usageFromResult(null)).toBeUndefined();
  });

  it('parses BUDGET_PRICES and rejects what is not a price table', () => {
    expect(budgetPricesVar().parse(undefined)).toEqual({});
    expect(budgetPricesVar().parse('{"a":0.5}')).toEqual({ a: { promptPer1k: 0.5, completionPer1k: 0.5 } });
    expect(budgetPricesVar().safeParse('[1]').success).toBe(false);
    expect(budgetPricesVar().safeParse('{"a":-1}').success).toBe(false);
    expect(budgetPricesVar().safeParse('nope').success).toBe(false);
  });

  it('puts a moment in its UTC calendar month', () => {
    expect(budgetPeriod(Date.UTC(2025, 0, 31, 23, 59, 59))).toBe('2025-01');
    expect(budgetPeriod(new Date('2025-02-01T00:00:00Z'))).toBe('2025-02');
  });
});
