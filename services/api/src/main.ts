import { runService } from '@jobstream/runtime';
import { startApiServer } from './api-server.js';
import { loadConfig } from './config.js';

runService({ service: 'api', loadConfig, start: startApiServer, shutdownGraceMs: 5_000 });
