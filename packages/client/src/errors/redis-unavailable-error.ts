import type { ApiErrorInit } from './api-error.js';
import { ServiceUnavailableError } from './service-unavailable-error.js';

/** 503 `REDIS_UNAVAILABLE`: the job store is unreachable; retry after `retryAfterMs`. */
export class RedisUnavailableError extends ServiceUnavailableError {
  constructor(init: ApiErrorInit) {
    super(init);
    this.name = 'RedisUnavailableError';
  }
}
