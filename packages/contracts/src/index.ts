export * from './errors.js';
export * from './event-catalog.js';
export * from './job-events.js';
export * from './job-types/index.js';
export * from './jobs.js';
export * from './me.js';
export * from './notifications.js';
export * from './operations.js';
