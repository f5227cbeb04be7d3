import type { JobstreamClient } from '@jobstream/client';
import { createContext, createElement, useContext, type ReactNode } from 'react';
import { storesOf, type ClientStores } from './client-stores.js';

const ClientContext = createContext<JobstreamClient | undefined>(undefined);

export interface JobstreamProviderProps {
  /** The client every hook below uses (`createClient(...)`); make it once, outside of render. */
  client: JobstreamClient;
  children?: ReactNode;
}

/** Gives the hooks below it their client. Hooks of one client share its streams, whichever provider they sit under. */
export function JobstreamProvider({ client, children }: JobstreamProviderProps) {
  // createElement rather than JSX: the package stays plain .ts, built and tested like the others.
  return createElement(ClientContext.Provider, { value: client }, children);
}

/** The client of the nearest JobstreamProvider, for the calls the hooks do not cover (`enqueue`, `cancelJob`...). */
export function useJobstreamClient(): JobstreamClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error('useJobstreamClient and the jobstream hooks need a <JobstreamProvider client={...}> above them');
  return client;
}

/** The shared stores of the provider's client. */
export function useClientStores(): ClientStores {
  return storesOf(useJobstreamClient());
}
