export { loadConfig, type WorkerConfig } from './config.js';
export { startWorkerService, type WorkerService } from './worker-service.js';
