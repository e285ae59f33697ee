/**
 * Shared by the item resolvers (not an entry file itself): input checks and the pipeline functions' request and
 * response objects. Each pipeline function is a tiny entry file that only names its target (loadItemLocal.ts,
 * loadItemPrimary.ts, putItemLocal.ts, putItemPrimary.ts, deleteItemLocal.ts, deleteItemPrimary.ts): a function's
 * code cannot see which data source it is attached to, and the manifest attaches each file to the matching one.
 *
 * putItem / deleteItem pipeline: writeGuard (app state → decision) → loadItem (consistent GetItem of the item in
 * the target replica) → the write. Every write is conditional on the version the load saw, so the written item is
 * known exactly (TransactWriteItems returns no item) and nothing between the load and the write is overwritten
 * silently: a write that loses that race answers WriteConflict (retryable), or VersionConflict when the client gave
 * expectedVersion. An item is created with version 1 and every write adds 1.
 *
 * Fence window (issue 13 item 4). With `consistency: eventual` (the default) the write is ONE TransactWriteItems in
 * the target region: a ConditionCheck that the target replica's app-state item is still in a state allowing this
 * write (statesAllowingTarget in schema/rules.ts) plus the versioned UpdateItem / DeleteItem. So a write can never
 * commit after `fenced` (or `failover` in the primary) is stored in the replica it writes to. What remains is
 * replication: a state set through another region's replica reaches the target replica only after the global
 * table's replication lag (typically under a second), and writes committed meanwhile stand.
 * AppSync's TransactWriteItems names its tables, which must be in the data source's region and account
 * (https://docs.aws.amazon.com/appsync/latest/devguide/js-aws-appsync-resolver-reference-dynamodb-transact-write-items.html);
 * both tables have a replica in every region, and the data source roles hold dynamodb:ConditionCheckItem on the
 * app-config replica (components/appsyncApi.ts).
 * With `consistency: strong` the write is a plain conditional UpdateItem / DeleteItem: multi-Region strong
 * consistency tables do not support transactions
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/multi-region-strong-consistency-gt.html), so the
 * window between writeGuard's read and the write stays open (milliseconds; the read itself is strongly consistent
 * across regions there). DynamoDB's ReplicatedWriteConflictException answers WriteConflict, retryable.
 *
 * Idempotency (issue 13 item 1). Every write stores a write id: the client's `writeId` (PutItemInput) or, when it
 * gives none, util.autoId(). A putItem whose writeId is already the stored item's (a client retry of a write that
 * was applied but whose answer was lost) answers that item without writing again, whether the load sees it or the
 * transaction's failed condition returns it (returnValuesOnConditionCheckFailure). Without a client writeId a retry
 * is a new write (a new version). AppSync's own "treat a failed condition as success when the stored item equals
 * the desired one" rule does not apply to transactions, and our items never equal a new write anyway (the version
 * moves). deleteItem is idempotent by nature: deleting a missing item answers null.
 *
 * Caller (issue 10): the write stores `updatedBy`, the caller's subject: ctx.identity.resolverContext.sub (AWS_LAMBDA
 * authorizer) or ctx.identity.sub (Cognito / OIDC); a write without one (API key, IAM) removes it.
 */
import { type Context, util, runtime } from '@aws-appsync/utils';
import { APP_STATE_ID, BAD_INPUT, VERSION_CONFLICT, WRITE_CONFLICT, decideWrite, idProblem, statesAllowingTarget, valueProblem, writeIdProblem } from '../rules';
import { SETTINGS } from './settings';

export type Target = 'local' | 'primary';

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

/** Skips this function (pass the previous result through) unless the stashed decision targets it. */
function skipUnlessTarget(ctx: Context, target: Target) {
  const decision = ctx.stash.decision;
  if (!decision || decision.allowed !== true) {
    util.error('internal: no write decision was stashed before the write function', 'InternalFailure');
  }
  if (decision.target !== target) {
    runtime.earlyReturn(ctx.prev.result);
  }
  return decision;
}

function strong(): boolean {
  return SETTINGS.consistency === 'strong';
}

/** The caller's subject (issue 10), or null: AWS_LAMBDA authorizers put it in resolverContext, Cognito/OIDC in sub. */
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

/** The ConditionCheck on the target replica's app-state item: still a state that allows this very write. */
function fenceCheck(decision: Record<string, unknown>) {
  const states = statesAllowingTarget({ writeMode: SETTINGS.writeMode, region: SETTINGS.region, primaryRegion: SETTINGS.primaryRegion }, decision.target === 'primary' ? 'primary' : 'local');
  const values: Record<string, unknown> = {};
  const names: string[] = [];
  states.forEach((state, i) => {
    values[`:allowed${i}`] = state;
    names.push(`:allowed${i}`);
  });
  return {
    table: tableName('appConfigTable'),
    operation: 'ConditionCheck',
    key: util.dynamodb.toMapValues({ id: APP_STATE_ID }),
    condition: {
      expression: `#state IN (${names.join(', ')})`,
      expressionNames: { '#state': 'state' },
      expressionValues: util.dynamodb.toMapValues(values),
      returnValuesOnConditionCheckFailure: true,
    },
  };
}

function tableName(which: 'itemsTable' | 'appConfigTable'): string {
  const name = SETTINGS[which];
  if (!name) {
    util.error(`internal: the resolver settings lack ${which} (components/bundle.ts ResolverSettings)`, 'InternalFailure');
  }
  return name as string;
}

/** Errors every write answers the same way: replicated-write and transaction conflicts are retryable. */
function raiseWriteError(ctx: Context, id: string, type: string): never {
  if (type === 'DynamoDB:ReplicatedWriteConflictException' || type === 'DynamoDB:TransactionConflictException') {
    util.error(
      `item ${JSON.stringify(id)} is being written by another request at the same moment (${type.slice('DynamoDB:'.length)}): nothing was written; retry`,
      WRITE_CONFLICT,
      null,
      { retryable: true },
    );
  }
  return util.error(ctx.error ? ctx.error.message : type, type);
}

/** A cancelled transaction whose ConditionCheck on the app state failed: the state changed since writeGuard read it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function raiseFenced(ctx: Context, reason: Record<string, any>) {
  const stored = reason.item ? reason.item.state : null;
  const decision = ctx.stash.decision;
  const now = decideWrite({ state: stored, writeMode: SETTINGS.writeMode, region: SETTINGS.region, primaryRegion: SETTINGS.primaryRegion });
  if (!now.allowed) {
    util.error(`${now.message} (the app state in ${decision.targetRegion} changed to ${stored ?? 'missing'} while writing)`, now.errorType);
  }
  util.error(
    `the app state in ${decision.targetRegion} changed to ${stored} while writing, which sends writes elsewhere: nothing was written; retry`,
    WRITE_CONFLICT,
    null,
    { retryable: true },
  );
}

/** The cancellation reasons of a cancelled TransactWriteItems ([0] the fence check, [1] the write), or null. */
function cancellation(ctx: Context) {
  if (ctx.error && ctx.error.type === 'DynamoDB:TransactionCanceledException' && ctx.result && ctx.result.cancellationReasons) {
    return ctx.result.cancellationReasons;
  }
  return null;
}

/** True when the reason lists a failed condition. */
function conditionFailed(reason: Record<string, unknown> | null | undefined): boolean {
  return !!reason && (reason.type === 'ConditionalCheckFailed' || reason.type === 'ConditionalCheckFailedException');
}

export function putRequest(ctx: Context, target: Target) {
  const decision = skipUnlessTarget(ctx, target);
  const input = ctx.args.input;
  const current = loadedItem(ctx);
  ctx.stash.wrote = true;
  if (current && input.writeId && current.writeId === input.writeId) {
    // a retry of a write that is already stored: answer it, write nothing
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
  const update = { expression: expression, expressionNames: names, expressionValues: util.dynamodb.toMapValues(values) };
  const key = util.dynamodb.toMapValues({ id: input.id });
  if (strong()) {
    return { operation: 'UpdateItem', key: key, update: update, condition: unchangedCondition(current) };
  }
  const condition: Record<string, unknown> = unchangedCondition(current);
  condition.returnValuesOnConditionCheckFailure = true;
  return {
    operation: 'TransactWriteItems',
    transactItems: [fenceCheck(decision), { table: tableName('itemsTable'), operation: 'UpdateItem', key: key, update: update, condition: condition }],
  };
}

function versionConflictMessage(id: string, expected: number): string {
  return `item ${JSON.stringify(id)} is not at version ${expected} (expectedVersion ${expected}): it was changed or deleted since; read it again and retry; nothing was written`;
}

/** The item changed between loadItem and the write (stored = what is there now, when known). */
function raiseItemChanged(ctx: Context, id: string, expected: unknown, stored: Record<string, unknown> | null, verb: string) {
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

/**
 * A failed write of putItem / deleteItem: raises the GraphQL error for every failure (fenced, conflict, other) but one
 * — the item's own condition failed inside the transaction — and returns the item stored then (null when absent),
 * which the caller recognises as its own earlier write (a retry) or answers as changed.
 */
function itemConditionFailure(ctx: Context, id: string, expected: unknown, verb: string): { stored: Record<string, unknown> | null } {
  const type = ctx.error ? ctx.error.type : '';
  const reasons = cancellation(ctx);
  if (reasons) {
    if (conditionFailed(reasons[0])) {
      raiseFenced(ctx, reasons[0]);
    }
    if (conditionFailed(reasons[1])) {
      return { stored: reasons[1].item ?? null };
    }
    if (reasons[0].type === 'TransactionConflict' || reasons[1].type === 'TransactionConflict') {
      raiseWriteError(ctx, id, 'DynamoDB:TransactionConflictException');
    }
  }
  if (type === 'DynamoDB:ConditionalCheckFailedException') {
    raiseItemChanged(ctx, id, expected, null, verb);
  }
  return raiseWriteError(ctx, id, type);
}

export function putResponse(ctx: Context) {
  const input = ctx.args.input;
  if (ctx.error) {
    const failed = itemConditionFailure(ctx, input.id, input.expectedVersion, 'written');
    if (failed.stored && failed.stored.writeId === ctx.stash.writeId) {
      return failed.stored;
    }
    raiseItemChanged(ctx, input.id, input.expectedVersion, failed.stored, 'written');
  }
  return strong() ? ctx.result : ctx.stash.written;
}

export function deleteRequest(ctx: Context, target: Target) {
  const decision = skipUnlessTarget(ctx, target);
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
  const key = util.dynamodb.toMapValues({ id: ctx.args.id });
  if (strong()) {
    return { operation: 'DeleteItem', key: key, condition: unchangedCondition(current) };
  }
  const condition: Record<string, unknown> = unchangedCondition(current);
  condition.returnValuesOnConditionCheckFailure = true;
  return {
    operation: 'TransactWriteItems',
    transactItems: [fenceCheck(decision), { table: tableName('itemsTable'), operation: 'DeleteItem', key: key, condition: condition }],
  };
}

export function deleteResponse(ctx: Context) {
  const id = ctx.args.id;
  if (ctx.error) {
    const failed = itemConditionFailure(ctx, id, ctx.args.expectedVersion, 'deleted');
    if (!failed.stored) {
      // deleted by another request meanwhile: gone, as asked
      return null;
    }
    raiseItemChanged(ctx, id, ctx.args.expectedVersion, failed.stored, 'deleted');
  }
  return strong() ? (ctx.result ?? null) : ctx.stash.current;
}

/** Pipeline resolver `after` of both mutations: the write function's result. */
export function writeResult(ctx: Context) {
  if (ctx.stash.wrote !== true) {
    util.error('internal: no write function accepted the write decision', 'InternalFailure');
  }
  return ctx.prev.result ?? null;
}
