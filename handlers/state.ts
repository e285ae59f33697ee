/**
 * `GET /state`: the app state as this region sees it (strongly consistent read of the local app-config
 * replica) → 200 `{state, updatedAt, reason, region, writeMode, primaryRegion, writable, version}`.
 * `writable` is decideWrite (schema/rules.ts) for this region: the same answer the items handler and the
 * resolvers act on. A missing state item answers state null and writable false (writes fail closed).
 * 503 Unavailable when the table cannot be read; 405 for other methods.
 */
import { decideWrite, type WriteMode } from '../schema/rules';
import { readAppState, type AppStateItem } from './lib/appState';
import { documentClient } from './lib/dynamo';
import { loadConfig } from './lib/env';
import { methodNotAllowed, restHandler, unavailable, type HttpRequest, type HttpResponse } from './lib/http';

export interface StateDeps {
  region: string;
  primaryRegion: string;
  writeMode: WriteMode;
  readState(): Promise<AppStateItem | null>;
}

export async function handleState(req: HttpRequest, deps: StateDeps): Promise<HttpResponse> {
  const method = req.method.toUpperCase();
  if (method !== 'GET') return methodNotAllowed(method, ['GET']);
  let item: AppStateItem | null;
  try {
    item = await deps.readState();
  } catch (err) {
    return unavailable('reading the app state', err);
  }
  const state = item ? item.state : null;
  const decision = decideWrite({ state, writeMode: deps.writeMode, region: deps.region, primaryRegion: deps.primaryRegion });
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
    readState: () => readAppState(documentClient(cfg.region), cfg.appConfigTable),
  };
}

export const handler = restHandler((req) => handleState(req, stateDeps()));
