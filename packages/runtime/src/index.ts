export * from './config.js';
export * from './job-history.js';
export * from './keys.js';
export * from './logger.js';
export * from './redis.js';
export * from './shutdown.js';
export * from './stream-id.js';
