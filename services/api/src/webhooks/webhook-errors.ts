import { ApiError } from '../http/api-error.js';

/** 404 WEBHOOK_NOT_FOUND: no endpoint of the caller's has this id (another user's id is not told apart). */
export function webhookNotFound(id: string): ApiError {
  return new ApiError(404, 'WEBHOOK_NOT_FOUND', `No webhook endpoint with id "${id.slice(0, 64)}"`);
}

/** 404 WEBHOOK_DELIVERY_NOT_FOUND: the endpoint's log has no such delivery (or no longer: it is capped and expires). */
export function deliveryNotFound(id: string): ApiError {
  return new ApiError(404, 'WEBHOOK_DELIVERY_NOT_FOUND', `No delivery with id "${id.slice(0, 80)}" in this endpoint's log`);
}

/** 400 WEBHOOK_TARGET_REFUSED: jobstream will not call this URL (scheme, credentials, or an address it may not reach). */
export function targetRefused(reason: string, path = 'url'): ApiError {
  return new ApiError(400, 'WEBHOOK_TARGET_REFUSED', `Webhook target refused: ${reason}`, [{ path, message: reason }]);
}

/** 429 WEBHOOK_QUOTA_EXCEEDED: the caller has as many endpoints, or pending deliveries, as one user may. */
export function webhookQuotaExceeded(what: string): ApiError {
  return new ApiError(429, 'WEBHOOK_QUOTA_EXCEEDED', what, undefined, { 'Retry-After': '60' });
}
