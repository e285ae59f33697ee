/**
 * The environment contract of the Lambda handlers: the ONE place that names the variables the Pulumi
 * components (components/regionalApi.ts, components/appState.ts) and the local emulator must set.
 *
 * | variable                     | used by                         | meaning                                                     |
 * |------------------------------|---------------------------------|-------------------------------------------------------------|
 * | ITEMS_TABLE                  | items                           | items global table name (same name in every region)          |
 * | APP_CONFIG_TABLE             | items, health, state, stateUpdater | app-config global table name (app state + drain flags)     |
 * | PRIMARY_REGION               | items, health, state, stateUpdater | the write region in `primary` write mode; rejected for writes during failover |
 * | WRITE_MODE                   | items, state                    | `multi-master` (default) or `primary` (read local, write global) |
 * | DRAIN                        | health                          | `true` drains this region (health answers 503); anything else = not drained |
 * | HEALTH_TIMEOUT_MS            | health                          | optional, default 1000: budget for the deep check's GetItems |
 * | CONSISTENCY                  | items (all may read it)         | `eventual` (default when unset) or `strong` (multi-Region strong consistency) |
 * | STATE_CACHE_MS               | items                           | optional, default 1000: how long a container reuses its app state read (the write bound, schema/rules.ts) |
 * | AWS_REGION                   | all                             | the serving region (set by Lambda itself)                    |
 * | AWS_ENDPOINT_URL_DYNAMODB    | all (SDK)                       | optional; honoured by the AWS SDK itself (DynamoDB Local)    |
 *
 * The variables are read on every invocation (`loadConfig()`), never at module load, so the same bundle can run
 * with different settings per region (the local emulator runs each region's handlers in its own worker thread)
 * and tests can change them between calls. Reading process.env is cheap; DynamoDB clients are cached
 * separately (handlers/lib/dynamo.ts).
 */
import { DEFAULT_STATE_CACHE_MS, MAX_STATE_CACHE_MS, WRITE_MODES, type WriteMode } from '../../schema/rules';

export const ENV = {
  ITEMS_TABLE: 'ITEMS_TABLE',
  APP_CONFIG_TABLE: 'APP_CONFIG_TABLE',
  PRIMARY_REGION: 'PRIMARY_REGION',
  WRITE_MODE: 'WRITE_MODE',
  DRAIN: 'DRAIN',
  HEALTH_TIMEOUT_MS: 'HEALTH_TIMEOUT_MS',
  AWS_REGION: 'AWS_REGION',
  CONSISTENCY: 'CONSISTENCY',
  STATE_CACHE_MS: 'STATE_CACHE_MS',
} as const;

/**
 * The global tables' consistency mode (stack config `consistency`). `strong` is multi-Region strong consistency
 * (MRSC): strongly consistent reads see the latest write from any region, and writes are checked by every
 * replica, but MRSC tables take no transactions, so the items handler guards its writes differently there
 * (handlers/lib/itemStore.ts).
 */
export type Consistency = 'eventual' | 'strong';
export const CONSISTENCIES: readonly Consistency[] = ['eventual', 'strong'];

/** CONSISTENCY from the environment: `eventual` when unset or blank; anything else but `strong` is a ConfigError. */
export function readConsistency(env: Record<string, string | undefined> = process.env): Consistency {
  const raw = (env[ENV.CONSISTENCY] ?? '').trim();
  if (raw === '') return 'eventual';
  if (!(CONSISTENCIES as readonly string[]).includes(raw)) {
    throw new ConfigError(`environment variable ${ENV.CONSISTENCY} is ${JSON.stringify(raw.slice(0, 40))}: allowed are ${CONSISTENCIES.join(', ')}`);
  }
  return raw as Consistency;
}

/**
 * Route53 counts a health check as passed only on a 2xx within 2 s of connecting, and API Gateway + the Lambda
 * invocation (plus any cold start) spend part of that before the deep check starts, so the table reads get 1 s.
 */
export const DEFAULT_HEALTH_TIMEOUT_MS = 1000;

export interface HandlerConfig {
  /** The region serving the request (AWS_REGION). */
  region: string;
  itemsTable: string;
  appConfigTable: string;
  primaryRegion: string;
  writeMode: WriteMode;
  drain: boolean;
  healthTimeoutMs: number;
  consistency: Consistency;
  /** How long the items function reuses an app state read, per container and region (0 = every write reads it). */
  stateCacheMs: number;
}

/** A deployment mistake (a missing or bad variable): handlers answer 500 naming the variable. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;
type Need = 'itemsTable' | 'appConfigTable';

function required(env: Env, name: string): string {
  const v = env[name];
  if (v === undefined || v.trim() === '') throw new ConfigError(`environment variable ${name} is not set`);
  return v.trim();
}

/**
 * Reads and checks the environment. `needs` lists the table variables the calling handler requires: only the
 * items handler needs ITEMS_TABLE; health/state/stateUpdater pass ['appConfigTable'] and run without it (their
 * Lambdas are deployed without ITEMS_TABLE or any grant on the items table).
 */
export function loadConfig(needs: readonly Need[] = ['itemsTable', 'appConfigTable'], env: Env = process.env): HandlerConfig {
  const region = required(env, ENV.AWS_REGION);
  const writeModeRaw = (env[ENV.WRITE_MODE] ?? '').trim() || 'multi-master';
  if (!(WRITE_MODES as readonly string[]).includes(writeModeRaw)) {
    throw new ConfigError(`environment variable ${ENV.WRITE_MODE} is ${JSON.stringify(writeModeRaw)}: allowed are ${WRITE_MODES.join(', ')}`);
  }
  const timeoutRaw = (env[ENV.HEALTH_TIMEOUT_MS] ?? '').trim();
  let healthTimeoutMs = DEFAULT_HEALTH_TIMEOUT_MS;
  if (timeoutRaw !== '') {
    healthTimeoutMs = Number(timeoutRaw);
    if (!Number.isInteger(healthTimeoutMs) || healthTimeoutMs < 1 || healthTimeoutMs > 60_000) {
      throw new ConfigError(`environment variable ${ENV.HEALTH_TIMEOUT_MS} is ${JSON.stringify(timeoutRaw)}: allowed is an integer from 1 to 60000`);
    }
  }
  const cacheRaw = (env[ENV.STATE_CACHE_MS] ?? '').trim();
  let stateCacheMs = DEFAULT_STATE_CACHE_MS;
  if (cacheRaw !== '') {
    stateCacheMs = Number(cacheRaw);
    if (!Number.isInteger(stateCacheMs) || stateCacheMs < 0 || stateCacheMs > MAX_STATE_CACHE_MS) {
      throw new ConfigError(`environment variable ${ENV.STATE_CACHE_MS} is ${JSON.stringify(cacheRaw.slice(0, 40))}: allowed is an integer from 0 to ${MAX_STATE_CACHE_MS}`);
    }
  }
  return {
    region,
    itemsTable: needs.includes('itemsTable') ? required(env, ENV.ITEMS_TABLE) : (env[ENV.ITEMS_TABLE] ?? '').trim(),
    appConfigTable: needs.includes('appConfigTable') ? required(env, ENV.APP_CONFIG_TABLE) : (env[ENV.APP_CONFIG_TABLE] ?? '').trim(),
    primaryRegion: required(env, ENV.PRIMARY_REGION),
    writeMode: writeModeRaw as WriteMode,
    drain: (env[ENV.DRAIN] ?? '').trim().toLowerCase() === 'true',
    healthTimeoutMs,
    consistency: readConsistency(env),
    stateCacheMs,
  };
}
