/**
 * Each Lambda function's environment, per region: the ONE place that says what the deployed functions get, read
 * by the components (regionalApi.ts, appState.ts, notifier.ts) and by the local emulator (local/), so the two can
 * never drift. The variables themselves are documented in handlers/lib/env.ts (the handlers' side of the contract).
 * Generic over the value type: Pulumi passes Inputs, the emulator plain strings. No imports of @pulumi/*, so the
 * emulator loads it without the Pulumi SDK.
 */
import { APPSYNC_REQUEST_LIMIT_MS, DEFAULT_STATE_CACHE_MS, writeBoundMs } from '../schema/rules';
import type { HandlerName } from './bundle';
import type { AuthConfig } from '../config/auth';
import { authorizerEnv } from './authorizerEnv';
import { FIS_EXEC_WRAPPER } from '../config/drills';

/** The items function's timeout in seconds (components/restApi.ts deploys it): part of the write bound. */
export const ITEMS_TIMEOUT_S = 10;

export interface LambdaEnvArgs<T> {
  itemsTable: T;
  appConfigTable: T;
  primaryRegion: string;
  writeMode: string;
  /** the region's AppSync GraphQL URL (the notifier publishes there) */
  graphqlUrl: T;
  /** this region is drained: its health answers 503 */
  drain?: boolean;
  /** `consistency` (eventual | strong): every function gets CONSISTENCY (default eventual) */
  consistency?: string;
  /** drills on: the notifier's AWS FIS Lambda extension reads its fault config here (s3 ARN of the folder) */
  fisConfigLocation?: T;
  /**
   * token and oidc modes: the project's authorizer function's settings (components/authorizerEnv.ts says which
   * variable comes from which key). Absent: the authorizer gets no key source and refuses every token.
   */
  auth?: Extract<AuthConfig, { mode: 'token' | 'oidc' }>;
  /** wraps the HMAC secret (Pulumi: pulumi.secret, so it stays a secret in state and previews; the emulator: as is) */
  secret?: (value: string) => T;
  /** the notifier's DLQ (an SQS queue URL; file:// in the emulator): where it writes records that can never be published */
  notifierDlqUrl?: T;
  /** the notifier's parallel publishes per invocation (config notifier.publishConcurrency) */
  notifierConcurrency?: number;
  /** the stack's regions, config order: the state updater's designated regions and read-back (handlers/lib/stateRules.ts) */
  stateRegions?: readonly string[];
  /** the state updater's minimum time in fenced before active; absent = its default (60 s) */
  minFencedSeconds?: number;
  /** config `stateCacheMs`: how long an items container reuses its app state read; absent = 1000 */
  stateCacheMs?: number;
  /**
   * The request limits the write bound is made of, when they are not AWS's: the local emulator scales them down
   * (local/writeBound.ts) and enforces them. Absent: the items function's deployed timeout (ITEMS_TIMEOUT_S) and
   * AppSync's 30 s request limit.
   */
  requestLimits?: { itemsTimeoutMs: number; graphqlRequestLimitMs: number };
}

export type LambdaEnvironments<T> = Record<HandlerName, Record<string, T | string>>;

export function lambdaEnvironments<T>(a: LambdaEnvArgs<T>): LambdaEnvironments<T> {
  const stateCacheMs = a.stateCacheMs ?? DEFAULT_STATE_CACHE_MS;
  const envs: LambdaEnvironments<T> = {
    items: { ITEMS_TABLE: a.itemsTable, APP_CONFIG_TABLE: a.appConfigTable, PRIMARY_REGION: a.primaryRegion, WRITE_MODE: a.writeMode, STATE_CACHE_MS: `${stateCacheMs}` },
    // reads only the app-state item (and drain flag) of the local app-config replica: no items table access
    health: { APP_CONFIG_TABLE: a.appConfigTable, PRIMARY_REGION: a.primaryRegion, DRAIN: a.drain ? 'true' : 'false' },
    state: { APP_CONFIG_TABLE: a.appConfigTable, PRIMARY_REGION: a.primaryRegion, WRITE_MODE: a.writeMode },
    stateUpdater: {
      APP_CONFIG_TABLE: a.appConfigTable,
      PRIMARY_REGION: a.primaryRegion,
      WRITE_MODE: a.writeMode,
      ...(a.stateRegions ? { STATE_REGIONS: a.stateRegions.join(',') } : {}),
      ...(a.minFencedSeconds !== undefined ? { STATE_MIN_FENCED_SECONDS: `${a.minFencedSeconds}` } : {}),
      // the fenced dwell and a failover's writesFromMs wait out the write bound (handlers/lib/stateRules.ts)
      STATE_WRITE_BOUND_MS: `${writeBoundMs(stateCacheMs, a.requestLimits?.itemsTimeoutMs ?? ITEMS_TIMEOUT_S * 1000, a.requestLimits?.graphqlRequestLimitMs ?? APPSYNC_REQUEST_LIMIT_MS)}`,
    },
    notifier: {
      APPSYNC_URL: a.graphqlUrl,
      ...(a.notifierDlqUrl !== undefined ? { NOTIFIER_DLQ_URL: a.notifierDlqUrl } : {}),
      ...(a.notifierConcurrency !== undefined ? { NOTIFIER_CONCURRENCY: String(a.notifierConcurrency) } : {}),
    },
    authorizer: a.auth ? authorizerEnv<T | string>(a.auth, a.secret ?? ((v) => v)) : { AUTH_ISSUER: '', AUTH_AUDIENCE: '', AUTH_CACHE_TTL: '300' },
  };
  // strongly consistent reads when the tables are MRSC (handlers/lib/env.ts reads CONSISTENCY)
  for (const [fn, env] of Object.entries(envs)) if (fn !== 'authorizer') env.CONSISTENCY = a.consistency ?? 'eventual';
  // drills: the FIS Lambda extension wraps the notifier's runtime and reads its faults from S3
  // (https://docs.aws.amazon.com/fis/latest/userguide/use-lambda-actions.html)
  if (a.fisConfigLocation !== undefined) Object.assign(envs.notifier, { AWS_FIS_CONFIGURATION_LOCATION: a.fisConfigLocation, AWS_LAMBDA_EXEC_WRAPPER: FIS_EXEC_WRAPPER });
  return envs;
}
