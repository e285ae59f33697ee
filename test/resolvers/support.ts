/**
 * Fixtures for the resolver tests: per test suite, one items table and one app-config table in each region's
 * namespace of DynamoDB Local (same names everywhere, like the global tables), and a GraphQL executor per region.
 */
import { DeleteItemCommand, GetItemCommand, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { createGraphQLExecutor, type GraphQLExecutor } from '../../local/appsync/graphql';
import { APP_STATE_ID, type WriteMode } from '../../schema/rules';
import { createTable, ddbClient, uniqueTableName } from '../support/dynamodb';

export const EU = 'eu-west-1';
export const AP = 'ap-southeast-2';
export const REGIONS = [EU, AP];

export interface Fixture {
  items: string;
  appConfig: string;
  primaryRegion: string;
  writeMode: WriteMode;
  /** The executor of the given region. */
  api(region: string): GraphQLExecutor;
}

export async function createFixture(writeMode: WriteMode, primaryRegion = EU): Promise<Fixture> {
  const items = uniqueTableName('items');
  const appConfig = uniqueTableName('app-config');
  for (const r of REGIONS) {
    await createTable(r, items);
    await createTable(r, appConfig);
  }
  const apis = new Map<string, GraphQLExecutor>();
  for (const region of REGIONS) {
    apis.set(
      region,
      createGraphQLExecutor({
        settings: { region, primaryRegion, writeMode },
        dataSources: {
          localItems: { tableName: items, region },
          primaryItems: { tableName: items, region: primaryRegion },
          appConfig: { tableName: appConfig, region },
        },
      }),
    );
  }
  return {
    items,
    appConfig,
    primaryRegion,
    writeMode,
    api(region) {
      const a = apis.get(region);
      if (!a) throw new Error(`no executor for ${region}`);
      return a;
    },
  };
}

/** Writes the app state item in every region's app-config replica (null removes it). */
export async function setState(fx: Fixture, state: string | null, reason?: string): Promise<void> {
  for (const r of REGIONS) {
    if (state === null) {
      await ddbClient(r).send(new DeleteItemCommand({ TableName: fx.appConfig, Key: marshall({ id: APP_STATE_ID }) }));
    } else {
      const item: Record<string, string> = { id: APP_STATE_ID, state, updatedAt: '2026-01-02T03:04:05.000Z' };
      if (reason) item.reason = reason;
      await ddbClient(r).send(new PutItemCommand({ TableName: fx.appConfig, Item: marshall(item) }));
    }
  }
}

/**
 * An item read straight from one region's replica (not through the resolvers), without its `writeId` (the
 * idempotency key every resolver write stores, not a GraphQL field): rawWriteId reads that.
 */
export async function rawItem(fx: Fixture, region: string, id: string): Promise<Record<string, unknown> | null> {
  const out = await ddbClient(region).send(new GetItemCommand({ TableName: fx.items, Key: marshall({ id }), ConsistentRead: true }));
  if (!out.Item) return null;
  const { writeId: _writeId, ...item } = unmarshall(out.Item);
  void _writeId;
  return item;
}

/** The stored item's writeId (undefined when absent). */
export async function rawWriteId(fx: Fixture, region: string, id: string): Promise<unknown> {
  const out = await ddbClient(region).send(new GetItemCommand({ TableName: fx.items, Key: marshall({ id }), ConsistentRead: true }));
  return out.Item ? unmarshall(out.Item).writeId : undefined;
}

/** Every item of one region's replica, sorted by id. */
export async function rawItems(fx: Fixture, region: string): Promise<Record<string, unknown>[]> {
  const out = await ddbClient(region).send(new ScanCommand({ TableName: fx.items, ConsistentRead: true }));
  return (out.Items ?? []).map((i) => unmarshall(i)).sort((a, b) => String(a.id).localeCompare(String(b.id)));
}

/** Puts an item straight into one region's replica. */
export async function seedItem(fx: Fixture, region: string, item: Record<string, unknown>): Promise<void> {
  await ddbClient(region).send(new PutItemCommand({ TableName: fx.items, Item: marshall(item) }));
}

export const ITEM_FIELDS = 'id value version updatedAt updatedRegion';

export const PUT = `mutation Put($input: PutItemInput!) { putItem(input: $input) { ${ITEM_FIELDS} } }`;
export const DELETE = `mutation Del($id: ID!, $expectedVersion: Int) { deleteItem(id: $id, expectedVersion: $expectedVersion) { ${ITEM_FIELDS} } }`;
export const GET = `query Get($id: ID!) { getItem(id: $id) { ${ITEM_FIELDS} } }`;
export const LIST = `query List($limit: Int, $nextToken: String) { listItems(limit: $limit, nextToken: $nextToken) { items { ${ITEM_FIELDS} } nextToken } }`;
export const APP_STATE = `query { appState { state region writeMode primaryRegion writable updatedAt reason } }`;
