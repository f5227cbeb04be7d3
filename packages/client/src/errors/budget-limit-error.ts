import { JobstreamApiError, type ApiErrorInit } from './api-error.js';

/** 429 `BUDGET_LIMIT_EXCEEDED`: the kill-switch is on and new jobs are refused; `retryAfterMs` says when to ask again. */
export class BudgetLimitError extends JobstreamApiError {
  constructor(init: ApiErrorInit) {
    super(init);
    this.name = 'BudgetLimitError';
  }
}
