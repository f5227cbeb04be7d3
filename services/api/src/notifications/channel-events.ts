import {
  defaultSeverity,
  jobNotificationSchemas,
  notificationStreamSchemas,
  parseLifecycleEvent,
  systemEventSchemas,
  type JobNotificationName,
  type NotificationStreamEventName,
  type Severity,
  type SystemEventData,
  type SystemEventName,
  type SystemNotificationName,
} from '@jobstream/contracts';
import { channelEntryFields, SYSTEM_CHANNEL, type ChannelRef, type Logger, type StreamEntry } from '@jobstream/runtime';
import { formatSse } from '../sse/sse-format.js';

/** One entry of a channel, decoded and checked against its contract, as every stream of the channel gets it. */
export interface ChannelEvent {
  channel: ChannelRef;
  /** The entry's id in its channel. */
  id: string;
  event: Exclude<NotificationStreamEventName, 'connected' | 'heartbeat' | 'reset'>;
  data: Record<string, unknown>;
  /** What the stream filters look at; an event without one does not pass a filter on it. */
  severity?: Severity;
  jobType?: string;
  /** A notification's own type (`chat.message`), which `types=` also matches. */
  notificationType?: string;
  /** For a traced job's outcome, the relay's span (a W3C traceparent) its deliveries are children of. */
  relayTrace?: string;
}

const bodies = new WeakMap<ChannelEvent, string>();

/**
 * The `event:` and `data:` lines of an event, made once however many streams it goes to; the
 * `id:` line differs per stream (it is the stream's whole cursor).
 */
export function eventBody(event: ChannelEvent): string {
  let body = bodies.get(event);
  if (body === undefined) {
    body = formatSse({ event: event.event, data: event.data });
    bodies.set(event, body);
  }
  return body;
}

/** The system stream stores the publishers' names; the notification stream uses the catalog's. */
const SYSTEM_NAMES: Record<SystemEventName, SystemNotificationName> = {
  alert_started: 'system.alert',
  alert_resolved: 'system.alert',
  kill_switch_changed: 'system.kill_switch',
  budget_warning: 'system.budget',
  circuit_breaker_state: 'system.circuit_breaker',
};

/** Severity of one system event: the catalog's default, lowered when it reports a recovery. */
function systemSeverity(name: SystemEventName, data: SystemEventData): Severity {
  switch (name) {
    case 'alert_started':
      return (data as SystemEventData<'alert_started'>).alert === 'queueDepthCritical' ? 'critical' : 'high';
    case 'alert_resolved':
      return 'low';
    case 'kill_switch_changed':
      return (data as SystemEventData<'kill_switch_changed'>).enabled ? 'critical' : 'medium';
    case 'circuit_breaker_state': {
      const to = (data as SystemEventData<'circuit_breaker_state'>).to;
      return to === 'open' ? 'high' : to === 'half_open' ? 'medium' : 'low';
    }
    case 'budget_warning':
      return defaultSeverity('system.budget');
  }
}

function decodeSystemEntry(id: string, name: string, data: unknown): ChannelEvent {
  if (!Object.prototype.hasOwnProperty.call(systemEventSchemas, name)) throw new Error(`unknown system event "${name}"`);
  const stored = name as SystemEventName;
  const parsed = systemEventSchemas[stored].parse(data);
  const severity = systemSeverity(stored, parsed);
  const event = SYSTEM_NAMES[stored];
  const status = stored === 'alert_started' ? { status: 'started' } : stored === 'alert_resolved' ? { status: 'resolved' } : {};
  return { channel: SYSTEM_CHANNEL, id, event, data: notificationStreamSchemas[event].parse({ ...parsed, ...status, severity }), severity };
}

function decodeUserOrTopicEntry(
  channel: ChannelRef,
  id: string,
  name: string,
  data: unknown,
  jobType: string | undefined,
  relayTrace: string | undefined,
): ChannelEvent {
  if (name === 'notification') {
    const notification = notificationStreamSchemas.notification.parse(data);
    return { channel, id, event: 'notification', data: notification, severity: notification.severity, notificationType: notification.type };
  }
  if (name === 'unread_count') {
    return { channel, id, event: 'unread_count', data: notificationStreamSchemas.unread_count.parse(data) };
  }
  if (!Object.prototype.hasOwnProperty.call(jobNotificationSchemas, name)) throw new Error(`unknown channel event "${name}"`);
  const event = name as JobNotificationName;
  const lifecycle = parseLifecycleEvent(id, event.slice('job.'.length), data);
  // A failure that will be retried asks for less attention than the final one.
  const severity: Severity = lifecycle.event === 'failed' && lifecycle.data.willRetry ? 'medium' : defaultSeverity(event);
  const type = jobType ?? '';
  return { channel, id, event, data: { ...lifecycle.data, jobType: type, severity }, severity, jobType: type, ...(relayTrace ? { relayTrace } : {}) };
}

/**
 * Decodes the entries of one channel, oldest first. An entry that does not fit its contract is
 * logged and skipped: one bad entry must not stop a user's stream.
 */
export function decodeChannelEntries(channel: ChannelRef, rows: StreamEntry[], logger: Logger): ChannelEvent[] {
  const events: ChannelEvent[] = [];
  for (const [id, fields] of rows) {
    const entry = channelEntryFields(fields);
    try {
      const data: unknown = JSON.parse(entry.data ?? 'null');
      const name = entry.event ?? '';
      events.push(channel === SYSTEM_CHANNEL ? decodeSystemEntry(id, name, data) : decodeUserOrTopicEntry(channel, id, name, data, entry.jobType, entry.trace));
    } catch (err) {
      logger.error({ err, channel, id }, 'skipping an undecodable channel entry');
    }
  }
  return events;
}
