import type { PushPayload } from '@jobstream/contracts';
import type { StoredPushSubscription } from '@jobstream/runtime';
import { postPush, type PushRequestOptions, type PushResponse } from './push-request.js';

/** What became of one delivery attempt that did not throw. */
export type DeliveryOutcome = 'sent' | 'gone';

/** A delivery that may succeed later (5xx, 429, a network error): the push queue tries it again with backoff. */
export class RetryablePushError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'RetryablePushError';
  }
}

/** A delivery that will never succeed as it is (a 4xx other than 404, 410 and 429): not tried again. */
export class RejectedPushError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'RejectedPushError';
  }
}

/** One request to a push service, as it goes on the wire. */
export interface PushRequest {
  url: string;
  headers: Record<string, string | number>;
  body: Buffer | string;
}

/**
 * Delivers to one kind of device; Web Push, Expo and FCM have the same interface. Encoding and
 * sending are apart so that the sender can weigh each device's request (PUSH_MAX_PAYLOAD_BYTES)
 * before anything goes out.
 */
export interface PushTransport {
  /** The request that carries `payload` to this device. */
  encode(subscription: StoredPushSubscription, payload: PushPayload): PushRequest;
  /** Sends it: resolves `sent` or `gone`, throws RetryablePushError or RejectedPushError. */
  send(request: PushRequest): Promise<DeliveryOutcome>;
}

/** The outcome of an answer every push service gives alike: 2xx sent, 404/410 gone, 429/5xx later, else rejected. */
export function outcomeOf(res: PushResponse, service: string): DeliveryOutcome {
  if (res.status >= 200 && res.status < 300) return 'sent';
  if (res.status === 404 || res.status === 410) return 'gone';
  const detail = `${service} answered ${res.status}${res.body ? `: ${res.body.slice(0, 200)}` : ''}`;
  if (res.status === 429 || res.status >= 500) throw new RetryablePushError(detail, res.status);
  throw new RejectedPushError(detail, res.status);
}

/** POSTs a request; network failures are worth another try, a refused address (EPUSHADDRESS) is not. */
export async function posting(request: PushRequest, options: PushRequestOptions): Promise<PushResponse> {
  try {
    return await postPush(request.url, request.headers, request.body, options);
  } catch (err) {
    if ((err as { code?: string }).code === 'EPUSHADDRESS') throw new RejectedPushError((err as Error).message, 0);
    throw new RetryablePushError(`push service unreachable: ${(err as Error).message}`);
  }
}

/** The message's kind, said the way each service says "deliver now, wake the device". */
export const isUrgent = (payload: PushPayload): boolean => payload.kind === 'job.failed';
