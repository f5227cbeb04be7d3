import type { NotificationSettings, QueueSettings } from '../config.js';
import type { ChannelLimits } from './channel-append.js';

/** Every bound the notification writers apply, from the service's configuration. */
export interface NotificationLimits extends ChannelLimits {
  /** Most items one inbox holds. */
  inboxMaxItems: number;
}

export function notificationLimitsFrom(
  settings: NotificationSettings,
  queue: Pick<QueueSettings, 'feedMaxLen'>,
): NotificationLimits {
  return {
    streamMaxLen: settings.streamMaxLen,
    retentionMs: settings.retentionSeconds * 1_000,
    feedMaxLen: queue.feedMaxLen,
    inboxMaxItems: settings.inboxMaxItems,
  };
}
