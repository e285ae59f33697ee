/**
 * `GET /health`: the deep check Route53 polls (docs/architecture.md, "Per-region picture"). One strongly consistent GetItem of the app state
 * item and one of this region's drain flag, from the local app-config replica, both under one deadline
 * (HEALTH_TIMEOUT_MS, default 1000 ms, enforced with an AbortController; the SDK makes a single attempt). The
 * default leaves room inside Route53's 2 s (2xx within 2 s of connecting) for API Gateway and Lambda overhead.
 * Environment: AWS_REGION, APP_CONFIG_TABLE, PRIMARY_REGION, optional DRAIN and HEALTH_TIMEOUT_MS; it never
 * touches the items table, so ITEMS_TABLE is not needed (nor is any grant on that table).
 *
 * 200 `{status: 'ok', region, state, checkedMs}`; 503 `{status: 'unhealthy', region, reason, checkedMs}` when
 * - DRAIN=true in the environment (checked first, no table call),
 * - the app-config table is unreachable, missing or slower than the deadline,
 * - the drain flag item `{id: drainFlagId(region), drained: true, reason}` is present,
 * - this region is PRIMARY_REGION and the state is `failover`.
 * A missing state item is healthy (state: null): the region can serve reads, and writes are refused by the items
 * handler anyway; marking every region unhealthy would make Route53 fail open on all of them.
 * Any method other than GET/HEAD answers 405. The reason names a failed call's error, never its message (an
 * AccessDenied message carries the account id and the role ARN, and /health is public); the message goes to the
 * function log, one JSON line. The deadline is also capped by the invocation's remaining time.
 */
import { readAppState, readDrainFlag, type AppStateItem } from './lib/appState';
import { Budget, DEFAULT_BUDGET_MS } from './lib/budget';
import { documentClient, errorName } from './lib/dynamo';
import { loadConfig } from './lib/env';
import { logFailure } from './lib/errors';
import { methodNotAllowed, restHandler, type HttpRequest, type HttpResponse, type Scope } from './lib/http';

export interface HealthDeps {
  region: string;
  primaryRegion: string;
  drainEnv: boolean;
  timeoutMs: number;
  readState(signal: AbortSignal): Promise<AppStateItem | null>;
  readDrainFlag(signal: AbortSignal): Promise<{ reason: string } | null>;
  /** Milliseconds clock for checkedMs. */
  nowMs(): number;
  /** Logs a failed table call (one JSON line); default: nothing. */
  logFailure?(what: string, err: unknown, status: number): void;
}

export interface HealthAnswer {
  status: 'ok' | 'unhealthy';
  region: string;
  state?: string | null;
  reason?: string;
  checkedMs: number;
}

class Timeout extends Error {}

/** The pure core. */
export async function checkHealth(deps: HealthDeps): Promise<{ healthy: boolean; body: HealthAnswer }> {
  const started = deps.nowMs();
  const done = (healthy: boolean, extra: { state?: string | null; reason?: string }) => ({
    healthy,
    body: { status: healthy ? ('ok' as const) : ('unhealthy' as const), region: deps.region, ...extra, checkedMs: deps.nowMs() - started },
  });
  if (deps.drainEnv) return done(false, { reason: `region ${deps.region} is drained by the DRAIN environment variable` });

  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Timeout());
    }, deps.timeoutMs);
  });
  let state: AppStateItem | null;
  let drain: { reason: string } | null;
  try {
    [state, drain] = await Promise.race([Promise.all([deps.readState(controller.signal), deps.readDrainFlag(controller.signal)]), deadline]);
  } catch (err) {
    const timedOut = err instanceof Timeout || controller.signal.aborted;
    const why = timedOut ? `the app-config table did not answer within ${deps.timeoutMs} ms` : `the app-config table is unreachable (${errorName(err)})`;
    deps.logFailure?.(timedOut ? `reading the app-config table (no answer within ${deps.timeoutMs} ms)` : 'reading the app-config table', err, 503);
    return done(false, { reason: why });
  } finally {
    clearTimeout(timer);
  }
  if (drain) return done(false, { reason: `region ${deps.region} is drained by its drain flag: ${drain.reason}` });
  if (state && state.state === 'failover' && deps.region === deps.primaryRegion) {
    return done(false, { state: state.state, reason: `region ${deps.region} is the primary and the app state is failover` });
  }
  return done(true, { state: state ? state.state : null });
}

export async function handleHealth(req: HttpRequest, deps: HealthDeps): Promise<HttpResponse> {
  const method = req.method.toUpperCase();
  if (method !== 'GET' && method !== 'HEAD') return methodNotAllowed(method, ['GET', 'HEAD']);
  const { healthy, body } = await checkHealth(deps);
  return { status: healthy ? 200 : 503, body };
}

export function healthDeps(scope: Scope = { requestId: 'direct', budget: Budget.ofMs(DEFAULT_BUDGET_MS) }): HealthDeps {
  // app-config table only: the health Lambda has no ITEMS_TABLE and no access to the items table
  const cfg = loadConfig(['appConfigTable']);
  const doc = documentClient(cfg.region, { maxAttempts: 1 });
  return {
    region: cfg.region,
    primaryRegion: cfg.primaryRegion,
    drainEnv: cfg.drain,
    timeoutMs: Math.max(1, Math.min(cfg.healthTimeoutMs, scope.budget.remaining())),
    readState: (signal) => readAppState(doc, cfg.appConfigTable, signal),
    readDrainFlag: (signal) => readDrainFlag(doc, cfg.appConfigTable, cfg.region, signal),
    nowMs: () => Date.now(),
    logFailure: (what, err, status) => logFailure(what, err, { handler: 'health', requestId: scope.requestId }, status),
  };
}

export const handler = restHandler('health', (req, scope) => handleHealth(req, healthDeps(scope)));
