import { optionalVar } from '@jobstream/runtime';
import { isAbsolute } from 'node:path';
import { z } from 'zod';

/** The api's variable for the dashboard it serves at `/` (part of the api's env schema in config.ts). */
export const dashboardEnvShape = {
  /**
   * Where the built dashboard is (the folder with index.html and assets/). Default: found from the
   * api's own location, `<repo>/packages/dashboard/dist` (see findDashboardDir in dashboard.ts).
   */
  DASHBOARD_DIR: optionalVar(z.string().refine(isAbsolute, 'must be an absolute path to the built dashboard (the folder with index.html)')),
};

export type DashboardEnv = z.output<z.ZodObject<typeof dashboardEnvShape>>;

export interface DashboardConfig {
  /** The built dashboard's folder; undefined: found from the api's location. */
  dir: string | undefined;
}

export function dashboardConfigFrom(env: DashboardEnv): DashboardConfig {
  return { dir: env.DASHBOARD_DIR };
}
