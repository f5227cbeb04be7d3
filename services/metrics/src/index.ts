export { loadConfig, type MetricsConfig } from './config.js';
export { startMetricsService, type MetricsService } from './metrics-service.js';
