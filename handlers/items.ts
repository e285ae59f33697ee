/**
 * REST items API: `GET|PUT|DELETE /items/{id}` (API Gateway REST proxy → Lambda), the same rules as the
 * GraphQL resolvers (schema/rules.ts).
 *
 * Answers `{id, value, version, updatedAt, writeRegion, readRegion}` (as in seed 002): writeRegion is the item's
 * updatedRegion (the region whose replica accepted the last write), readRegion the region that answered.
 * Successful answers carry `ETag: "<version>"`.
 *
 * - GET    200 | 404.
 * - PUT    body `{"value": "...", "expectedVersion"?: n}`; 201 when created, 200 when updated (answer adds
 *          `created` and `previousVersion`). `expectedVersion` (or an `If-Match: <n>` / `If-Match: "<n>"` header;
 *          both given must agree) makes the write conditional: n ≥ 1 = the stored item must have version n,
 *          0 = the item must not exist yet (as PutItemInput.expectedVersion in the GraphQL schema). Without it
 *          the write still compare-and-sets on the version it just read (retried up to 3 times), so concurrent
 *          writers to the same replica never overwrite each other silently: each write gets its own version.
 *          That holds within one region (one replica checks every condition). Across regions in `multi-master`,
 *          each region's write is checked only against its own replica, so two writes to the same id in two
 *          regions can both succeed (even with the same expectedVersion, and often with the same version
 *          number); global-table replication then keeps the last writer's item everywhere (last-writer-wins).
 *          For strict ordering use expectedVersion with writeMode `primary`, where every write is checked by
 *          the primary region's replica.
 * - DELETE `?expectedVersion=n` (n ≥ 1) or If-Match; 200 with the deleted item and `deleted: true`; 404 if absent.
 * - other methods: 405 with Allow.
 *
 * Errors are JSON `{error, errorType}` and name what was wrong; nothing is written on any error:
 * 400 BadInput (malformed JSON, body not an object, unknown fields, value/id/expectedVersion/If-Match problems),
 * 404 NotFound, 409 VersionConflict (says expected vs actual), 503 WriteFenced / WriteRejectedInPrimary with
 * `Retry-After: 30` (docs/architecture.md, "Write rules": the app state, read strongly consistently from the local app-config replica,
 * refuses the write; the state is temporary, and during failover clients should go through another region,
 * which is where Route53 sends them since /health is 503 in the primary), and for DynamoDB failures the
 * answers of handlers/lib/errors.ts: 503 Throttled / Unavailable / Timeout with Retry-After, 409 WriteConflict
 * (`retryable: true`) after the handler's own retries of a replicated-write or transaction conflict, 500
 * ConfigError for permanent misconfiguration (and when the environment contract, handlers/lib/env.ts, is broken).
 *
 * Write target (decideWrite): `multi-master` writes the local replica; `primary` writes the ITEMS_TABLE in
 * PRIMARY_REGION through a client for that region (read local, write global), so writeRegion = primary region
 * and readRegion = local region. Reads always come from the local replica.
 *
 * Faults (handlers/lib/itemStore.ts): every write is guarded by the app state of the region written to, in the
 * same transaction (or, with CONSISTENCY=strong, a strongly consistent read just before), so a fence set there
 * refuses it; every write is idempotent (a per-request writeId), so a write whose reply was lost and that the
 * SDK retries is answered as the one write it was; all work is capped by the invocation's remaining time.
 * Writes record the caller (`updatedBy`, from the authorizer) and every item answer carries it (null without one).
 */
import { randomUUID } from 'node:crypto';
import {
  APP_STATES,
  BAD_INPUT,
  NOT_FOUND,
  VERSION_CONFLICT,
  decideWrite,
  idProblem,
  valueProblem,
  versionLimitProblem,
  type WriteMode,
} from '../schema/rules';
import { readAppState } from './lib/appState';
import { Budget, BudgetExhausted, DEFAULT_BUDGET_MS, backoffMs } from './lib/budget';
import { documentClient } from './lib/dynamo';
import { loadConfig, type Consistency } from './lib/env';
import { failure, isRetryableConflict, type FailureContext } from './lib/errors';
import { parseIfMatch, parseVersionText } from './lib/headers';
import { MAX_ITEM_BODY_BYTES, bodyTooLarge, fail, listNames, methodNotAllowed, restHandler, type HttpRequest, type HttpResponse, type Scope } from './lib/http';
import { dynamoItemStore, type ItemRecord, type ItemStore, type WriteOutcome } from './lib/itemStore';

export const ALLOWED_METHODS = ['GET', 'PUT', 'DELETE'] as const;
export const PUT_FIELDS = ['value', 'expectedVersion'] as const;
/** Seconds a client should wait before retrying a write refused by the app state. */
export const STATE_RETRY_AFTER_S = 30;
/** Compare-and-set rounds of a write without expectedVersion (each re-reads the version). */
const CAS_ATTEMPTS = 3;
/** Re-decisions when the written region's app state differs from the one read locally (a state change in flight). */
const STATE_ATTEMPTS = 2;
/** The handler's own retries of a replicated-write / transaction conflict (after the SDK's), within the budget. */
export const CONFLICT_RETRIES = 6;
export const STATE_CHANGING = 'StateChanging';

export interface ItemsDeps {
  /** The serving region (readRegion). */
  region: string;
  primaryRegion: string;
  writeMode: WriteMode;
  consistency: Consistency;
  /** The app-config table (same name in every region): the write guard checks its state item in the region written to. */
  appConfigTable: string;
  /** The local replica (reads). */
  local: ItemStore;
  /** The replica writes go to, by region (local or primary). */
  storeFor(region: string): ItemStore;
  /** The app state from the local app-config replica (strongly consistent); null when missing. */
  readState(signal?: AbortSignal): Promise<string | null>;
  now(): Date;
  /** A fresh id per request, stored on the item it writes (idempotency). */
  newWriteId(): string;
  /** [0, 1) for retry jitter. */
  random(): number;
}

export interface ItemAnswer {
  id: string;
  value: string;
  version: number;
  updatedAt: string;
  writeRegion: string;
  readRegion: string;
  updatedBy: string | null;
}

function answer(item: ItemRecord, readRegion: string): ItemAnswer {
  return {
    id: item.id,
    value: item.value,
    version: item.version,
    updatedAt: item.updatedAt,
    writeRegion: item.updatedRegion,
    readRegion,
    updatedBy: item.updatedBy ?? null,
  };
}

function etag(version: number): Record<string, string> {
  return { etag: `"${version}"` };
}

const bad = (msg: string): HttpResponse => fail(400, BAD_INPUT, msg);

function conflict(id: string, expected: number, actual: ItemRecord | null): HttpResponse {
  const exp = expected === 0 ? 'no item (expectedVersion 0)' : `version ${expected}`;
  const act = actual ? `version ${actual.version}` : 'no item';
  return {
    status: 409,
    body: {
      error: `version conflict on item ${JSON.stringify(id)}: expected ${exp}, found ${act}; nothing was written`,
      errorType: VERSION_CONFLICT,
      expectedVersion: expected,
      actualVersion: actual ? actual.version : null,
    },
  };
}

/** Combines the version from the body/query with If-Match; both given must agree. */
function combineVersions(fromRequest: number | undefined, ifMatch: number | undefined, where: string): { version?: number } | { problem: string } {
  if (fromRequest !== undefined && ifMatch !== undefined && fromRequest !== ifMatch) {
    return { problem: `expectedVersion ${fromRequest} (${where}) and If-Match ${ifMatch} disagree` };
  }
  return { version: fromRequest ?? ifMatch };
}

interface PutInput {
  value: string;
  expectedVersion?: number;
}

function parsePutBody(body: string | null): PutInput | { problem: string } {
  if (body === null || body.trim() === '') return { problem: 'body is required: send {"value": "<string>"}' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (err) {
    return { problem: `body is not valid JSON (${(err as Error).message}): send {"value": "<string>"}` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    const kind = parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : `a ${typeof parsed}`;
    return { problem: `body must be a JSON object, got ${kind}: send {"value": "<string>"}` };
  }
  const obj = parsed as Record<string, unknown>;
  const unknown = Object.keys(obj).filter((k) => !(PUT_FIELDS as readonly string[]).includes(k));
  if (unknown.length > 0) {
    return {
      problem: `unknown field${unknown.length > 1 ? 's' : ''} ${listNames(unknown)} in body: allowed are ${PUT_FIELDS.join(', ')} (the id comes from the path)`,
    };
  }
  const vp = valueProblem(obj.value);
  if (vp) return { problem: vp };
  const ev = obj.expectedVersion;
  if (ev === undefined || ev === null) return { value: obj.value as string };
  if (typeof ev !== 'number' || !Number.isInteger(ev) || ev < 0) {
    return { problem: `expectedVersion must be a whole number ≥ 0 (0 = the item must not exist yet), got ${JSON.stringify(ev)}` };
  }
  const over = versionLimitProblem('expectedVersion', ev);
  if (over) return { problem: over };
  return { value: obj.value as string, expectedVersion: ev };
}

/** The app states in which this region may write to `targetRegion` (decideWrite, per state): the write guard. */
export function statesAllowing(targetRegion: string, deps: Pick<ItemsDeps, 'writeMode' | 'region' | 'primaryRegion'>): string[] {
  return APP_STATES.filter((state) => {
    const d = decideWrite({ state, writeMode: deps.writeMode, region: deps.region, primaryRegion: deps.primaryRegion });
    return d.allowed && d.targetRegion === targetRegion;
  });
}

const defaultScope = (): Scope => ({ requestId: 'direct', budget: Budget.ofMs(DEFAULT_BUDGET_MS) });

/** The pure core: a plain request and injected table access, clock and region in; an HTTP answer out. */
export async function handleItems(req: HttpRequest, deps: ItemsDeps, scope: Scope = defaultScope()): Promise<HttpResponse> {
  const method = req.method.toUpperCase();
  if (!(ALLOWED_METHODS as readonly string[]).includes(method)) return methodNotAllowed(method, ALLOWED_METHODS);

  const id = req.pathParameters.id;
  const idp = idProblem(id);
  if (idp) return bad(idp);
  const itemId = id as string;
  const { budget } = scope;
  const ctx: FailureContext = { handler: 'items', requestId: scope.requestId, tries: 1 };

  if (method === 'GET') {
    let item: ItemRecord | null;
    try {
      item = await deps.local.get(itemId, budget.signal);
    } catch (err) {
      return failure('reading the item', err, ctx);
    }
    if (!item) return fail(404, NOT_FOUND, `item ${JSON.stringify(itemId)} not found in ${deps.region}`);
    return { status: 200, body: answer(item, deps.region), headers: etag(item.version) };
  }

  const ifMatch = parseIfMatch(req.headers['if-match']);
  if ('problem' in ifMatch) return bad(ifMatch.problem);

  let expectedVersion: number | undefined;
  let value = '';
  if (method === 'PUT') {
    const tooLarge = bodyTooLarge(req.body, MAX_ITEM_BODY_BYTES);
    if (tooLarge) return tooLarge;
    const input = parsePutBody(req.body);
    if ('problem' in input) return bad(input.problem);
    const combined = combineVersions(input.expectedVersion, ifMatch.version, 'body');
    if ('problem' in combined) return bad(combined.problem);
    value = input.value;
    expectedVersion = combined.version;
  } else {
    const raw = req.query.expectedVersion;
    let fromQuery: number | undefined;
    if (raw !== undefined) {
      const parsed = parseVersionText(raw, 'expectedVersion');
      if ('problem' in parsed) return bad(parsed.problem);
      fromQuery = parsed.version;
    }
    const combined = combineVersions(fromQuery, ifMatch.version, 'query string');
    if ('problem' in combined) return bad(combined.problem);
    expectedVersion = combined.version;
    if (expectedVersion === 0) return bad('expectedVersion 0 means "must not exist" and cannot be used with DELETE: give the version to delete (≥ 1)');
  }

  let state: string | null;
  try {
    state = await deps.readState(budget.signal);
  } catch (err) {
    return failure('reading the app state', err, ctx);
  }

  const writeId = deps.newWriteId();
  let casRounds = 0;
  let stateRounds = 0;
  let conflicts = 0;
  for (;;) {
    const decision = decideWrite({ state, writeMode: deps.writeMode, region: deps.region, primaryRegion: deps.primaryRegion });
    if (!decision.allowed) {
      return fail(503, decision.errorType, decision.message, { 'retry-after': String(STATE_RETRY_AFTER_S) });
    }
    const store = deps.storeFor(decision.targetRegion);
    const opts = { guard: { table: deps.appConfigTable, allowedStates: statesAllowing(decision.targetRegion, deps) }, signal: budget.signal };
    const what = `writing the item to ${store.region}`;
    if (budget.expired()) return failure(what, new BudgetExhausted(), ctx);

    let out: WriteOutcome;
    let ifVersion = 0;
    try {
      if (method === 'PUT') {
        if (expectedVersion !== undefined) ifVersion = expectedVersion;
        else ifVersion = (await store.get(itemId, budget.signal))?.version ?? 0;
        const item: ItemRecord = {
          id: itemId,
          value,
          version: ifVersion + 1,
          updatedAt: deps.now().toISOString(),
          updatedRegion: store.region,
          ...(req.caller ? { updatedBy: req.caller } : {}),
          writeId,
        };
        out = await store.put(item, ifVersion, opts);
        if (out.ok) {
          return {
            status: ifVersion === 0 ? 201 : 200,
            body: { ...answer(out.item, deps.region), created: ifVersion === 0, previousVersion: ifVersion === 0 ? null : ifVersion },
            headers: etag(out.item.version),
          };
        }
      } else {
        const current = await store.get(itemId, budget.signal);
        if (!current) return fail(404, NOT_FOUND, `item ${JSON.stringify(itemId)} not found in ${store.region}; nothing was deleted`);
        if (expectedVersion !== undefined && current.version !== expectedVersion) return conflict(itemId, expectedVersion, current);
        ifVersion = current.version;
        out = await store.delete(current, opts);
        if (out.ok) {
          return { status: 200, body: { ...answer(out.item, deps.region), deleted: true, deletedRegion: store.region }, headers: etag(out.item.version) };
        }
      }
    } catch (err) {
      if (isRetryableConflict(err) && conflicts < CONFLICT_RETRIES) {
        conflicts += 1;
        ctx.tries = (ctx.tries ?? 1) + 1;
        if (await budget.pause(backoffMs(conflicts, 25, 1000, deps.random))) continue;
      }
      return failure(what, err, ctx);
    }

    if (out.reason === 'state') {
      // the written region's state is not one this write may commit in: decide again with what it holds
      stateRounds += 1;
      if (stateRounds > STATE_ATTEMPTS) {
        return fail(
          503,
          STATE_CHANGING,
          `the app state is changing: ${deps.region} reads ${JSON.stringify(state)} but ${store.region} holds ${JSON.stringify(out.state)}; nothing was written, retry shortly`,
          { 'retry-after': '5' },
        );
      }
      state = out.state;
      continue;
    }
    if (method === 'DELETE' && !out.actual) return fail(404, NOT_FOUND, `item ${JSON.stringify(itemId)} not found in ${store.region}; nothing was deleted`);
    casRounds += 1;
    if (expectedVersion !== undefined || casRounds >= CAS_ATTEMPTS) return conflict(itemId, expectedVersion ?? ifVersion, out.actual);
  }
}

/** Builds the real dependencies from the environment contract (handlers/lib/env.ts). */
export function itemsDeps(): ItemsDeps {
  const cfg = loadConfig(['itemsTable', 'appConfigTable']);
  const storeOpts = { consistency: cfg.consistency };
  const local = dynamoItemStore(documentClient(cfg.region), cfg.itemsTable, cfg.region, storeOpts);
  const stores = new Map<string, ItemStore>([[cfg.region, local]]);
  return {
    region: cfg.region,
    primaryRegion: cfg.primaryRegion,
    writeMode: cfg.writeMode,
    consistency: cfg.consistency,
    appConfigTable: cfg.appConfigTable,
    local,
    storeFor: (region) => {
      let store = stores.get(region);
      if (!store) {
        store = dynamoItemStore(documentClient(region, { kind: 'crossRegion' }), cfg.itemsTable, region, storeOpts);
        stores.set(region, store);
      }
      return store;
    },
    readState: async (signal) => (await readAppState(documentClient(cfg.region), cfg.appConfigTable, signal))?.state ?? null,
    now: () => new Date(),
    newWriteId: () => randomUUID(),
    random: Math.random,
  };
}

export const handler = restHandler('items', (req, scope) => handleItems(req, itemsDeps(), scope));
