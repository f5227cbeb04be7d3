import type { NotificationStreamQuery } from '@jobstream/contracts';
import type { ChannelEvent } from './channel-events.js';

/** Whether a stream delivers an event. */
export type StreamFilter = (event: ChannelEvent) => boolean;

/**
 * The stream's server-side filters: OR within one list, AND across lists. An event without the
 * attribute a filter names does not pass it (a notification has no job type); `unread_count`
 * always passes, as do `connected`, `heartbeat` and `reset`, which are never filtered.
 */
export function createStreamFilter(query: Partial<Pick<NotificationStreamQuery, 'types' | 'severity' | 'jobType'>>): StreamFilter {
  const types = query.types ? new Set<string>(query.types) : undefined;
  const severities = query.severity ? new Set<string>(query.severity) : undefined;
  const jobTypes = query.jobType ? new Set<string>(query.jobType) : undefined;
  if (!types && !severities && !jobTypes) return () => true;
  return (event) => {
    if (event.event === 'unread_count') return true;
    if (types && !types.has(event.event) && !(event.notificationType !== undefined && types.has(event.notificationType))) return false;
    if (severities && (event.severity === undefined || !severities.has(event.severity))) return false;
    if (jobTypes && (event.jobType === undefined || !jobTypes.has(event.jobType))) return false;
    return true;
  };
}
