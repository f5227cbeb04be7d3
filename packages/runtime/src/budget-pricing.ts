import { tokenUsageSchema, type TokenUsage } from '@jobstream/contracts';
import { z } from 'zod';

/** USD per 1,000 tokens, for the prompt and for the completion. */
export interface TokenPrice {
  promptPer1k: number;
  completionPer1k: number;
}

/** Turns token usage into money: a price per provider, and one for providers not listed. */
export interface PriceTable {
  default: TokenPrice;
  byProvider: Record<string, TokenPrice>;
}

const price = z.number().nonnegative().finite();

/** A provider's entry: one price for every token, or separate prompt and completion prices. */
const providerPriceSchema = z.union([
  price.transform((p): TokenPrice => ({ promptPer1k: p, completionPer1k: p })),
  z.object({ promptPer1k: price, completionPer1k: price }).strict(),
]);

/**
 * `BUDGET_PRICES`: JSON mapping provider name (as in job results' `provider`) to its price,
 * e.g. `{"openai":{"promptPer1k":0.00015,"completionPer1k":0.0006},"local":0}`.
 */
export function budgetPricesVar() {
  return z
    .string()
    .default('{}')
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be JSON such as {"openai":{"promptPer1k":0.00015,"completionPer1k":0.0006}}' });
        return z.NEVER;
      }
    })
    .pipe(z.record(z.string().min(1), providerPriceSchema));
}

/** A job result's cost inputs, when it reports token usage (flashcards results do). */
export function usageFromResult(result: unknown): { usage: TokenUsage; provider: string | undefined } | undefined {
  if (!result || typeof result !== 'object') return undefined;
  const record = result as Record<string, unknown>;
  const usage = tokenUsageSchema.safeParse(record.tokenUsage);
  if (!usage.success) return undefined;
  return { usage: usage.data, provider: typeof record.provider === 'string' ? record.provider : undefined };
}

/** The cost in USD of `usage` at the provider's price. */
export function costOf(usage: TokenUsage, provider: string | undefined, table: PriceTable): number {
  const p = (provider !== undefined ? table.byProvider[provider] : undefined) ?? table.default;
  return (usage.promptTokens * p.promptPer1k + usage.completionTokens * p.completionPer1k) / 1_000;
}
