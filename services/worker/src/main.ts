import { runService } from '@jobstream/runtime';
import { loadConfig } from './config.js';
import { startWorkerService } from './worker-service.js';

runService({ service: 'worker', loadConfig, start: startWorkerService, shutdownGraceMs: 10_000 });
