/**
 * The items table through the DocumentClient, as the items handler needs it: strongly consistent reads and
 * guarded, versioned, idempotent writes.
 *
 * Versioned: every write carries a condition on the version it read (or on the item's absence), so two concurrent
 * writers to the same replica never silently overwrite each other: the loser gets `version`. The condition is
 * evaluated by the one replica written to, so in `eventual` consistency this holds within one region; across
 * regions in `multi-master` two writes to the same id can both succeed and global-table replication keeps the
 * last writer's item. With `strong` consistency (MRSC) every replica takes part in each write, so the condition
 * holds across regions too.
 *
 * Guarded (the fence): the write commits only while the app state item in the app-config table *of the region
 * written to* is one of `guard.allowedStates`. In `eventual` mode that is one TransactWriteItems: a ConditionCheck
 * on the state item plus the versioned Put/Delete, so a fence set in that region before the write commits refuses
 * it. MRSC tables take no transactions (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_HowItWorks.html,
 * "Multi-Region strong consistency"), so in `strong` mode the state is read strongly consistently right before a
 * conditional write: the window left is that one round trip (README, "Fence and replication windows").
 *
 * Idempotent: the item carries the request's `writeId`. When the SDK retries a write whose reply was lost, the
 * retry finds the write already done: a transaction's ClientRequestToken makes DynamoDB answer the retry as the
 * original (for 10 minutes: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html),
 * and a failed condition answers the stored item (ReturnValuesOnConditionCheckFailure: ALL_OLD), which is the
 * request's own write when it carries its writeId and version. A retried delete that finds the item gone after
 * an unanswered attempt is the request's own delete.
 *
 * IAM: the ConditionCheck needs `dynamodb:ConditionCheckItem` on the app-config table of every region the function
 * writes to (its own, and the primary's in writeMode `primary`); strong mode reads that state item (GetItem)
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html).
 * Reads are always strongly consistent (ConsistentRead): the local replica's latest, or with MRSC the latest
 * write from any region.
 */
import { randomUUID } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { APP_STATE_ID } from '../../schema/rules';
import { errorName, isConditionFailed, sdkAttempts } from './dynamo';
import type { Consistency } from './env';

export interface ItemRecord {
  id: string;
  value: string;
  version: number;
  updatedAt: string;
  updatedRegion: string;
  /** the caller's subject, when the request had one */
  updatedBy?: string;
  /** the id of the request that wrote this version (idempotency) */
  writeId?: string;
}

/** The fence: the app state item (in the written region's app-config table) must be one of allowedStates. */
export interface StateGuard {
  table: string;
  allowedStates: readonly string[];
}

export type WriteOutcome =
  | { ok: true; item: ItemRecord }
  | { ok: false; reason: 'version'; actual: ItemRecord | null }
  | { ok: false; reason: 'state'; state: string | null };

export interface WriteOptions {
  guard: StateGuard;
  signal?: AbortSignal;
}

export interface ItemStore {
  /** The region whose replica this store writes to / reads from. */
  readonly region: string;
  get(id: string, signal?: AbortSignal): Promise<ItemRecord | null>;
  /** Writes `item` (with its writeId) only if the stored version is `ifVersion` (0 = only if absent). */
  put(item: ItemRecord, ifVersion: number, opts: WriteOptions): Promise<WriteOutcome>;
  /** Deletes the item only if its stored version is still `current.version`; answers `current`. */
  delete(current: ItemRecord, opts: WriteOptions): Promise<WriteOutcome>;
}

/** A transaction cancelled because DynamoDB throttled one of its items: temporary, answered 503 Throttled. */
export class TransactionThrottled extends Error {
  constructor(readonly attempts: number) {
    super('the transaction was throttled');
    this.name = 'TransactionThrottled';
  }
  get $metadata(): { attempts: number } {
    return { attempts: this.attempts };
  }
}

/** A transaction cancelled because another request held one of its items: retryable, like a throttle. */
export class TransactionConflict extends Error {
  constructor(readonly attempts: number) {
    super('the transaction conflicted with another request on the same item');
    this.name = 'TransactionConflict';
  }
  get $metadata(): { attempts: number } {
    return { attempts: this.attempts };
  }
}

export function toRecord(it: Record<string, unknown> | undefined | null): ItemRecord | null {
  if (!it) return null;
  return {
    id: String(it.id),
    value: typeof it.value === 'string' ? it.value : String(it.value ?? ''),
    version: typeof it.version === 'number' ? it.version : Number(it.version ?? 0),
    updatedAt: typeof it.updatedAt === 'string' ? it.updatedAt : '',
    updatedRegion: typeof it.updatedRegion === 'string' ? it.updatedRegion : '',
    ...(typeof it.updatedBy === 'string' ? { updatedBy: it.updatedBy } : {}),
    ...(typeof it.writeId === 'string' ? { writeId: it.writeId } : {}),
  };
}

function fromWire(item: Record<string, AttributeValue> | undefined): Record<string, unknown> | null {
  return item ? unmarshall(item) : null;
}

interface Condition {
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
}

/** The put's condition: absent (ifVersion 0) or at version ifVersion. */
function putCondition(ifVersion: number): Condition {
  return ifVersion === 0
    ? { ConditionExpression: 'attribute_not_exists(#id)', ExpressionAttributeNames: { '#id': 'id' } }
    : { ConditionExpression: '#version = :expected', ExpressionAttributeNames: { '#version': 'version' }, ExpressionAttributeValues: { ':expected': ifVersion } };
}

function deleteCondition(version: number): Condition {
  return {
    ConditionExpression: 'attribute_exists(#id) AND #version = :expected',
    ExpressionAttributeNames: { '#id': 'id', '#version': 'version' },
    ExpressionAttributeValues: { ':expected': version },
  };
}

/** The ConditionCheck on the state item: `#state IN (:s0, :s1, …)`. */
function stateCheck(guard: StateGuard) {
  const values: Record<string, string> = {};
  guard.allowedStates.forEach((s, i) => (values[`:s${i}`] = s));
  return {
    TableName: guard.table,
    Key: { id: APP_STATE_ID },
    // an empty IN list is invalid; a state named '' never exists, so nothing passes
    ConditionExpression: `#state IN (${Object.keys(values).join(', ') || ':none'})`,
    ExpressionAttributeNames: { '#state': 'state' },
    ExpressionAttributeValues: Object.keys(values).length > 0 ? values : { ':none': '' },
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
  };
}

/** True when the stored item is exactly the write this request made (a retried request finding its own write). */
function isOwnWrite(stored: ItemRecord | null, item: ItemRecord): boolean {
  return !!stored && stored.writeId !== undefined && stored.writeId === item.writeId && stored.version === item.version;
}

interface Reason {
  Code?: string;
  Item?: Record<string, AttributeValue>;
}

export function dynamoItemStore(
  doc: DynamoDBDocumentClient,
  table: string,
  region: string,
  opts: { consistency: Consistency },
): ItemStore {
  const get = async (id: string, signal?: AbortSignal): Promise<ItemRecord | null> =>
    toRecord((await doc.send(new GetCommand({ TableName: table, Key: { id }, ConsistentRead: true }), { abortSignal: signal })).Item);

  /** strong mode: the state item, read strongly consistently (MRSC: the latest state from any region). */
  const readGuard = async (guard: StateGuard, signal?: AbortSignal): Promise<{ allowed: boolean; state: string | null }> => {
    const out = await doc.send(new GetCommand({ TableName: guard.table, Key: { id: APP_STATE_ID }, ConsistentRead: true }), { abortSignal: signal });
    const state = typeof out.Item?.state === 'string' ? out.Item.state : null;
    return { allowed: state !== null && guard.allowedStates.includes(state), state };
  };

  /** Runs the transaction; a cancellation is turned into an outcome by `onCancel`. */
  const transact = async (
    action: Record<string, unknown>,
    guard: StateGuard,
    signal: AbortSignal | undefined,
    onCancel: (itemReason: Reason, attempts: number) => WriteOutcome,
    success: WriteOutcome,
  ): Promise<WriteOutcome> => {
    try {
      await doc.send(
        new TransactWriteCommand({
          // one token per call: the SDK's own retries of this call reuse it, so a retry of a committed
          // transaction is answered as the original; 36 characters is the API's maximum
          ClientRequestToken: randomUUID(),
          TransactItems: [{ ConditionCheck: stateCheck(guard) }, action],
        }),
        { abortSignal: signal },
      );
      return success;
    } catch (err) {
      if (errorName(err) !== 'TransactionCanceledException') throw err;
      const reasons = ((err as { CancellationReasons?: Reason[] }).CancellationReasons ?? []) as Reason[];
      if (reasons.some((r) => r.Code === 'TransactionConflict')) throw new TransactionConflict(sdkAttempts(err));
      if (reasons.some((r) => r.Code === 'ThrottlingError' || r.Code === 'ProvisionedThroughputExceeded')) throw new TransactionThrottled(sdkAttempts(err));
      if (reasons[0]?.Code === 'ConditionalCheckFailed') {
        const s = fromWire(reasons[0].Item)?.state;
        return { ok: false, reason: 'state', state: typeof s === 'string' ? s : null };
      }
      if (reasons[1]?.Code === 'ConditionalCheckFailed') return onCancel(reasons[1], sdkAttempts(err));
      throw err;
    }
  };

  return {
    region,
    get,

    async put(item, ifVersion, { guard, signal }) {
      const onFailedCondition = (stored: ItemRecord | null): WriteOutcome =>
        isOwnWrite(stored, item) ? { ok: true, item } : { ok: false, reason: 'version', actual: stored };
      if (opts.consistency === 'eventual') {
        return transact(
          { Put: { TableName: table, Item: { ...item }, ...putCondition(ifVersion), ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } },
          guard,
          signal,
          (reason) => onFailedCondition(toRecord(fromWire(reason.Item))),
          { ok: true, item },
        );
      }
      const g = await readGuard(guard, signal);
      if (!g.allowed) return { ok: false, reason: 'state', state: g.state };
      try {
        await doc.send(
          new PutCommand({ TableName: table, Item: { ...item }, ...putCondition(ifVersion), ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }),
          { abortSignal: signal },
        );
        return { ok: true, item };
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
        return onFailedCondition(toRecord(fromWire((err as { Item?: Record<string, AttributeValue> }).Item)));
      }
    },

    async delete(current, { guard, signal }) {
      // gone after an attempt that got no answer: this request's own delete (the version it meant is gone either way)
      const onFailedCondition = (stored: ItemRecord | null, attempts: number): WriteOutcome =>
        !stored && attempts > 1 ? { ok: true, item: current } : { ok: false, reason: 'version', actual: stored };
      if (opts.consistency === 'eventual') {
        return transact(
          { Delete: { TableName: table, Key: { id: current.id }, ...deleteCondition(current.version), ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } },
          guard,
          signal,
          (reason, attempts) => onFailedCondition(toRecord(fromWire(reason.Item)), attempts),
          { ok: true, item: current },
        );
      }
      const g = await readGuard(guard, signal);
      if (!g.allowed) return { ok: false, reason: 'state', state: g.state };
      try {
        const out = await doc.send(
          new DeleteCommand({
            TableName: table,
            Key: { id: current.id },
            ...deleteCondition(current.version),
            ReturnValues: 'ALL_OLD',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
          { abortSignal: signal },
        );
        return { ok: true, item: toRecord(out.Attributes) ?? current };
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
        return onFailedCondition(toRecord(fromWire((err as { Item?: Record<string, AttributeValue> }).Item)), sdkAttempts(err));
      }
    },
  };
}
