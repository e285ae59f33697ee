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
  /**
   * `auth.mode: token` settings for the authorizer function (handlers/lib/authEnv.ts names the variables). The
   * caller passes `secret` as a secret (pulumi.secret in the components). Absent: the authorizer gets no key
   * source and refuses every token (it is deployed only in token mode).
   */
  auth?: { issuer: string; audience: string; ttlSeconds: number; secret?: T | string; jwksUrl?: string; publicKey?: string };
}

export type LambdaEnvironments<T> = Record<HandlerName, Record<string, T | string>>;

export function lambdaEnvironments<T>(a: LambdaEnvArgs<T>): LambdaEnvironments<T> {
  return {
    items: { ITEMS_TABLE: a.itemsTable, APP_CONFIG_TABLE: a.appConfigTable, PRIMARY_REGION: a.primaryRegion, WRITE_MODE: a.writeMode },
    // reads only the app-state item (and drain flag) of the local app-config replica: no items table access
    health: { APP_CONFIG_TABLE: a.appConfigTable, PRIMARY_REGION: a.primaryRegion, DRAIN: a.drain ? 'true' : 'false' },
    state: { APP_CONFIG_TABLE: a.appConfigTable, PRIMARY_REGION: a.primaryRegion, WRITE_MODE: a.writeMode },
    stateUpdater: { APP_CONFIG_TABLE: a.appConfigTable, PRIMARY_REGION: a.primaryRegion, WRITE_MODE: a.writeMode },
    notifier: { APPSYNC_URL: a.graphqlUrl },
    authorizer: {
      AUTH_ISSUER: a.auth?.issuer ?? '',
      AUTH_AUDIENCE: a.auth?.audience ?? '',
      AUTH_CACHE_TTL: String(a.auth?.ttlSeconds ?? 300),
      ...(a.auth?.secret !== undefined ? { AUTH_SECRET: a.auth.secret } : {}),
      ...(a.auth?.jwksUrl ? { AUTH_JWKS_URL: a.auth.jwksUrl } : {}),
      ...(a.auth?.publicKey ? { AUTH_PUBLIC_KEY: a.auth.publicKey } : {}),
    },
  };
}
