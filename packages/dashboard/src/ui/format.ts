/** "850 ms", "2.4 s", "1 min 05 s", "2 h 03 min": the SDK's one rule, as the CLI shows them too. */
export { formatDuration } from '@jobstream/client';

/** Local clock time of an ISO timestamp ("14:03:27"), or the input when it does not parse. */
export function formatClock(iso: string | undefined): string {
  if (iso === undefined) return '–';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** Date and time for things that may be days old (audit entries, inbox items). */
export function formatDateTime(iso: string | undefined | null): string {
  if (iso === undefined || iso === null) return '–';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const sameDay = date.toDateString() === new Date().toDateString();
  return sameDay
    ? date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : date.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** Money as the CLI shows it too ("$12.40", "$0.0042"): one rule, in the SDK. */
export { formatUsd } from '@jobstream/client';

/** A short id for display: the first 8 characters of a UUID. */
export function shortId(id: string): string {
  return id.length > 12 ? id.slice(0, 8) : id;
}

/** JSON for a <pre>, bounded so one huge result cannot freeze the page. */
export function prettyJson(value: unknown, maxChars = 4_000): string {
  let text: string;
  try {
    text = JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > maxChars ? `${text.slice(0, maxChars)}\n… (${text.length - maxChars} more characters)` : text;
}

/** Milliseconds between two ISO timestamps, or undefined when either is missing or bad. */
export function msBetween(from: string | undefined, to: string | undefined | number): number | undefined {
  if (from === undefined || to === undefined) return undefined;
  const start = Date.parse(from);
  const end = typeof to === 'number' ? to : Date.parse(to);
  return Number.isNaN(start) || Number.isNaN(end) ? undefined : Math.max(0, end - start);
}
