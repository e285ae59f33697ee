/**
 * `GET /state`: the app state as this region sees it (strongly consistent read of the local app-config
 * replica) → 200 `{state, updatedAt, reason, region, writeMode, primaryRegion, writable, version, writesFrom?}`
 * (writesFrom: a failover's start of local writes, see handlers/lib/stateRules.ts).
 * `writable` is decideWrite (schema/rules.ts) for this region: the same answer the items handler and the
 * resolvers act on. A missing state item answers state null and writable false (writes fail closed).
 * A failed read answers as handlers/lib/errors.ts says (503 + Retry-After when temporary, 500 ConfigError when the
 * table is missing or access is denied), logged as one JSON line; 405 for other methods. The read is capped by
 * the invocation's remaining time.
 */
import { decideWrite, type WriteMode } from '../schema/rules';
import { readAppState, type AppStateItem } from './lib/appState';
import { Budget, DEFAULT_BUDGET_MS } from './lib/budget';
import { documentClient } from './lib/dynamo';
import { loadConfig } from './lib/env';
import { failure } from './lib/errors';
import { methodNotAllowed, restHandler, type HttpRequest, type HttpResponse, type Scope } from './lib/http';

export interface StateDeps {
  region: string;
  primaryRegion: string;
  writeMode: WriteMode;
  readState(signal?: AbortSignal): Promise<AppStateItem | null>;
  /** epoch ms (default Date.now): a failover's writesFromMs is compared with it */
  now?(): number;
}

export async function handleState(
  req: HttpRequest,
  deps: StateDeps,
  scope: Scope = { requestId: 'direct', budget: Budget.ofMs(DEFAULT_BUDGET_MS) },
): Promise<HttpResponse> {
  const method = req.method.toUpperCase();
  if (method !== 'GET') return methodNotAllowed(method, ['GET']);
  let item: AppStateItem | null;
  try {
    item = await deps.readState(scope.budget.signal);
  } catch (err) {
    return failure('reading the app state', err, { handler: 'state', requestId: scope.requestId });
  }
  const state = item ? item.state : null;
  const decision = decideWrite({
    state,
    writesFromMs: item?.writesFromMs ?? null,
    nowMs: (deps.now ?? Date.now)(),
    writeMode: deps.writeMode,
    region: deps.region,
    primaryRegion: deps.primaryRegion,
  });
  return {
    status: 200,
    body: {
      state,
      updatedAt: item?.updatedAt ?? null,
      reason: item?.reason ?? null,
      version: item?.version ?? null,
      region: deps.region,
      writeMode: deps.writeMode,
      primaryRegion: deps.primaryRegion,
      writable: decision.allowed,
      ...(item?.writesFromMs !== undefined ? { writesFrom: new Date(item.writesFromMs).toISOString() } : {}),
      ...(decision.allowed ? { writeRegion: decision.targetRegion } : { notWritableBecause: decision.message }),
    },
  };
}

export function stateDeps(): StateDeps {
  const cfg = loadConfig(['appConfigTable']);
  return {
    region: cfg.region,
    primaryRegion: cfg.primaryRegion,
    writeMode: cfg.writeMode,
    readState: (signal) => readAppState(documentClient(cfg.region), cfg.appConfigTable, signal),
  };
}

export const handler = restHandler('state', (req, scope) => handleState(req, stateDeps(), scope));
