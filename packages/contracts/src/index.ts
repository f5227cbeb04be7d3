export * from './errors.js';
export * from './job-events.js';
export * from './job-types/index.js';
export * from './jobs.js';
export * from './operations.js';
