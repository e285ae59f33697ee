/**
 * The write bound in the local emulator. The promise (schema/rules.ts writeBoundMs): no write commits in a region
 * later than the bound after a state change (a fence) is visible in that region's replica, because every request
 * that can carry a write ends within a limit:
 *   - GraphQL: the mutation reads the state in its own pipeline, and AppSync ends the request at 30 s;
 *   - REST: an items container uses a state read at most stateCacheMs old when a request starts, and the request
 *     ends within the items function's timeout.
 * The bound is the larger of the two, 30 s as deployed, and the state updaters wait it out (STATE_WRITE_BOUND_MS:
 * the dwell in fenced before active, a failover's writesFromMs).
 *
 * By default the emulator runs AWS's numbers, so `npm start` shows the real dwell. With a shorter bound B
 * (`writeBoundMs`, `npm start -- --write-bound <ms>`) it scales the limits B is made of and enforces them, so the
 * promise still holds with B:
 *   - every AppSync request ends at B, its DynamoDB calls in flight aborted (local/appsync/requestLimit.ts),
 *   - the items function's timeout is B − stateCacheMs, at most its deployed 10 s (local/lambdaHost.ts ends the
 *     invocation and its sandbox; the items handler stops its own DynamoDB calls before that, by the remaining time Lambda's
 *     context gives it: handlers/lib/budget.ts),
 *   - the state updaters get STATE_WRITE_BOUND_MS = B, computed from those two limits by components/lambdaEnv.ts,
 *     the one place the deployed functions' environment comes from too.
 * B is at least stateCacheMs + 2 s, so the items function keeps room for a cold start on a busy machine, and at
 * most AWS's 30 s (a longer bound would need a longer AppSync limit, which AWS does not have).
 */
import { ITEMS_TIMEOUT_S } from '../components/lambdaEnv';
import { APPSYNC_REQUEST_LIMIT_MS, writeBoundMs } from '../schema/rules';

/** The least time the items function keeps under a scaled bound. */
export const MIN_ITEMS_TIMEOUT_MS = 2000;
/** The longest bound: AppSync's request limit. */
export const MAX_EMULATED_WRITE_BOUND_MS = APPSYNC_REQUEST_LIMIT_MS;

export interface EmulatedWriteBound {
  /** B: what the state updaters wait out (their STATE_WRITE_BOUND_MS). */
  boundMs: number;
  /** What AWS's bound is for the same stateCacheMs (30 s). */
  awsBoundMs: number;
  /** Every AppSync request ends at this. */
  graphqlRequestLimitMs: number;
  /** The items function's timeout. */
  itemsTimeoutMs: number;
  stateCacheMs: number;
}

/** A write bound the emulator cannot run; Emulator.start throws it before anything starts. */
export class WriteBoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WriteBoundError';
  }
}

/**
 * The limits for bound `boundMs` (undefined: AWS's) with the stack's stateCacheMs; a bound out of range throws a
 * WriteBoundError naming it as `what` (the option, or the `npm start` flag).
 */
export function emulatedWriteBound(boundMs: number | undefined, stateCacheMs: number, what = 'writeBoundMs'): EmulatedWriteBound {
  const deployedItemsMs = ITEMS_TIMEOUT_S * 1000;
  const awsBoundMs = writeBoundMs(stateCacheMs, deployedItemsMs);
  if (boundMs === undefined) return { boundMs: awsBoundMs, awsBoundMs, graphqlRequestLimitMs: APPSYNC_REQUEST_LIMIT_MS, itemsTimeoutMs: deployedItemsMs, stateCacheMs };
  const min = stateCacheMs + MIN_ITEMS_TIMEOUT_MS;
  if (typeof boundMs !== 'number' || !Number.isInteger(boundMs) || boundMs < min || boundMs > MAX_EMULATED_WRITE_BOUND_MS) {
    throw new WriteBoundError(
      `${what} ${String(boundMs)}: a whole number of milliseconds from ${min} (stateCacheMs ${stateCacheMs} + ${MIN_ITEMS_TIMEOUT_MS} for the items function) to ${MAX_EMULATED_WRITE_BOUND_MS} (AWS's bound)`,
    );
  }
  const limits = { graphqlRequestLimitMs: boundMs, itemsTimeoutMs: Math.min(deployedItemsMs, boundMs - stateCacheMs) };
  // the bound the updaters get is computed from the limits the emulator enforces, as lambdaEnv.ts computes it
  const derived = writeBoundMs(stateCacheMs, limits.itemsTimeoutMs, limits.graphqlRequestLimitMs);
  if (derived !== boundMs) throw new Error(`write bound ${boundMs} ms: its limits give ${derived} ms`);
  return { boundMs, awsBoundMs, ...limits, stateCacheMs };
}

/** "write bound 5 s (AWS: 30 s, scaled 1:6): GraphQL requests end at 5 s, the items function at 4 s" */
export function describeWriteBound(b: EmulatedWriteBound): string {
  const secs = (ms: number) => `${Number((ms / 1000).toFixed(3))} s`;
  const ratio = b.awsBoundMs / b.boundMs;
  const how = b.boundMs === b.awsBoundMs ? 'as in AWS' : `AWS: ${secs(b.awsBoundMs)}, scaled 1:${Number.isInteger(ratio) ? ratio : ratio.toFixed(1)}`;
  return `write bound ${secs(b.boundMs)} (${how}): GraphQL requests end at ${secs(b.graphqlRequestLimitMs)}, the items function at ${secs(b.itemsTimeoutMs)}`;
}
