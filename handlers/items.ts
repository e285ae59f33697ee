/**
 * REST items API: `GET|PUT|DELETE /items/{id}` (API Gateway REST proxy → Lambda), the same rules as the
 * GraphQL resolvers (schema/rules.ts).
 *
 * Answers `{id, value, version, updatedAt, writeRegion, readRegion, updatedBy}`: writeRegion is the item's
 * updatedRegion (the region whose replica accepted the last write), readRegion the region that answered.
 * Successful answers carry `ETag: "<version>"`.
 *
 * - GET    200 | 404.
 * - PUT    body `{"value": "...", "expectedVersion"?: n}`; 201 when created, 200 when updated (answer adds
 *          `created` and `previousVersion`). `expectedVersion` (or an `If-Match: <n>` / `If-Match: "<n>"` header;
 *          both given must agree) makes the write conditional: n ≥ 1 = the stored item must have version n,
 *          0 = the item must not exist yet (as PutItemInput.expectedVersion in the GraphQL schema). Without it
 *          the write is one UpdateItem that moves the stored version by one, so concurrent writers to the same
 *          replica never overwrite each other silently: each write gets its own version (last writer wins).
 *          That holds within one region (one replica checks every condition). Across regions in `multi-master`,
 *          each region's write is checked only against its own replica, so two writes to the same id in two
 *          regions can both succeed (even with the same expectedVersion, and often with the same version
 *          number); global-table replication then keeps the last writer's item everywhere (last-writer-wins).
 *          For strict ordering use expectedVersion with writeMode `primary`, where every write is checked by
 *          the primary region's replica.
 *          `Idempotency-Key: "<key>"` (handlers/lib/headers.ts) makes the key the write's writeId: a resend with the
 *          same key while the item still holds that write answers it again instead of writing twice; the same
 *          key with another value answers 422 IdempotencyKeyReused.
 * - DELETE `?expectedVersion=n` (n ≥ 1) or If-Match; 200 with the deleted item and `deleted: true`; 404 if absent.
 *          An Idempotency-Key is checked and has nothing to add: a resent DELETE finds the item gone (404).
 * - other methods: 405 with Allow.
 *
 * Errors are JSON `{error, errorType}` and name what was wrong: 400 BadInput (malformed JSON, body not an object,
 * unknown fields, value/id/expectedVersion/If-Match/Idempotency-Key problems), 404 NotFound, 409 VersionConflict
 * (says expected vs actual), 422 IdempotencyKeyReused, 503 WriteFenced / WriteRejectedInPrimary with
 * `Retry-After: 30` (docs/architecture.md, "Write rules": the app state refuses the write; the state is temporary,
 * and during failover clients should go through another region, which is where Route53 sends them since /health
 * is 503 in the primary), 503 StateChanging (a failover still waiting out the write bound, or a written region
 * holding another state than the local replica), and for DynamoDB failures the answers of handlers/lib/errors.ts:
 * 503 Throttled / Unavailable / Timeout with Retry-After, 409 WriteConflict (`retryable: true`) after the
 * handler's own retries of a replicated-write conflict (with an outcome when an attempt may have been applied,
 * below), 500 ConfigError for permanent misconfiguration (and when
 * the environment contract, handlers/lib/env.ts, is broken). Nothing is written on any error — except a write
 * whose outcome stayed unknown, which says so (below).
 *
 * Write target (decideWrite): `multi-master` writes the local replica; `primary` writes the ITEMS_TABLE in
 * PRIMARY_REGION through a client for that region (read local, write global), so writeRegion = primary region
 * and readRegion = local region. Reads always come from the local replica.
 *
 * The fence: a write goes ahead only while the app state allows it. The state is read strongly consistently and
 * reused by the container for at most STATE_CACHE_MS (handlers/lib/stateCache.ts): the local replica's for the
 * decision, and the written replica's too when that is another region's (writeMode primary). The write itself is
 * one plain conditional PutItem / DeleteItem of its own item (handlers/lib/itemStore.ts): no item is shared by all
 * writes, so writes in a region never contend with each other. The promise this gives is a bound: no write
 * commits later than writeBoundMs (schema/rules.ts) after a fence is visible in the replica written to.
 *
 * Faults: every write is idempotent (a per-request writeId, or the client's Idempotency-Key), so a write whose
 * reply was lost and that the SDK retries is answered as the one write it was. When every attempt's reply was lost
 * (or the write call failed in a way that may have come after DynamoDB applied it), the handler reads the item
 * back before answering: its own write found there is answered as done; otherwise the 5xx says `outcome:
 * "notApplied"` (the item does not hold this write / is still there) or, when the read fails too, `outcome:
 * "unknown"` with how to find out. A PUT's error with an outcome (a 5xx, or the 409 WriteConflict below) also
 * carries the writeId its write was sent with (the client's key, or the id the handler made up when there was none)
 * as `writeId` in the body and as the header `Idempotency-Key: "<writeId>"`, and its text says to resend with that
 * header: a resend is then answered as this write if it is stored (it did land, or lands late) instead of writing
 * a second version. A DELETE's has neither (a delete has no writeId to resend with; resent, it finds the item
 * gone). 2xx answers carry no writeId: the write is done.
 * An attempt may have been applied without its answer reaching the handler once a write call took more than one
 * SDK attempt (an earlier one's reply may have been lost) or ended without DynamoDB's refusal. From then on the
 * handler reads the item back before it says the write was not applied or sends it again:
 * - a PUT whose condition failed: the item holding this write → the write's own answer; otherwise 409
 *   VersionConflict naming the version read, which says the write may have been applied and then replaced by a
 *   newer one (neither the failed condition's item, ALL_OLD, nor the read can show a write applied and then
 *   overwritten or deleted: the read is there so that the answer never rests on that item alone); the read failing
 *   → the read's error (503 Timeout / Unavailable / Throttled) with outcome "unknown". A DELETE's 409 says the
 *   same of its delete;
 * - a replicated-write conflict (MRSC): before each of the handler's own retries of a PUT the item is read back
 *   (holding this write → its answer, instead of a second write over what another region wrote since), and the
 *   conflict it ends with is read back like a lost reply: 409 WriteConflict with an outcome (and writeId).
 *   What a read cannot tell: a PUT without expectedVersion whose earlier attempt was applied and then replaced by
 *   another write before the read-back is sent again and lands after that write (last writer wins, as for a
 *   client's resend); with expectedVersion its condition refuses it (the 409 above).
 * All work is capped by the invocation's remaining time, with room kept for that read. The failure
 * log's `tries` counts the handler's own tries made (a retry the budget had no time left for is not one). Writes
 * record the caller (`updatedBy`, from the authorizer) and every item answer carries it.
 */
import { randomUUID } from 'node:crypto';
import {
  APP_STATES,
  BAD_INPUT,
  NOT_FOUND,
  STATE_CHANGING,
  VERSION_CONFLICT,
  decideWrite,
  idProblem,
  valueProblem,
  versionLimitProblem,
  type WriteMode,
} from '../schema/rules';
import { readAppState } from './lib/appState';
import { Budget, BudgetExhausted, DEFAULT_BUDGET_MS, backoffMs } from './lib/budget';
import { documentClient, sdkAttempts } from './lib/dynamo';
import { loadConfig, type HandlerConfig } from './lib/env';
import { classify, failure, isRetryableConflict, type FailureContext } from './lib/errors';
import { IDEMPOTENCY_KEY_HEADER, idempotencyKeyValue, parseIdempotencyKey, parseIfMatch, parseVersionText } from './lib/headers';
import { MAX_ITEM_BODY_BYTES, bodyTooLarge, fail, listNames, methodNotAllowed, restHandler, type HttpRequest, type HttpResponse, type Scope } from './lib/http';
import { dynamoItemStore, type ItemRecord, type ItemStore, type WriteOutcome } from './lib/itemStore';
import { stateCache, type StateCache, type StateView } from './lib/stateCache';

export const ALLOWED_METHODS = ['GET', 'PUT', 'DELETE'] as const;
export const PUT_FIELDS = ['value', 'expectedVersion'] as const;
/** Seconds a client should wait before retrying a write refused by the app state. */
export const STATE_RETRY_AFTER_S = 30;
/** Compare-and-set rounds of a DELETE without expectedVersion (each re-reads the version). */
const CAS_ATTEMPTS = 3;
/** Re-decisions when the written region's app state differs from the one read locally (a state change in flight). */
const STATE_ATTEMPTS = 2;
/** The handler's own retries of a replicated-write conflict (after the SDK's), within the budget. */
export const CONFLICT_RETRIES = 6;
/** Kept out of a write call's time for reading the item back when the write's outcome is unknown. */
export const READ_BACK_RESERVE_MS = 1000;
/** 422: an Idempotency-Key resent with another value than the write it names. */
export const IDEMPOTENCY_KEY_REUSED = 'IdempotencyKeyReused';
export { STATE_CHANGING };

export interface ItemsDeps {
  /** The serving region (readRegion). */
  region: string;
  primaryRegion: string;
  writeMode: WriteMode;
  /** The local replica (reads). */
  local: ItemStore;
  /** The replica writes go to, by region (local or primary). */
  storeFor(region: string): ItemStore;
  /** The app state of a region's app-config replica, read strongly consistently at most STATE_CACHE_MS ago. */
  stateOf(region: string, signal?: AbortSignal): Promise<StateView>;
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

/**
 * 409 VersionConflict. `sentBefore` names the request's method when an earlier attempt of its write got no answer
 * and may have been applied before the item changed again: then "nothing was written" would be a guess.
 */
function conflict(id: string, expected: number, actual: ItemRecord | null, sentBefore?: string): HttpResponse {
  const exp = expected === 0 ? 'no item (expectedVersion 0)' : `version ${expected}`;
  const act = actual ? `version ${actual.version}` : 'no item';
  const after =
    sentBefore === 'PUT'
      ? 'your write may have been applied and then replaced by a newer one (or deleted): read the item (GET)'
      : sentBefore === 'DELETE'
        ? 'your delete may have been applied and the item written again since: read the item (GET)'
        : 'nothing was written';
  return {
    status: 409,
    body: {
      error: `version conflict on item ${JSON.stringify(id)}: expected ${exp}, found ${act}; ${after}`,
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

/** The app states in which this region may write to `targetRegion` (decideWrite, per state). */
export function statesAllowing(targetRegion: string, deps: Pick<ItemsDeps, 'writeMode' | 'region' | 'primaryRegion'>): string[] {
  return APP_STATES.filter((state) => {
    const d = decideWrite({ state, writeMode: deps.writeMode, region: deps.region, primaryRegion: deps.primaryRegion });
    return d.allowed && d.targetRegion === targetRegion;
  });
}

/** The answer for a PUT whose write is stored: `stored` is this request's item (version 1 = it created the item). */
function putAnswer(stored: ItemRecord, readRegion: string): HttpResponse {
  const created = stored.version === 1;
  return {
    status: created ? 201 : 200,
    body: { ...answer(stored, readRegion), created, previousVersion: created ? null : stored.version - 1 },
    headers: etag(stored.version),
  };
}

function deleteAnswer(deleted: ItemRecord, readRegion: string, deletedRegion: string): HttpResponse {
  return { status: 200, body: { ...answer(deleted, readRegion), deleted: true, deletedRegion }, headers: etag(deleted.version) };
}

function keyReused(id: string, stored: ItemRecord): HttpResponse {
  return fail(
    422,
    IDEMPOTENCY_KEY_REUSED,
    `the Idempotency-Key names the write that stored version ${stored.version} of item ${JSON.stringify(id)} with another value: a key stands for one write; send a new key for a new value. Nothing was written`,
  );
}

/**
 * A 5xx for a write whose outcome was unknown, saying what the read-back found (see the header). A PUT's also
 * carries the writeId its write was sent with, in the body and as `Idempotency-Key: "<writeId>"`, so that the client
 * can resend it as the same write even when the request had no key (the handler made one up).
 */
function withOutcome(res: HttpResponse, outcome: 'notApplied' | 'unknown', detail: string, writeId?: string): HttpResponse {
  const body = res.body as { error: string; errorType: string };
  if (writeId === undefined) return { ...res, body: { ...body, error: `${body.error}. ${detail}`, outcome } };
  return {
    ...res,
    body: { ...body, error: `${body.error}. ${detail}`, outcome, writeId },
    headers: { ...(res.headers ?? {}), [IDEMPOTENCY_KEY_HEADER]: idempotencyKeyValue(writeId) },
  };
}

/** What a PUT's 5xx tells the client to resend with: the header naming its writeId, and where that id came from. */
function resendWith(writeId: string, keyGiven: boolean): string {
  return `Idempotency-Key: ${idempotencyKeyValue(writeId)} (${keyGiven ? 'your key' : 'the write id this request was sent with; it had no key'})`;
}

/** What a PUT sent: its writeId, and the version it writes when that is known beforehand (expectedVersion given). */
interface SentWrite {
  writeId: string;
  version?: number;
}

/** True when the stored item is the write sent: its writeId (at its version, when that was known beforehand). */
function holdsSent(stored: ItemRecord | null, item: SentWrite): stored is ItemRecord {
  return !!stored && stored.writeId === item.writeId && (item.version === undefined || stored.version === item.version);
}

interface UnknownWrite {
  what: string;
  store: ItemStore;
  method: string;
  itemId: string;
  /** PUT: the write sent */
  item?: SentWrite;
  /** DELETE: the item the delete was sent for */
  current: ItemRecord | null;
  keyGiven: boolean;
  region: string;
  budget: Budget;
  ctx: FailureContext;
}

/**
 * The answer when whether the write was applied stays unknown (`why`: reading the item back failed): `err`'s answer
 * (failure) with outcome "unknown", saying how to find out; a PUT's names the writeId to resend with.
 */
function outcomeUnknown(err: unknown, w: UnknownWrite, why: string): HttpResponse {
  const { what, method, item, ctx } = w;
  const how =
    method === 'PUT' && item
      ? `read the item (GET): it holds this write if its value is yours; or resend it with ${resendWith(item.writeId, w.keyGiven)}: that is answered as this write while the item holds it, and writes it when it is not there`
      : 'read the item (GET): 404 means it is deleted';
  return withOutcome(failure(what, err, ctx, { mayHaveApplied: true }), 'unknown', `Whether it was ${method === 'PUT' ? 'stored' : 'deleted'} is unknown (${why}): ${how}`, item?.writeId);
}

/**
 * A write call that failed in a way that may have come after DynamoDB applied it (every reply lost, a timeout, a
 * 5xx, a throttle or a replicated-write conflict on the SDK's retry of an applied attempt): the item is read back
 * before answering. Found to hold this write (PUT), or gone (DELETE: the version it meant is gone, whoever removed
 * it — the rule the SDK's own retries follow) → the write's own answer. Still the item the write replaced → the
 * error with outcome "notApplied". Read-back failed, or a DELETE finding another version → outcome "unknown",
 * saying how to find out.
 */
async function resolveUnknown(err: unknown, w: UnknownWrite): Promise<HttpResponse> {
  const { what, store, method, itemId, item, current, region, budget, ctx } = w;
  let stored: ItemRecord | null;
  try {
    stored = await store.get(itemId, budget.signal);
  } catch {
    return outcomeUnknown(err, w, 'reading it back failed too');
  }
  if (method === 'PUT' && item && holdsSent(stored, item)) return putAnswer(stored, region);
  const answered = () => failure(what, err, ctx, { mayHaveApplied: true });
  if (method === 'DELETE' && current) {
    if (!stored) return deleteAnswer(current, region, store.region);
    if (!(stored.version === current.version && stored.writeId === current.writeId)) {
      return withOutcome(answered(), 'unknown', `The item now holds version ${stored.version}, another write: read it (GET) and decide`);
    }
  }
  if (method === 'PUT' && item) {
    const found = stored ? `it holds version ${stored.version}, not this write` : 'there is no such item';
    return withOutcome(
      answered(),
      'notApplied',
      `Read back: ${found}; nothing of this request is in effect. Resend it with ${resendWith(item.writeId, w.keyGiven)}: should this attempt still land, the resend is answered as it instead of writing again`,
      item.writeId,
    );
  }
  return withOutcome(answered(), 'notApplied', `Read back: it is still there at version ${stored?.version}; nothing of this request is in effect, sending it again is safe`);
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
  const idempotency = parseIdempotencyKey(req.headers['idempotency-key']);
  if ('problem' in idempotency) return bad(idempotency.problem);

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

  const writeId = idempotency.key ?? deps.newWriteId();
  /** After the written region answered with another state: decide with that one. */
  let decideWith: StateView | undefined;
  /** DELETE: the item a delete was sent for that got no clear answer (a conflict retried, or an unknown outcome). */
  let sentDelete: ItemRecord | undefined;
  let casRounds = 0;
  let stateRounds = 0;
  let conflicts = 0;
  /**
   * An attempt of this request's write may have been applied without its reply reaching the handler: a write call
   * the SDK made more than one attempt of (an earlier one's reply may have been lost), or one that ended without
   * DynamoDB's refusal (a timeout, a reset connection, a 5xx). From then on the handler reads the item back before
   * it sends the write again or answers that the write was not applied.
   */
  let mayHaveApplied = false;
  for (;;) {
    let view: StateView;
    try {
      view = decideWith ?? (await deps.stateOf(deps.region, budget.signal));
    } catch (err) {
      return failure('reading the app state', err, ctx);
    }
    const decision = decideWrite({
      state: view.state,
      writesFromMs: view.writesFromMs,
      nowMs: deps.now().getTime(),
      writeMode: deps.writeMode,
      region: deps.region,
      primaryRegion: deps.primaryRegion,
    });
    if (!decision.allowed) {
      return fail(503, decision.errorType, decision.message, { 'retry-after': String(decision.retryAfterS ?? STATE_RETRY_AFTER_S) });
    }
    const target = decision.targetRegion;
    if (target !== deps.region) {
      // the replica written to is another region's: its own state must allow this write too
      let there: StateView;
      try {
        there = await deps.stateOf(target, budget.signal);
      } catch (err) {
        return failure(`reading the app state in ${target}`, err, ctx);
      }
      if (!statesAllowing(target, deps).includes(there.state as string)) {
        stateRounds += 1;
        if (stateRounds > STATE_ATTEMPTS) {
          return fail(
            503,
            STATE_CHANGING,
            `the app state is changing: ${deps.region} reads ${JSON.stringify(view.state)} but ${target} holds ${JSON.stringify(there.state)}; nothing was written, retry shortly`,
            { 'retry-after': '5' },
          );
        }
        decideWith = there;
        continue;
      }
    }
    const store = deps.storeFor(target);
    const what = `writing the item to ${store.region}`;
    if (budget.expired()) return failure(what, new BudgetExhausted(), ctx);

    let ifVersion = 0;
    let item: SentWrite | undefined;
    let current: ItemRecord | null = null;
    let out: WriteOutcome;
    let writing = false;
    const unknownWrite = (): UnknownWrite => ({ what, store, method, itemId, item, current, keyGiven: idempotency.key !== undefined, region: deps.region, budget, ctx });
    try {
      if (method === 'PUT') {
        const fields = {
          id: itemId,
          value,
          updatedAt: deps.now().toISOString(),
          updatedRegion: store.region,
          ...(req.caller ? { updatedBy: req.caller } : {}),
          writeId,
        };
        writing = true;
        if (expectedVersion === undefined) {
          // one UpdateItem: the next version, whatever is stored (recognising this write if it is stored already)
          item = { writeId };
          out = await store.upsert(fields, budget.signalLeaving(READ_BACK_RESERVE_MS));
        } else {
          ifVersion = expectedVersion;
          item = { writeId, version: ifVersion + 1 };
          out = await store.put({ ...fields, version: ifVersion + 1 }, ifVersion, budget.signalLeaving(READ_BACK_RESERVE_MS));
        }
        // this write stored (possibly found stored: an earlier attempt, or a resend with the same Idempotency-Key)
        if (out.ok) return out.item.value === value ? putAnswer(out.item, deps.region) : keyReused(itemId, out.item);
      } else {
        current = await store.get(itemId, budget.signal);
        if (!current) {
          // gone after this request's own delete was sent without a clear answer: that delete (see the header)
          if (sentDelete) return deleteAnswer(sentDelete, deps.region, store.region);
          return fail(404, NOT_FOUND, `item ${JSON.stringify(itemId)} not found in ${store.region}; nothing was deleted`);
        }
        if (expectedVersion !== undefined && current.version !== expectedVersion) return conflict(itemId, expectedVersion, current, mayHaveApplied ? method : undefined);
        ifVersion = current.version;
        writing = true;
        out = await store.delete(current, budget.signalLeaving(READ_BACK_RESERVE_MS));
        if (out.ok) return deleteAnswer(out.item, deps.region, store.region);
      }
    } catch (err) {
      const refusedOnce = sdkAttempts(err) === 1 && ['writeConflict', 'throttled', 'misconfigured'].includes(classify(err));
      if (writing && !refusedOnce) mayHaveApplied = true;
      if (isRetryableConflict(err) && conflicts < CONFLICT_RETRIES) {
        // a conflict answered the last attempt; an earlier one may have been applied with its reply lost
        if (writing && method === 'DELETE' && current) sentDelete = current;
        conflicts += 1;
        // a try counts once it is made: a pause the budget refuses ends the loop without another one
        if (await budget.pause(backoffMs(conflicts, 25, 1000, deps.random))) {
          if (method === 'PUT' && item && mayHaveApplied) {
            // not sent again before reading it back: stored already, it is answered as done instead of being written
            // a second time (a DELETE reads the item at the top of every round anyway)
            let stored: ItemRecord | null;
            try {
              stored = await store.get(itemId, budget.signal);
            } catch {
              return outcomeUnknown(err, unknownWrite(), 'an earlier attempt got no answer, and reading the item back failed');
            }
            if (holdsSent(stored, item)) return stored.value === value ? putAnswer(stored, deps.region) : keyReused(itemId, stored);
          }
          ctx.tries = (ctx.tries ?? 1) + 1;
          continue;
        }
      }
      if (!writing) return failure(what, err, ctx);
      if (!mayHaveApplied && (isRetryableConflict(err) || classify(err) === 'misconfigured')) return failure(what, err, ctx);
      return resolveUnknown(err, unknownWrite());
    }

    const sentBefore = mayHaveApplied || out.attempts > 1;
    if (method === 'PUT' && item && sentBefore) {
      // the condition failed after an attempt that got no answer (the SDK's retry, or the handler's own after one):
      // that attempt may be the write that made it fail. The failed condition's item shows it (ALL_OLD); the item
      // is read back all the same, as for a lost reply, so that the answer never rests on that item alone
      let stored: ItemRecord | null;
      try {
        stored = await store.get(itemId, budget.signal);
      } catch (readErr) {
        return outcomeUnknown(
          readErr,
          { ...unknownWrite(), what: `reading the item back from ${store.region}` },
          'its condition failed after an attempt that got no answer, and reading it back failed',
        );
      }
      if (holdsSent(stored, item)) return stored.value === value ? putAnswer(stored, deps.region) : keyReused(itemId, stored);
      out = { ...out, actual: stored };
    }
    if (method === 'DELETE' && !out.actual) {
      return fail(404, NOT_FOUND, `item ${JSON.stringify(itemId)} not found in ${store.region}; nothing was deleted`);
    }
    casRounds += 1;
    if (expectedVersion !== undefined || casRounds >= CAS_ATTEMPTS) return conflict(itemId, expectedVersion ?? ifVersion, out.actual, sentBefore ? method : undefined);
  }
}

/** One app state cache per container, per table, cache time and endpoint (tests and the emulator change them). */
const stateCaches = new Map<string, StateCache>();

function newStateCache(cfg: HandlerConfig): StateCache {
  return stateCache({
    cacheMs: cfg.stateCacheMs,
    read: (region) => readAppState(documentClient(region, region === cfg.region ? {} : { kind: 'crossRegion' }), cfg.appConfigTable),
  });
}

function containerStateCache(cfg: HandlerConfig): StateCache {
  const key = `${cfg.region}|${cfg.appConfigTable}|${cfg.stateCacheMs}|${process.env.AWS_ENDPOINT_URL_DYNAMODB ?? ''}`;
  let cache = stateCaches.get(key);
  if (!cache) {
    cache = newStateCache(cfg);
    stateCaches.set(key, cache);
  }
  return cache;
}

/**
 * Builds the real dependencies from the environment contract (handlers/lib/env.ts). `newContainer` gives them a
 * state cache of their own, as a second Lambda execution environment has (tests racing several containers).
 */
export function itemsDeps(opts: { newContainer?: boolean } = {}): ItemsDeps {
  const cfg = loadConfig(['itemsTable', 'appConfigTable']);
  const local = dynamoItemStore(documentClient(cfg.region), cfg.itemsTable, cfg.region);
  const stores = new Map<string, ItemStore>([[cfg.region, local]]);
  const cache = opts.newContainer ? newStateCache(cfg) : containerStateCache(cfg);
  return {
    region: cfg.region,
    primaryRegion: cfg.primaryRegion,
    writeMode: cfg.writeMode,
    local,
    storeFor: (region) => {
      let store = stores.get(region);
      if (!store) {
        store = dynamoItemStore(documentClient(region, { kind: 'crossRegion' }), cfg.itemsTable, region);
        stores.set(region, store);
      }
      return store;
    },
    stateOf: (region, signal) => cache.get(region, signal),
    now: () => new Date(),
    newWriteId: () => randomUUID(),
    random: Math.random,
  };
}

export const handler = restHandler('items', (req, scope) => handleItems(req, itemsDeps(), scope));
