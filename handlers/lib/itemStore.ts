/**
 * The items table through the DocumentClient, as the items handler needs it: strongly consistent reads and
 * versioned, idempotent writes — each one plain conditional PutItem or DeleteItem of the one item it writes.
 *
 * An unconditional write (no expected version) is one UpdateItem that sets the item and moves its version by one
 * (`if_not_exists(version, 0) + 1`): concurrent writers of one item each get their own version without reading it
 * first, and the write is refused only when the item already holds its own writeId (a retry of itself).
 *
 * No write includes any other item, in the request or in a transaction: DynamoDB cancels concurrent transactions
 * that include the same item (TransactionConflict) and fails a plain write of an item an ongoing transaction
 * includes (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-conflict-handling),
 * so an item every write touched would cap a region's writes at about one per round trip. The fence (the app
 * state) is therefore read by the handler before the write, not checked inside it (handlers/items.ts, the write
 * bound in schema/rules.ts).
 *
 * Versioned: every write carries a condition on the version it read (or on the item's absence), so two concurrent
 * writers to the same replica never silently overwrite each other: the loser gets `version`. The condition is
 * evaluated by the one replica written to, so in `eventual` consistency this holds within one region; across
 * regions in `multi-master` two writes to the same id can both succeed and global-table replication keeps the
 * last writer's item. With `strong` consistency (MRSC) every replica takes part in each write, so the condition
 * holds across regions too.
 *
 * Idempotent: the item carries the request's `writeId`. When the SDK retries a write whose reply was lost, the
 * retry's condition fails, and the failed condition answers the stored item
 * (ReturnValuesOnConditionCheckFailure: ALL_OLD,
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutItem.html): when that item carries the
 * request's writeId and version it is the request's own write, answered as done. A retried delete that finds the
 * item gone after an unanswered attempt is the request's own delete (the version it meant is gone either way).
 *
 * IAM: GetItem, PutItem, UpdateItem and DeleteItem on the items replica written to.
 * Reads are always strongly consistent (ConsistentRead): the local replica's latest, or with MRSC the latest
 * write from any region.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { isConditionFailed, sdkAttempts } from './dynamo';

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

export type WriteOutcome =
  /** put: the stored item (this request's write, possibly found stored by a retry); delete: the deleted item */
  | { ok: true; item: ItemRecord }
  /**
   * the condition failed: `actual` is the stored item it answered (null: none, or none came back); `attempts` the SDK
   * attempts of the call, more than 1 meaning an earlier attempt may have been applied with its reply lost
   */
  | { ok: false; reason: 'version'; actual: ItemRecord | null; attempts: number };

export interface ItemStore {
  /** The region whose replica this store writes to / reads from. */
  readonly region: string;
  get(id: string, signal?: AbortSignal): Promise<ItemRecord | null>;
  /** Writes `item` (with its writeId) only if the stored version is `ifVersion` (0 = only if absent). */
  put(item: ItemRecord, ifVersion: number, signal?: AbortSignal): Promise<WriteOutcome>;
  /**
   * Writes `item` whatever is stored, as the next version (1 when there is none), in one call; answers the item as
   * stored. A retry finding its own writeId there writes nothing and answers that item.
   */
  upsert(item: Omit<ItemRecord, 'version'>, signal?: AbortSignal): Promise<WriteOutcome>;
  /** Deletes the item only if its stored version is still `current.version`; answers `current`. */
  delete(current: ItemRecord, signal?: AbortSignal): Promise<WriteOutcome>;
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

/** True when the stored item is the write `item` describes: its writeId at its version. */
export function holdsWrite(stored: ItemRecord | null, item: Pick<ItemRecord, 'writeId' | 'version'>): stored is ItemRecord {
  return !!stored && stored.writeId !== undefined && stored.writeId === item.writeId && stored.version === item.version;
}

/** The stored item a failed condition answered (ReturnValuesOnConditionCheckFailure: ALL_OLD). */
function storedOf(err: unknown): ItemRecord | null {
  return toRecord(fromWire((err as { Item?: Record<string, AttributeValue> }).Item));
}

export function dynamoItemStore(doc: DynamoDBDocumentClient, table: string, region: string): ItemStore {
  return {
    region,

    async get(id, signal) {
      return toRecord((await doc.send(new GetCommand({ TableName: table, Key: { id }, ConsistentRead: true }), { abortSignal: signal })).Item);
    },

    async put(item, ifVersion, signal) {
      try {
        await doc.send(
          new PutCommand({ TableName: table, Item: { ...item }, ...putCondition(ifVersion), ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }),
          { abortSignal: signal },
        );
        return { ok: true, item };
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
        const stored = storedOf(err);
        return holdsWrite(stored, item) ? { ok: true, item: stored } : { ok: false, reason: 'version', actual: stored, attempts: sdkAttempts(err) };
      }
    },

    async upsert(item, signal) {
      const names: Record<string, string> = { '#value': 'value', '#updatedAt': 'updatedAt', '#updatedRegion': 'updatedRegion', '#writeId': 'writeId', '#version': 'version', '#updatedBy': 'updatedBy' };
      const values: Record<string, unknown> = { ':value': item.value, ':updatedAt': item.updatedAt, ':updatedRegion': item.updatedRegion, ':writeId': item.writeId, ':zero': 0, ':one': 1 };
      let update = 'SET #value = :value, #updatedAt = :updatedAt, #updatedRegion = :updatedRegion, #writeId = :writeId, #version = if_not_exists(#version, :zero) + :one';
      if (item.updatedBy !== undefined) {
        values[':updatedBy'] = item.updatedBy;
        update += ', #updatedBy = :updatedBy';
      } else update += ' REMOVE #updatedBy';
      try {
        const out = await doc.send(
          new UpdateCommand({
            TableName: table,
            Key: { id: item.id },
            UpdateExpression: update,
            // the version moves by itself (each write its own), so the one thing to refuse is this very write again
            ConditionExpression: 'attribute_not_exists(#writeId) OR #writeId <> :writeId',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ReturnValues: 'ALL_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
          { abortSignal: signal },
        );
        const stored = toRecord(out.Attributes);
        if (!stored) throw new Error('UpdateItem with ReturnValues ALL_NEW answered no item');
        return { ok: true, item: stored };
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
        // the condition fails only on an item holding this writeId: this write, stored by an earlier attempt
        const stored = storedOf(err);
        return stored ? { ok: true, item: stored } : { ok: false, reason: 'version', actual: null, attempts: sdkAttempts(err) };
      }
    },

    async delete(current, signal) {
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
        const stored = storedOf(err);
        // gone after an attempt that got no answer: this request's own delete (the version it meant is gone either way)
        return !stored && sdkAttempts(err) > 1 ? { ok: true, item: current } : { ok: false, reason: 'version', actual: stored, attempts: sdkAttempts(err) };
      }
    },
  };
}
