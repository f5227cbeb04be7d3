import type { AuthMode as KnownAuthMode, MeResponse as ContractMeResponse, Role } from '../contract-types.js';
import { isRecord, str, type ShapeCheck } from './shape-checks.js';

/** A role the api knows (`admin` sees every job and runs operations; `service` publishes notifications), or one a newer api adds. */
export type ApiRole = Role | (string & {});

/** How the api authenticates (`jwt`, `gateway`, `none`), or a mode a newer api adds. */
export type AuthMode = KnownAuthMode | (string & {});

/** `GET /api/me`: who the api takes the caller for (the contract's shape, open to roles and modes a newer api adds). */
export type MeResponse = Omit<ContractMeResponse, 'roles' | 'authMode'> & {
  /** Sorted; empty for a plain user. */
  roles: ApiRole[];
  authMode: AuthMode;
};

export const isMeResponse: ShapeCheck<MeResponse> = (v): v is MeResponse =>
  isRecord(v) &&
  str(v, 'userId') &&
  Array.isArray(v.roles) &&
  v.roles.every((r) => typeof r === 'string') &&
  str(v, 'authMode') &&
  Array.isArray(v.topics) &&
  v.topics.every((t) => typeof t === 'string');
