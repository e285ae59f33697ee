/**
 * Shared by the item resolvers (not an entry file itself): input checks and the pipeline functions' request and
 * response objects. Each pipeline function is a tiny entry file that only names its target (loadItemLocal.ts,
 * loadItemPrimary.ts, putItemLocal.ts, putItemPrimary.ts, deleteItemLocal.ts, deleteItemPrimary.ts,
 * confirmItemLocal.ts, confirmItemPrimary.ts): a function's code cannot see which data source it is attached to,
 * and the manifest attaches each file to the matching one.
 *
 * putItem / deleteItem pipeline: writeGuard (the local app state → decision) → targetGuard (writeMode primary,
 * outside the primary: the primary replica's app state must allow the same write) → loadItem (consistent GetItem of
 * the item in the target replica) → the write → confirmItem (only after a failed write: reads the item back).
 * Every write is one plain conditional UpdateItem / DeleteItem of its own item, conditional on the version the load
 * saw, so nothing between the load and the write is overwritten silently: a write that loses that race answers
 * WriteConflict (retryable), or VersionConflict when the client gave expectedVersion. An item is created with
 * version 1 and every write adds 1.
 *
 * The fence is a bound, not a transaction: no write includes the app-state item (an item every write touched would
 * make DynamoDB cancel concurrent writes, TransactionConflict, capping a region at tens of writes a second). The
 * state is read strongly consistently at the start of the very pipeline that writes, so a write commits at most
 * one GraphQL request (AppSync's 30 s limit) after a fence is visible in the replica written to (writeBoundMs in
 * schema/rules.ts). With `consistency: strong` (MRSC) the same holds, the state read then seeing every region's
 * latest; DynamoDB's ReplicatedWriteConflictException answers WriteConflict, retryable.
 *
 * Idempotency. Every write stores a write id: the client's `writeId` (PutItemInput) or, when it gives none,
 * util.autoId(). A putItem whose writeId is already the stored item's (a client retry of a write that was applied
 * but whose answer was lost) answers that item without writing again (another value under the same writeId:
 * IdempotencyKeyReused). Without a client writeId a retry is a new write (a new version). deleteItem is idempotent
 * by nature: deleting a missing item answers null.
 *
 * A failed write is read back before it is answered (confirmItem): a failed condition that finds the item holding
 * this very write (it landed between the load and the write, or an earlier attempt's answer was lost) answers it;
 * any other failure but a replicated-write conflict may have come after DynamoDB applied the write, so the answer
 * says what the read found: the write itself, or errorInfo `outcome: "notApplied"` (the item does not hold it / is
 * still there), or `outcome: "unknown"` when the read failed too. A putItem's errorInfo also carries `writeId`, the
 * id its write was sent with (the client's, or the util.autoId() it got), and the message says to repeat the
 * mutation with it: only then is a write that lands late, or did land, answered instead of written again.
 *
 * Caller: the write stores `updatedBy`, the caller's subject: ctx.identity.resolverContext.sub (AWS_LAMBDA
 * authorizer) or ctx.identity.sub (Cognito / OIDC); a write without one (API key, IAM) removes it.
 */
import { type Context, util, runtime } from '@aws-appsync/utils';
import { APP_STATE_ID, BAD_INPUT, STATE_CHANGING, VERSION_CONFLICT, WRITE_CONFLICT, idProblem, statesAllowingTarget, valueProblem, writeIdProblem } from '../rules';
import { SETTINGS } from './settings';
import { decideHere } from './decideHere';

export type Target = 'local' | 'primary';

/** A writeId resent with another value than the write it names (REST answers the same error as 422). */
export const IDEMPOTENCY_KEY_REUSED = 'IdempotencyKeyReused';

/** Rejects a bad expectedVersion (null/undefined = not given). Returns an error message or null. */
export function expectedVersionProblem(expected: unknown): string | null {
  if (expected === undefined || expected === null) {
    return null;
  }
  if (typeof expected !== 'number' || expected < 0 || Math.floor(expected) !== expected) {
    return `expectedVersion ${expected} is invalid: give 0 (the item must not exist yet) or the version you last read (1 or more)`;
  }
  return null;
}

/** Pipeline resolver `before` for putItem: validate everything before any read or write. */
export function checkPutInput(ctx: Context) {
  const input = ctx.args.input ?? {};
  const problem = idProblem(input.id) ?? valueProblem(input.value) ?? expectedVersionProblem(input.expectedVersion) ?? writeIdProblem(input.writeId);
  if (problem !== null) {
    util.error(problem, BAD_INPUT);
  }
  return {};
}

/** Pipeline resolver `before` for deleteItem. */
export function checkDeleteInput(ctx: Context) {
  const problem = idProblem(ctx.args.id) ?? expectedVersionProblem(ctx.args.expectedVersion);
  if (problem !== null) {
    util.error(problem, BAD_INPUT);
  }
  return {};
}

/** The decision writeGuard stashed; a function running without one is a pipeline mistake. */
function stashedDecision(ctx: Context) {
  const decision = ctx.stash.decision;
  if (!decision || decision.allowed !== true) {
    util.error('internal: no write decision was stashed before the write function', 'InternalFailure');
  }
  return decision;
}

/** Skips this function (pass the previous result through) unless the stashed decision targets it. */
function skipUnlessTarget(ctx: Context, target: Target) {
  const decision = stashedDecision(ctx);
  if (decision.target !== target) {
    runtime.earlyReturn(ctx.prev.result);
  }
  return decision;
}

/** The caller's subject, or null: AWS_LAMBDA authorizers put it in resolverContext, Cognito/OIDC in sub. */
export function callerSub(ctx: Context): string | null {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const identity = ctx.identity as Record<string, any> | null | undefined;
  if (!identity) {
    return null;
  }
  const rc = identity.resolverContext;
  if (rc && typeof rc.sub === 'string' && rc.sub.length > 0) {
    return rc.sub;
  }
  if (typeof identity.sub === 'string' && identity.sub.length > 0) {
    return identity.sub;
  }
  return null;
}

/** The id of the item a mutation writes (putItem: input.id; deleteItem: id). */
function targetId(ctx: Context): string {
  return ctx.args.input ? ctx.args.input.id : ctx.args.id;
}

/**
 * targetGuard request (on primaryAppConfig): in writeMode primary outside the primary region, the write goes to the
 * primary's replica, so the primary replica's app state is read too (consistent GetItem); skipped otherwise (the
 * state writeGuard read is then the written replica's own).
 */
export function targetGuardRequest(ctx: Context) {
  const decision = stashedDecision(ctx);
  if (decision.target !== 'primary' || SETTINGS.region === SETTINGS.primaryRegion) {
    runtime.earlyReturn(ctx.prev.result);
  }
  return { operation: 'GetItem', key: util.dynamodb.toMapValues({ id: APP_STATE_ID }), consistentRead: true };
}

/** targetGuard response: the primary's state must allow the very write writeGuard decided on. */
export function targetGuardResponse(ctx: Context) {
  if (ctx.error) {
    util.error(`the app state of the primary region ${SETTINGS.primaryRegion} could not be read, so the write was not attempted: ${ctx.error.message}`, ctx.error.type);
  }
  const item = ctx.result ?? null;
  const stored = item === null ? null : item.state;
  const allowed = statesAllowingTarget({ writeMode: SETTINGS.writeMode, region: SETTINGS.region, primaryRegion: SETTINGS.primaryRegion }, 'primary');
  if (allowed.indexOf(stored) < 0) {
    const there = decideHere(item);
    if (!there.allowed) {
      util.error(`${there.message} (the app state in ${SETTINGS.primaryRegion} is ${stored ?? 'missing'})`, there.errorType);
    }
    util.error(
      `the app state in ${SETTINGS.primaryRegion} is ${stored}, not what ${SETTINGS.region} reads (a state change replicating), and it sends writes elsewhere: nothing was written; retry`,
      STATE_CHANGING,
      null,
      { retryable: true },
    );
  }
  return ctx.prev.result;
}

/** loadItem request: consistent GetItem of the item in the target replica (this function's data source). */
export function loadRequest(ctx: Context, target: Target) {
  skipUnlessTarget(ctx, target);
  return { operation: 'GetItem', key: util.dynamodb.toMapValues({ id: targetId(ctx) }), consistentRead: true };
}

/** loadItem response: stashes the stored item (or null) as ctx.stash.current. */
export function loadResponse(ctx: Context) {
  if (ctx.error) {
    util.error(`the item could not be read, so the write was not attempted: ${ctx.error.message}`, ctx.error.type);
  }
  ctx.stash.current = ctx.result ?? null;
  ctx.stash.loaded = true;
  return ctx.prev.result;
}

function loadedItem(ctx: Context) {
  if (ctx.stash.loaded !== true) {
    util.error('internal: the write function ran before loadItem', 'InternalFailure');
  }
  return ctx.stash.current;
}

/** The condition that the stored item is still the one loadItem saw (own placeholders: AppSync refuses duplicates). */
function unchangedCondition(current: Record<string, unknown> | null) {
  if (!current) {
    return { expression: 'attribute_not_exists(#cId)', expressionNames: { '#cId': 'id' } };
  }
  if (typeof current.version !== 'number') {
    return { expression: 'attribute_exists(#cId) AND attribute_not_exists(#cVersion)', expressionNames: { '#cId': 'id', '#cVersion': 'version' } };
  }
  return {
    expression: '#cVersion = :cVersion',
    expressionNames: { '#cVersion': 'version' },
    expressionValues: util.dynamodb.toMapValues({ ':cVersion': current.version }),
  };
}

/** A replicated-write conflict (MRSC: another region writes the item) was not applied: retryable at once. */
function isReplicatedConflict(type: string): boolean {
  return type === 'DynamoDB:ReplicatedWriteConflictException' || type === 'DynamoDB:TransactionConflictException';
}

function raiseConflict(id: string, type: string): never {
  return util.error(
    `item ${JSON.stringify(id)} is being written by another request at the same moment (${type.slice('DynamoDB:'.length)}): nothing was written; retry`,
    WRITE_CONFLICT,
    null,
    { retryable: true },
  );
}

function keyReused(id: string, stored: Record<string, unknown>) {
  util.error(
    `writeId names the write that stored version ${stored.version} of item ${JSON.stringify(id)} with another value: a writeId stands for one write; send a new one for a new value. Nothing was written`,
    IDEMPOTENCY_KEY_REUSED,
  );
}

/**
 * The write function's response: success → its result; a replicated-write conflict → WriteConflict; any other
 * failure is stashed for confirmItem, which reads the item back before answering.
 */
function afterWrite(ctx: Context, id: string) {
  if (ctx.error) {
    if (isReplicatedConflict(ctx.error.type)) {
      raiseConflict(id, ctx.error.type);
    }
    ctx.stash.writeError = { type: ctx.error.type, message: ctx.error.message };
    return null;
  }
  return ctx.result ?? null;
}

export function putRequest(ctx: Context, target: Target) {
  const decision = skipUnlessTarget(ctx, target);
  const input = ctx.args.input;
  const current = loadedItem(ctx);
  ctx.stash.wrote = true;
  if (current && input.writeId && current.writeId === input.writeId) {
    // a retry of a write that is already stored: answer it, write nothing
    if (current.value !== input.value) {
      keyReused(input.id, current);
    }
    runtime.earlyReturn(current);
  }
  const expected = input.expectedVersion;
  if (expected === 0 && current) {
    util.error(`item ${JSON.stringify(input.id)} already exists (expectedVersion 0 means it must not exist yet); nothing was written`, VERSION_CONFLICT);
  }
  if (typeof expected === 'number' && expected > 0 && (!current || current.version !== expected)) {
    util.error(versionConflictMessage(input.id, expected), VERSION_CONFLICT);
  }
  const version = (current && typeof current.version === 'number' ? current.version : 0) + 1;
  const writeId = input.writeId ? input.writeId : util.autoId();
  const sub = callerSub(ctx);
  const item: Record<string, unknown> = { id: input.id, value: input.value, version: version, updatedAt: util.time.nowISO8601(), updatedRegion: decision.targetRegion };
  if (sub !== null) {
    item.updatedBy = sub;
  }
  ctx.stash.writeId = writeId;
  ctx.stash.written = item;
  const names: Record<string, string> = { '#value': 'value', '#updatedAt': 'updatedAt', '#updatedRegion': 'updatedRegion', '#version': 'version', '#writeId': 'writeId', '#updatedBy': 'updatedBy' };
  const values: Record<string, unknown> = { ':value': item.value, ':updatedAt': item.updatedAt, ':updatedRegion': item.updatedRegion, ':version': version, ':writeId': writeId };
  let expression = 'SET #value = :value, #updatedAt = :updatedAt, #updatedRegion = :updatedRegion, #version = :version, #writeId = :writeId';
  if (sub !== null) {
    values[':updatedBy'] = sub;
    expression = `${expression}, #updatedBy = :updatedBy`;
  } else {
    expression = `${expression} REMOVE #updatedBy`;
  }
  return {
    operation: 'UpdateItem',
    key: util.dynamodb.toMapValues({ id: input.id }),
    update: { expression: expression, expressionNames: names, expressionValues: util.dynamodb.toMapValues(values) },
    condition: unchangedCondition(current),
  };
}

function versionConflictMessage(id: string, expected: number): string {
  return `item ${JSON.stringify(id)} is not at version ${expected} (expectedVersion ${expected}): it was changed or deleted since; read it again and retry; nothing was written`;
}

/** The item changed between loadItem and the write (stored = what is there now, when known). */
function raiseItemChanged(id: string, expected: unknown, stored: Record<string, unknown> | null, verb: string) {
  if (typeof expected === 'number') {
    util.error(expected === 0 ? `item ${JSON.stringify(id)} already exists (expectedVersion 0 means it must not exist yet); nothing was ${verb}` : versionConflictMessage(id, expected), VERSION_CONFLICT);
  }
  util.error(
    `item ${JSON.stringify(id)} was changed by another write while this one was applied${stored ? ` (now version ${stored.version})` : ''}: nothing was ${verb}; retry`,
    WRITE_CONFLICT,
    null,
    { retryable: true },
  );
}

export function putResponse(ctx: Context) {
  return afterWrite(ctx, ctx.args.input.id);
}

export function deleteRequest(ctx: Context, target: Target) {
  skipUnlessTarget(ctx, target);
  const current = loadedItem(ctx);
  ctx.stash.wrote = true;
  if (!current) {
    // nothing to delete: deletes are idempotent
    runtime.earlyReturn(null);
  }
  const expected = ctx.args.expectedVersion;
  if (typeof expected === 'number' && current.version !== expected) {
    util.error(
      `item ${JSON.stringify(ctx.args.id)} is not at version ${expected} (expectedVersion ${expected}): it was changed since; read it again and retry; nothing was deleted`,
      VERSION_CONFLICT,
    );
  }
  return { operation: 'DeleteItem', key: util.dynamodb.toMapValues({ id: ctx.args.id }), condition: unchangedCondition(current) };
}

export function deleteResponse(ctx: Context) {
  return afterWrite(ctx, ctx.args.id);
}

/** confirmItem request: after a failed write only, a consistent GetItem of the item in the target replica. */
export function confirmRequest(ctx: Context, target: Target) {
  skipUnlessTarget(ctx, target);
  if (!ctx.stash.writeError) {
    runtime.earlyReturn(ctx.prev.result);
  }
  return { operation: 'GetItem', key: util.dynamodb.toMapValues({ id: targetId(ctx) }), consistentRead: true };
}

/**
 * The write's own error, with what the read-back found (errorInfo.outcome), raised. A putItem's also carries
 * errorInfo.writeId, the id its write was sent with (util.autoId() when the mutation gave none), to repeat it with.
 */
function raiseOutcome(ctx: Context, outcome: string, detail: string) {
  const failed = ctx.stash.writeError;
  const info: Record<string, unknown> = outcome === 'unknown' ? { outcome: outcome } : { outcome: outcome, retryable: true };
  if (ctx.args.input) {
    info.writeId = ctx.stash.writeId;
  }
  util.error(`${failed.message}. ${detail}`, failed.type, null, info);
}

/** How to repeat a putItem as the same write: the writeId it was sent with, and where that id came from. */
function repeatWith(ctx: Context): string {
  const given = ctx.args.input.writeId ? 'yours' : 'the one this write was sent with; the mutation had none';
  return `writeId ${JSON.stringify(ctx.stash.writeId)} (${given})`;
}

/** confirmItem response: what the item read back says about the failed write (see the header). */
export function confirmResponse(ctx: Context) {
  const failed = ctx.stash.writeError;
  const conditionFailed = failed.type === 'DynamoDB:ConditionalCheckFailedException';
  const put = !!ctx.args.input;
  const id = targetId(ctx);
  const expected = put ? ctx.args.input.expectedVersion : ctx.args.expectedVersion;
  const verb = put ? 'written' : 'deleted';
  if (ctx.error) {
    if (conditionFailed) {
      // a failed condition wrote nothing, whatever the read says
      raiseItemChanged(id, expected, null, verb);
    }
    raiseOutcome(
      ctx,
      'unknown',
      `Whether the item was ${verb} is unknown (reading it back failed too: ${ctx.error.type}): ${put ? `read it (getItem), or repeat the mutation with ${repeatWith(ctx)}, which is answered as this write while the item holds it and writes it when it is not there` : 'read it (getItem): null means it is deleted'}`,
    );
  }
  const stored = ctx.result ?? null;
  const current = ctx.stash.current;
  if (put) {
    const written = ctx.stash.written;
    if (stored && stored.writeId === ctx.stash.writeId && stored.version === written.version) {
      return stored;
    }
    if (conditionFailed) {
      raiseItemChanged(id, expected, stored, verb);
    }
    raiseOutcome(
      ctx,
      'notApplied',
      `Read back: ${stored ? `the item holds version ${stored.version}, not this write` : 'there is no such item'}; nothing of this mutation is in effect. Repeat it with ${repeatWith(ctx)}: should this attempt still land, the repeat is answered as it instead of writing again`,
    );
  }
  if (!stored) {
    // gone: deleted by this request (an unanswered attempt) or by another one meanwhile, as asked either way
    return conditionFailed ? null : current;
  }
  if (conditionFailed) {
    raiseItemChanged(id, expected, stored, verb);
  }
  if (stored.version === current.version && stored.writeId === current.writeId) {
    raiseOutcome(ctx, 'notApplied', `Read back: the item is still there at version ${stored.version}; nothing was deleted, repeating it is safe`);
  }
  return raiseOutcome(ctx, 'unknown', `The item now holds version ${stored.version}, another write: read it (getItem) and decide`);
}

/** Pipeline resolver `after` of both mutations: the write function's result. */
export function writeResult(ctx: Context) {
  if (ctx.stash.wrote !== true) {
    util.error('internal: no write function accepted the write decision', 'InternalFailure');
  }
  return ctx.prev.result ?? null;
}
