import type { ChannelEvent } from './channel-events';
import { createStreamFilter } from './stream-filter';

const job: ChannelEvent = { channel: 'u:a', id: '1-0', event: 'job.failed', data: {}, severity: 'high', jobType: 'demo.work' };
const chat: ChannelEvent = { channel: 'u:a', id: '2-0', event: 'notification', data: {}, severity: 'medium', notificationType: 'chat.message' };
const count: ChannelEvent = { channel: 'u:a', id: '3-0', event: 'unread_count', data: {} };

describe('the notification stream filters', () => {
  it('match a notification by its own type or by "notification"', () => {
    expect(createStreamFilter({ types: ['chat.message'] })(chat)).toBe(true);
    expect(createStreamFilter({ types: ['notification'] })(chat)).toBe(true);
    expect(createStreamFilter({ types: ['job.failed'] })(chat)).toBe(false);
  });

  it('are ORed within a list and ANDed across lists', () => {
    const filter = createStreamFilter({ types: ['job.failed', 'chat.message'], severity: ['high'] });
    expect([job, chat].map(filter)).toEqual([true, false]);
  });

  it('drop an event without the attribute a filter names, and always pass unread_count', () => {
    const byJobType = createStreamFilter({ jobType: ['demo.work'] });
    expect([job, chat, count].map(byJobType)).toEqual([true, false, true]);
  });
});
