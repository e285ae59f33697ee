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
 * which is where Route53 sends them since /health is 503 in the primary), 503 Unavailable + Retry-After: 5
 * when DynamoDB fails, 500 ConfigError when the environment contract (handlers/lib/env.ts) is broken.
 *
 * Write target (decideWrite): `multi-master` writes the local replica; `primary` writes the ITEMS_TABLE in
 * PRIMARY_REGION through a client for that region (read local, write global), so writeRegion = primary region
 * and readRegion = local region. Reads always come from the local replica.
 */
import {
  BAD_INPUT,
  NOT_FOUND,
  VERSION_CONFLICT,
  decideWrite,
  idProblem,
  valueProblem,
  type WriteMode,
} from '../schema/rules';
import { readAppState } from './lib/appState';
import { documentClient } from './lib/dynamo';
import { loadConfig } from './lib/env';
import { fail, methodNotAllowed, restHandler, unavailable, type HttpRequest, type HttpResponse } from './lib/http';
import { dynamoItemStore, type ItemRecord, type ItemStore } from './lib/itemStore';

export const ALLOWED_METHODS = ['GET', 'PUT', 'DELETE'] as const;
export const PUT_FIELDS = ['value', 'expectedVersion'] as const;
/** Seconds a client should wait before retrying a write refused by the app state. */
export const STATE_RETRY_AFTER_S = 30;
const CAS_ATTEMPTS = 3;

export interface ItemsDeps {
  /** The serving region (readRegion). */
  region: string;
  primaryRegion: string;
  writeMode: WriteMode;
  /** The local replica (reads). */
  local: ItemStore;
  /** The replica writes go to, by region (local or primary). */
  storeFor(region: string): ItemStore;
  /** The app state from the local app-config replica (strongly consistent); null when missing. */
  readState(): Promise<string | null>;
  now(): Date;
}

export interface ItemAnswer {
  id: string;
  value: string;
  version: number;
  updatedAt: string;
  writeRegion: string;
  readRegion: string;
}


function answer(item: ItemRecord, readRegion: string): ItemAnswer {
  return { id: item.id, value: item.value, version: item.version, updatedAt: item.updatedAt, writeRegion: item.updatedRegion, readRegion };
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

const VERSION_TEXT = /^(0|[1-9][0-9]{0,15})$/;

/** A version given as text (query string, If-Match); returns the number or a problem. */
function parseVersionText(raw: string, what: string): { version: number } | { problem: string } {
  const n = Number(raw);
  if (!VERSION_TEXT.test(raw) || !Number.isSafeInteger(n)) {
    return { problem: `${what} ${JSON.stringify(raw.length > 40 ? `${raw.slice(0, 40)}…` : raw)} is invalid: it must be a whole number ≥ 0` };
  }
  return { version: n };
}

function parseIfMatch(header: string | undefined): { version?: number } | { problem: string } {
  if (header === undefined) return {};
  const m = /^\s*(?:W\/)?"?([^"]*)"?\s*$/.exec(header);
  const parsed = parseVersionText(m ? m[1] : header, 'If-Match');
  return 'problem' in parsed ? { problem: `${parsed.problem} (send If-Match: <version> or "<version>")` } : parsed;
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
      problem: `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')} in body: allowed are ${PUT_FIELDS.join(', ')} (the id comes from the path)`,
    };
  }
  const vp = valueProblem(obj.value);
  if (vp) return { problem: vp };
  const ev = obj.expectedVersion;
  if (ev === undefined || ev === null) return { value: obj.value as string };
  if (typeof ev !== 'number' || !Number.isSafeInteger(ev) || ev < 0) {
    return { problem: `expectedVersion must be a whole number ≥ 0 (0 = the item must not exist yet), got ${JSON.stringify(ev)}` };
  }
  return { value: obj.value as string, expectedVersion: ev };
}

/** The pure core: a plain request and injected table access, clock and region in; an HTTP answer out. */
export async function handleItems(req: HttpRequest, deps: ItemsDeps): Promise<HttpResponse> {
  const method = req.method.toUpperCase();
  if (!(ALLOWED_METHODS as readonly string[]).includes(method)) return methodNotAllowed(method, ALLOWED_METHODS);

  const id = req.pathParameters.id;
  const idp = idProblem(id);
  if (idp) return bad(idp);
  const itemId = id as string;

  if (method === 'GET') {
    let item: ItemRecord | null;
    try {
      item = await deps.local.get(itemId);
    } catch (err) {
      return unavailable('reading the item', err);
    }
    if (!item) return fail(404, NOT_FOUND, `item ${JSON.stringify(itemId)} not found in ${deps.region}`);
    return { status: 200, body: answer(item, deps.region), headers: etag(item.version) };
  }

  const ifMatch = parseIfMatch(req.headers['if-match']);
  if ('problem' in ifMatch) return bad(ifMatch.problem);

  let expectedVersion: number | undefined;
  let value = '';
  if (method === 'PUT') {
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
    state = await deps.readState();
  } catch (err) {
    return unavailable('reading the app state', err);
  }
  const decision = decideWrite({ state, writeMode: deps.writeMode, region: deps.region, primaryRegion: deps.primaryRegion });
  if (!decision.allowed) {
    return fail(503, decision.errorType, decision.message, { 'retry-after': String(STATE_RETRY_AFTER_S) });
  }
  const store = deps.storeFor(decision.targetRegion);

  try {
    if (method === 'DELETE') {
      const out = await store.delete(itemId, expectedVersion);
      if (!out.ok) {
        if (!out.actual) return fail(404, NOT_FOUND, `item ${JSON.stringify(itemId)} not found in ${store.region}; nothing was deleted`);
        return conflict(itemId, expectedVersion as number, out.actual);
      }
      return { status: 200, body: { ...answer(out.item, deps.region), deleted: true, deletedRegion: store.region }, headers: etag(out.item.version) };
    }

    // PUT: compare-and-set on the expected version, or on the version just read (retried a few times).
    for (let attempt = 1; ; attempt += 1) {
      let ifVersion: number;
      if (expectedVersion !== undefined) {
        ifVersion = expectedVersion;
      } else {
        const current = await store.get(itemId);
        ifVersion = current ? current.version : 0;
      }
      const item: ItemRecord = { id: itemId, value, version: ifVersion + 1, updatedAt: deps.now().toISOString(), updatedRegion: store.region };
      const out = await store.put(item, ifVersion);
      if (out.ok) {
        return {
          status: ifVersion === 0 ? 201 : 200,
          body: { ...answer(out.item, deps.region), created: ifVersion === 0, previousVersion: ifVersion === 0 ? null : ifVersion },
          headers: etag(out.item.version),
        };
      }
      if (expectedVersion !== undefined || attempt >= CAS_ATTEMPTS) return conflict(itemId, ifVersion, out.actual);
    }
  } catch (err) {
    return unavailable(`writing the item to ${store.region}`, err);
  }
}

/** Builds the real dependencies from the environment contract (handlers/lib/env.ts). */
export function itemsDeps(): ItemsDeps {
  const cfg = loadConfig(['itemsTable', 'appConfigTable']);
  const local = dynamoItemStore(documentClient(cfg.region), cfg.itemsTable, cfg.region);
  return {
    region: cfg.region,
    primaryRegion: cfg.primaryRegion,
    writeMode: cfg.writeMode,
    local,
    storeFor: (region) => (region === cfg.region ? local : dynamoItemStore(documentClient(region), cfg.itemsTable, region)),
    readState: async () => (await readAppState(documentClient(cfg.region), cfg.appConfigTable))?.state ?? null,
    now: () => new Date(),
  };
}

export const handler = restHandler((req) => handleItems(req, itemsDeps()));
