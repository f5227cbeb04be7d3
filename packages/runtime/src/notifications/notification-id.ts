import { randomBytes } from 'node:crypto';

/** Width of the time part: base-36 milliseconds fit in 9 digits until the year 5188. */
const TIME_DIGITS = 9;

let lastMs = -1;
let sequence = 0;

/** The lexicographic bound of ids made at `ms`: every id made at or after `ms` sorts at or after it. */
export function notificationIdBound(ms: number): string {
  return Math.max(0, Math.floor(ms)).toString(36).padStart(TIME_DIGITS, '0');
}

/**
 * A new notification id: creation time first, so ids sort by time as plain strings (the inbox
 * pages and expires by lexicographic range); then a sequence within the millisecond, so ids one
 * process makes in the same millisecond keep their order; then 48 random bits, so ids cannot be
 * guessed and two replicas never make the same one.
 */
export function newNotificationId(now: number = Date.now()): string {
  const ms = Math.floor(now);
  sequence = ms === lastMs ? (sequence + 1) & 0xffff : 0;
  lastMs = ms;
  return notificationIdBound(ms) + sequence.toString(16).padStart(4, '0') + randomBytes(6).toString('hex');
}

/** When a notification id was made (ms since 1970). */
export function notificationIdTime(id: string): number {
  return parseInt(id.slice(0, TIME_DIGITS), 36);
}
