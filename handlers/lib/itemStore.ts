/**
 * The items table through the DocumentClient, as the items handler needs it: strongly consistent reads and
 * compare-and-set writes. Every write carries a ConditionExpression on the version it read (or on the item's
 * absence), so two concurrent writers to the same replica can never silently overwrite each other: the loser
 * gets `conflict`. The condition is evaluated by the one replica written to, so this holds within one region;
 * across regions in `multi-master`, writes to the same id on two replicas can both succeed and global-table
 * replication keeps the last writer's item (last-writer-wins). Strict ordering needs expectedVersion with
 * writeMode `primary` (every write goes to, and is checked by, the primary region's replica).
 */
import { DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionFailed } from './dynamo';

export interface ItemRecord {
  id: string;
  value: string;
  version: number;
  updatedAt: string;
  updatedRegion: string;
}

export type WriteOutcome = { ok: true; item: ItemRecord } | { ok: false; actual: ItemRecord | null };

export interface ItemStore {
  /** The region whose replica this store writes to / reads from. */
  readonly region: string;
  get(id: string): Promise<ItemRecord | null>;
  /**
   * Writes `item` only if the stored version is `ifVersion` (0 = only if absent). On a failed condition
   * answers what is stored now.
   */
  put(item: ItemRecord, ifVersion: number): Promise<WriteOutcome>;
  /** Deletes only if the item exists and (when given) has version `ifVersion`; answers the deleted item. */
  delete(id: string, ifVersion?: number): Promise<WriteOutcome>;
}

function toRecord(it: Record<string, unknown> | undefined): ItemRecord | null {
  if (!it) return null;
  return {
    id: String(it.id),
    value: typeof it.value === 'string' ? it.value : String(it.value ?? ''),
    version: typeof it.version === 'number' ? it.version : Number(it.version ?? 0),
    updatedAt: typeof it.updatedAt === 'string' ? it.updatedAt : '',
    updatedRegion: typeof it.updatedRegion === 'string' ? it.updatedRegion : '',
  };
}

export function dynamoItemStore(doc: DynamoDBDocumentClient, table: string, region: string): ItemStore {
  const get = async (id: string): Promise<ItemRecord | null> =>
    toRecord((await doc.send(new GetCommand({ TableName: table, Key: { id }, ConsistentRead: true }))).Item);
  return {
    region,
    get,
    async put(item, ifVersion) {
      try {
        await doc.send(
          new PutCommand({
            TableName: table,
            Item: { ...item },
            ...(ifVersion === 0
              ? { ConditionExpression: 'attribute_not_exists(#id)', ExpressionAttributeNames: { '#id': 'id' } }
              : {
                  ConditionExpression: '#version = :expected',
                  ExpressionAttributeNames: { '#version': 'version' },
                  ExpressionAttributeValues: { ':expected': ifVersion },
                }),
          }),
        );
        return { ok: true, item };
      } catch (err) {
        if (isConditionFailed(err)) return { ok: false, actual: await get(item.id) };
        throw err;
      }
    },
    async delete(id, ifVersion) {
      try {
        const out = await doc.send(
          new DeleteCommand({
            TableName: table,
            Key: { id },
            ReturnValues: 'ALL_OLD',
            ...(ifVersion === undefined
              ? { ConditionExpression: 'attribute_exists(#id)', ExpressionAttributeNames: { '#id': 'id' } }
              : {
                  ConditionExpression: 'attribute_exists(#id) AND #version = :expected',
                  ExpressionAttributeNames: { '#id': 'id', '#version': 'version' },
                  ExpressionAttributeValues: { ':expected': ifVersion },
                }),
          }),
        );
        const old = toRecord(out.Attributes);
        return old ? { ok: true, item: old } : { ok: false, actual: null };
      } catch (err) {
        if (isConditionFailed(err)) return { ok: false, actual: await get(id) };
        throw err;
      }
    },
  };
}
