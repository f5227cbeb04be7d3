import { notificationIdSchema } from '@jobstream/contracts';
import { newNotificationId, notificationIdBound, notificationIdTime } from './notification-id';

describe('notification ids', () => {
  it('sort by creation time as plain strings, also within one millisecond', () => {
    const now = Date.UTC(2025, 0, 1);
    const ids = [newNotificationId(now - 1), ...Array.from({ length: 50 }, () => newNotificationId(now)), newNotificationId(now + 1)];
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(notificationIdSchema.safeParse(id).success).toBe(true);
  });

  it('compare with the bound of a time the way the retention needs', () => {
    const now = Date.UTC(2030, 5, 1, 12);
    const id = newNotificationId(now);
    expect(notificationIdTime(id)).toBe(now);
    expect(id >= notificationIdBound(now)).toBe(true);
    expect(id < notificationIdBound(now + 1)).toBe(true);
  });
});
