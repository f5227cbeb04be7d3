export { loadConfig, type WorkerConfig } from './config.js';
export { startWorkerService, type WorkerService, type WorkerServiceOptions } from './worker-service.js';
export { defineJobHandler, type JobContext, type JobHandler } from './jobs/job-handler.js';
export type { JobCatalog } from './jobs/index.js';
