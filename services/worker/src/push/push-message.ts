import type { PushPayload } from '@jobstream/contracts';
import { channelEntryFields, type StreamEntry } from '@jobstream/runtime';
import { z } from 'zod';

/*
 * What goes to a device: the final outcome of one of the user's jobs and each notification
 * addressed to them, nothing else (progress, retries and topic messages stay on the streams).
 * The payload is small on purpose: a push message carries at most 4 KB once encrypted, and a
 * device that wants more fetches it with the user's token.
 */

const BODY_MAX = 400;
const TITLE_MAX = 120;
/**
 * The most JSON bytes a payload may have: aes128gcm adds 103 bytes (header, padding delimiter, tag)
 * to what must fit in 4,096, and this leaves room. Characters that JSON escapes (control
 * characters become six bytes each) can make a clipped text several times its length.
 */
export const PAYLOAD_MAX_BYTES = 3_072;

const jobOutcomeSchema = z.object({ jobId: z.string(), jobType: z.string().optional(), willRetry: z.boolean().optional(), error: z.string().optional() });
const notificationSchema = z.object({ id: z.string(), title: z.string(), message: z.string() });

/** Cuts a text to `max` characters, whole code points, with an ellipsis when it was longer. */
function clip(text: string, max: number): string {
  const points = [...text];
  if (points.length <= max) return text;
  return max <= 1 ? '' : `${points.slice(0, max - 1).join('')}…`;
}

/** The payload, its body (then its title) shortened until its JSON fits PAYLOAD_MAX_BYTES. */
function fitted(payload: PushPayload): PushPayload {
  let fit = payload;
  const size = (p: PushPayload): number => Buffer.byteLength(JSON.stringify(p));
  while (size(fit) > PAYLOAD_MAX_BYTES && fit.body.length > 0) fit = { ...fit, body: clip(fit.body, Math.floor([...fit.body].length / 2)) };
  while (size(fit) > PAYLOAD_MAX_BYTES && fit.title.length > 1) fit = { ...fit, title: clip(fit.title, Math.floor([...fit.title].length / 2)) };
  return fit;
}

/** The link a device opens: a path on the dashboard, under DASHBOARD_BASE_URL when set. */
function link(baseUrl: string | undefined, query: string): string {
  return `${baseUrl?.replace(/\/+$/, '') ?? ''}/?${query}`;
}

/**
 * The push for one entry of a user's channel, or undefined when the entry is not one that is
 * pushed (or does not decode: one bad entry must not stop delivery).
 */
export function pushMessageOf([, fields]: StreamEntry, baseUrl?: string): PushPayload | undefined {
  const entry = channelEntryFields(fields);
  let data: unknown;
  try {
    data = JSON.parse(entry.data ?? 'null');
  } catch {
    return undefined;
  }
  if (entry.event === 'job.completed' || entry.event === 'job.failed') {
    const parsed = jobOutcomeSchema.safeParse(data);
    if (!parsed.success) return undefined;
    const { jobId, willRetry, error } = parsed.data;
    if (entry.event === 'job.failed' && willRetry !== false) return undefined;
    const type = entry.jobType ?? parsed.data.jobType ?? 'job';
    const completed = entry.event === 'job.completed';
    return fitted({
      kind: entry.event,
      title: clip(completed ? `${type} finished` : `${type} failed`, TITLE_MAX),
      body: clip(completed ? 'Your job is done. Open it to see the result.' : (error ?? 'Your job failed.'), BODY_MAX),
      url: link(baseUrl, `job=${encodeURIComponent(jobId)}`),
      jobId,
      tag: `job-${jobId}`.slice(0, 128),
    });
  }
  if (entry.event === 'notification') {
    const parsed = notificationSchema.safeParse(data);
    if (!parsed.success) return undefined;
    return fitted({
      kind: 'notification',
      title: clip(parsed.data.title, TITLE_MAX),
      body: clip(parsed.data.message, BODY_MAX),
      url: link(baseUrl, `notification=${encodeURIComponent(parsed.data.id)}`),
      tag: `notification-${parsed.data.id}`.slice(0, 128),
    });
  }
  return undefined;
}

/** Whether a feed entry's inline event (`e`) rules a push out without reading the channel entry. */
export function mayBePushed(inlineEvent: string | undefined): boolean {
  return inlineEvent === undefined || inlineEvent === 'completed' || inlineEvent === 'failed';
}
