/**
 * Shared by the item resolvers (not an entry file itself): input checks and the write functions' request and
 * response objects. The local and primary write functions are two tiny entry files each (putItemLocal.ts,
 * putItemPrimary.ts, deleteItemLocal.ts, deleteItemPrimary.ts) that only name their target: a function's code
 * cannot see which data source it is attached to, and the manifest attaches each file to the matching one.
 *
 * Versioning: an item is created with version 1 and every write adds 1 (DynamoDB ADD, atomic). With
 * expectedVersion the write carries a condition — 0: attribute_not_exists(id); n > 0: version = n — so two
 * writers holding the same version against the same replica can never both succeed; the loser gets
 * VersionConflict. Across regions in multi-master mode each region checks its own replica, and concurrent writes
 * to one id are reconciled by global-table replication, last writer wins (writeMode primary sends every write to
 * one replica, where the condition orders them all). Without
 * expectedVersion a put is an explicit last-writer-wins update (still a fresh version number per write).
 * deleteItem: without expectedVersion deletes unconditionally; with it, only when the stored version matches or
 * the item is already gone. Deleting a missing item returns null (deletes are idempotent).
 */
import { type Context, util, runtime } from '@aws-appsync/utils';
import { BAD_INPUT, VERSION_CONFLICT, idProblem, valueProblem } from '../rules';

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
  const problem = idProblem(input.id) ?? valueProblem(input.value) ?? expectedVersionProblem(input.expectedVersion);
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

/** Skips this write function (pass the previous result through) unless the stashed decision targets it. */
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

export function putRequest(ctx: Context, target: Target) {
  const decision = skipUnlessTarget(ctx, target);
  const input = ctx.args.input;
  const names: Record<string, string> = { '#value': 'value', '#updatedAt': 'updatedAt', '#updatedRegion': 'updatedRegion', '#version': 'version' };
  const values: Record<string, unknown> = { ':value': input.value, ':updatedAt': util.time.nowISO8601(), ':updatedRegion': decision.targetRegion, ':one': 1 };
  const req: Record<string, unknown> = {
    operation: 'UpdateItem',
    key: util.dynamodb.toMapValues({ id: input.id }),
    update: {
      expression: 'SET #value = :value, #updatedAt = :updatedAt, #updatedRegion = :updatedRegion ADD #version :one',
      expressionNames: names,
      expressionValues: util.dynamodb.toMapValues(values),
    },
  };
  const expected = input.expectedVersion;
  if (expected === 0) {
    req.condition = { expression: 'attribute_not_exists(#id)', expressionNames: { '#id': 'id' } };
  }
  if (typeof expected === 'number' && expected > 0) {
    // The condition's own placeholder: AppSync merges update and condition maps and refuses duplicates.
    req.condition = {
      expression: '#expectedVersion = :expected',
      expressionNames: { '#expectedVersion': 'version' },
      expressionValues: util.dynamodb.toMapValues({ ':expected': expected }),
    };
  }
  ctx.stash.wrote = true;
  return req;
}

export function putResponse(ctx: Context) {
  if (ctx.error) {
    if (ctx.error.type === 'DynamoDB:ConditionalCheckFailedException') {
      const id = ctx.args.input.id;
      const expected = ctx.args.input.expectedVersion;
      util.error(
        expected === 0
          ? `item ${JSON.stringify(id)} already exists (expectedVersion 0 means it must not exist yet); nothing was written`
          : `item ${JSON.stringify(id)} is not at version ${expected} (expectedVersion ${expected}): it was changed or deleted since; read it again and retry; nothing was written`,
        VERSION_CONFLICT,
      );
    }
    util.error(ctx.error.message, ctx.error.type);
  }
  return ctx.result;
}

export function deleteRequest(ctx: Context, target: Target) {
  skipUnlessTarget(ctx, target);
  const req: Record<string, unknown> = { operation: 'DeleteItem', key: util.dynamodb.toMapValues({ id: ctx.args.id }) };
  const expected = ctx.args.expectedVersion;
  if (typeof expected === 'number') {
    req.condition = {
      expression: 'attribute_not_exists(#id) OR #version = :expected',
      expressionNames: { '#id': 'id', '#version': 'version' },
      expressionValues: util.dynamodb.toMapValues({ ':expected': expected }),
    };
  }
  ctx.stash.wrote = true;
  return req;
}

export function deleteResponse(ctx: Context) {
  if (ctx.error) {
    if (ctx.error.type === 'DynamoDB:ConditionalCheckFailedException') {
      const expected = ctx.args.expectedVersion;
      util.error(
        `item ${JSON.stringify(ctx.args.id)} is not at version ${expected} (expectedVersion ${expected}): it was changed since; read it again and retry; nothing was deleted`,
        VERSION_CONFLICT,
      );
    }
    util.error(ctx.error.message, ctx.error.type);
  }
  return ctx.result ?? null;
}

/** Pipeline resolver `after` of both mutations: the write function's result. */
export function writeResult(ctx: Context) {
  if (ctx.stash.wrote !== true) {
    util.error('internal: no write function accepted the write decision', 'InternalFailure');
  }
  return ctx.prev.result ?? null;
}
