import type { NotificationItem } from '@jobstream/client';
import type { LifecycleEventName, Notification, NotificationStreamData } from '@jobstream/contracts';

/**
 * The notification stream's messages, narrowed from the SDK's `{ event, id, data: unknown }` by
 * small structural checks (the contract types are used at compile time only: zod at runtime would
 * be most of the bundle). The api builds every message from the contracts' schemas; these checks
 * are what the page relies on, nothing more.
 */
export type StreamMessage =
  | { kind: 'connected'; data: NotificationStreamData<'connected'> }
  | { kind: 'job'; event: LifecycleEventName; id: string | undefined; data: JobMessageData }
  | { kind: 'notification'; data: Notification }
  | { kind: 'unread_count'; count: number }
  | { kind: 'reset'; channel: string }
  | { kind: 'system'; event: string; data: Record<string, unknown> }
  | { kind: 'other'; event: string };

/** A `job.<event>` message's data: the lifecycle data plus the job's type and a severity. */
export interface JobMessageData {
  jobId: string;
  timestamp: string;
  jobType: string;
  progress?: number | Record<string, unknown>;
  result?: unknown;
  duration?: number | null;
  error?: string;
  attemptsMade?: number;
  willRetry?: boolean;
  delayedUntil?: string;
  /** `cancelled`: who cancelled the job. */
  by?: 'owner' | 'admin';
}

const LIFECYCLE: ReadonlySet<string> = new Set<LifecycleEventName>(['waiting', 'delayed', 'active', 'progress', 'stalled', 'completed', 'failed', 'cancelled']);

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function isNotification(value: Record<string, unknown>): boolean {
  return typeof value.id === 'string' && typeof value.title === 'string' && typeof value.message === 'string' && typeof value.createdAt === 'string';
}

/** Narrows one stream item; anything unexpected becomes `other` and is ignored by the page. */
export function parseStreamItem(item: NotificationItem): StreamMessage {
  const data = record(item.data);
  if (!data) return { kind: 'other', event: item.event };
  if (item.event === 'connected' && typeof data.unreadCount === 'number' && typeof data.userId === 'string') {
    return { kind: 'connected', data: data as NotificationStreamData<'connected'> };
  }
  if (item.event.startsWith('job.')) {
    const name = item.event.slice(4);
    if (LIFECYCLE.has(name) && typeof data.jobId === 'string' && typeof data.timestamp === 'string') {
      return {
        kind: 'job',
        event: name as LifecycleEventName,
        id: item.id,
        data: { ...(data as unknown as JobMessageData), jobType: typeof data.jobType === 'string' ? data.jobType : 'job' },
      };
    }
    return { kind: 'other', event: item.event };
  }
  if (item.event === 'notification' && isNotification(data)) return { kind: 'notification', data: data as unknown as Notification };
  if (item.event === 'unread_count' && typeof data.count === 'number') return { kind: 'unread_count', count: data.count };
  if (item.event === 'reset') return { kind: 'reset', channel: typeof data.channel === 'string' ? data.channel : '' };
  if (item.event.startsWith('system.')) return { kind: 'system', event: item.event, data };
  return { kind: 'other', event: item.event };
}
