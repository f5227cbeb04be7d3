import { eventIdSchema, STREAM_FILTER_MAX_ITEMS, topicSchema } from '@jobstream/contracts';
import { SYSTEM_CHANNEL, topicChannelRef, userChannelRef, type ChannelRef } from '@jobstream/runtime';
import { ApiError } from '../http/api-error.js';

/**
 * The notification stream's SSE id: one position per channel, `u=<id>,s=<id>,t:<topic>=<id>`
 * (`u` the caller's own channel, `s` the system channel, `t:<topic>` a topic's). The user id is
 * left out: a cursor is only ever resumed by its own user, and ids in the header would leak it.
 */
export type CursorKey = 'u' | 's' | `t:${string}`;

/** Positions per channel key; each is the id of the last entry the client has (`0-0`: none yet). */
export type StreamCursor = Map<CursorKey, string>;

const MAX_CURSOR_LENGTH = 4_096;
const MAX_CURSOR_ENTRIES = 2 + STREAM_FILTER_MAX_ITEMS;

/** The cursor key of a channel of `userId`'s stream. */
export function cursorKeyOf(ref: ChannelRef): CursorKey {
  if (ref === SYSTEM_CHANNEL) return 's';
  return ref.startsWith('u:') ? 'u' : (ref as `t:${string}`);
}

/** The channel a cursor key names, on the stream of `userId`. */
export function channelOfKey(key: CursorKey, userId: string): ChannelRef {
  if (key === 'u') return userChannelRef(userId);
  if (key === 's') return SYSTEM_CHANNEL;
  return topicChannelRef(key.slice(2));
}

/** The topics a cursor names (its `t:<topic>` keys). */
export function topicsOfCursor(cursor: StreamCursor): string[] {
  return [...cursor.keys()].filter((key) => key.startsWith('t:')).map((key) => key.slice(2));
}

/** `u` first, then `s`, then topics by name: the same cursor always reads the same. */
function keyOrder(a: CursorKey, b: CursorKey): number {
  const rank = (k: CursorKey) => (k === 'u' ? 0 : k === 's' ? 1 : 2);
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

export function formatStreamCursor(cursor: StreamCursor): string {
  return [...cursor.keys()]
    .sort(keyOrder)
    .map((key) => `${key}=${cursor.get(key)}`)
    .join(',');
}

function invalid(source: string, message: string): ApiError {
  return new ApiError(400, 'INVALID_LAST_EVENT_ID', `Last-Event-ID ${message}`, [{ path: source, message }]);
}

function isCursorKey(key: string): key is CursorKey {
  return key === 'u' || key === 's' || (key.startsWith('t:') && topicSchema.safeParse(key.slice(2)).success);
}

/** Parses a cursor the stream gave out; a 400 INVALID_LAST_EVENT_ID naming `source` otherwise. */
export function parseStreamCursor(text: string, source: string): StreamCursor {
  if (text.length > MAX_CURSOR_LENGTH) throw invalid(source, `must be at most ${MAX_CURSOR_LENGTH} characters`);
  const cursor: StreamCursor = new Map();
  const parts = text.split(',');
  if (parts.length > MAX_CURSOR_ENTRIES) throw invalid(source, `must name at most ${MAX_CURSOR_ENTRIES} channels`);
  for (const part of parts) {
    const at = part.lastIndexOf('=');
    const key = part.slice(0, at);
    const id = part.slice(at + 1);
    if (at < 0 || !isCursorKey(key) || !eventIdSchema.safeParse(id).success) {
      throw invalid(source, 'must look like u=1700000000000-0,s=1700000000000-0,t:news=0-0 (as the stream sent it)');
    }
    if (cursor.has(key)) throw invalid(source, `names the channel "${key}" twice`);
    cursor.set(key, id);
  }
  return cursor;
}
