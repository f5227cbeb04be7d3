import type { RequestHandler } from 'express';
import { ApiError } from './api-error.js';

/**
 * How deeply arrays and objects may nest in a request body. JSON.parse copes with any depth, but
 * what runs after it recurses (JSON.stringify for the request hash, BullMQ, the worker, a
 * notification's `data`): a 20 kB body nested 10,000 deep overflowed the stack there (a 500).
 * 64 leaves real payloads plenty of room.
 */
export const MAX_JSON_DEPTH = 64;

/** Nesting depth of `value` (a scalar is 0, `[]` is 1), without recursion; stops counting past `limit`. */
export function jsonDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const pending: [unknown, number][] = [[value, 0]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [item, depth] = next;
    if (item === null || typeof item !== 'object') continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > limit) return deepest;
    for (const child of Object.values(item)) pending.push([child, depth + 1]);
  }
  return deepest;
}

/** After the JSON body parser: refuses a body nested deeper than `maxDepth` with 400 VALIDATION_FAILED. */
export function limitJsonDepth(maxDepth = MAX_JSON_DEPTH): RequestHandler {
  return (req, _res, next) => {
    if (jsonDepth(req.body, maxDepth) > maxDepth) {
      const message = `nested deeper than ${maxDepth} levels`;
      next(new ApiError(400, 'VALIDATION_FAILED', `Request validation failed ((body): ${message})`, [{ path: '(body)', message }]));
      return;
    }
    next();
  };
}
