import { runService } from '@jobstream/runtime';
import { loadConfig } from './config.js';
import { startMetricsService } from './metrics-service.js';

runService({ service: 'metrics', loadConfig, start: startMetricsService, shutdownGraceMs: 5_000 });
