/**
 * Each Lambda function's environment, per region: the ONE place that says what the deployed functions get, read
 * by the components (regionalApi.ts, appState.ts, notifier.ts) and by the local emulator (local/), so the two can
 * never drift. The variables themselves are documented in handlers/lib/env.ts (the handlers' side of the contract).
 * Generic over the value type: Pulumi passes Inputs, the emulator plain strings. No imports of @pulumi/*, so the
 * emulator loads it without the Pulumi SDK.
 */
import type { HandlerName } from './bundle';

export interface LambdaEnvArgs<T> {
  itemsTable: T;
  appConfigTable: T;
  primaryRegion: string;
  writeMode: string;
  /** the region's AppSync GraphQL URL (the notifier publishes there) */
  graphqlUrl: T;
  /** this region is drained: its health answers 503 */
  drain?: boolean;
  /** the stack's regions, config order: the state updater's designated regions and read-back (handlers/lib/stateRules.ts) */
  stateRegions?: readonly string[];
  /** the state updater's minimum time in fenced before active; absent = its default (60 s) */
  minFencedSeconds?: number;
}

export type LambdaEnvironments<T> = Record<HandlerName, Record<string, T | string>>;

export function lambdaEnvironments<T>(a: LambdaEnvArgs<T>): LambdaEnvironments<T> {
  return {
    items: { ITEMS_TABLE: a.itemsTable, APP_CONFIG_TABLE: a.appConfigTable, PRIMARY_REGION: a.primaryRegion, WRITE_MODE: a.writeMode },
    // reads only the app-state item (and drain flag) of the local app-config replica: no items table access
    health: { APP_CONFIG_TABLE: a.appConfigTable, PRIMARY_REGION: a.primaryRegion, DRAIN: a.drain ? 'true' : 'false' },
    state: { APP_CONFIG_TABLE: a.appConfigTable, PRIMARY_REGION: a.primaryRegion, WRITE_MODE: a.writeMode },
    stateUpdater: {
      APP_CONFIG_TABLE: a.appConfigTable,
      PRIMARY_REGION: a.primaryRegion,
      WRITE_MODE: a.writeMode,
      ...(a.stateRegions ? { STATE_REGIONS: a.stateRegions.join(',') } : {}),
      ...(a.minFencedSeconds !== undefined ? { STATE_MIN_FENCED_SECONDS: `${a.minFencedSeconds}` } : {}),
    },
    notifier: { APPSYNC_URL: a.graphqlUrl },
  };
}
