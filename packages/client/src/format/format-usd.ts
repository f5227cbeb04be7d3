/**
 * An amount in US dollars the one way jobstream shows money, in the CLI and the dashboard alike:
 * cents ("$12.40"), and for a non-zero amount under a cent its two significant digits
 * ("$0.000092"), so a small spend never reads as nothing.
 */
export function formatUsd(amount: number): string {
  return `$${amount !== 0 && Math.abs(amount) < 0.01 ? amount.toPrecision(2) : amount.toFixed(2)}`;
}
