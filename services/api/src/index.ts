export { startApiServer, type ApiServer } from './api-server.js';
export { loadConfig, type ApiConfig } from './config.js';
