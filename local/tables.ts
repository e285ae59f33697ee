/**
 * Creates one region's tables in DynamoDB Local with the layout the Pulumi GlobalTable component declares (key schema
 * and stream view from schema/tables.ts, the one place both read), and writes the initial app state as the AppState
 * component does (components/initialState.ts). Used by the emulator (every region) and the test setup.
 */
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient, PutItemCommand, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { initialStateItem } from '../components/initialState';
import { HASH_KEY, HASH_KEY_TYPE, STREAM_VIEW_TYPE } from '../schema/tables';

/** DynamoDB Local keeps one database per access key and region: every local client uses this key. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

export function localClient(endpoint: string, region: string): DynamoDBClient {
  return new DynamoDBClient({ region, endpoint, credentials: LOCAL_CREDENTIALS });
}

/** Creates (or re-creates, empty) a table with the project's key layout and a NEW_AND_OLD_IMAGES stream. */
export async function createTable(client: DynamoDBClient, name: string): Promise<void> {
  try {
    await client.send(new DeleteTableCommand({ TableName: name }));
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
  }
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: HASH_KEY, AttributeType: HASH_KEY_TYPE }],
      KeySchema: [{ AttributeName: HASH_KEY, KeyType: 'HASH' }],
      StreamSpecification: { StreamEnabled: true, StreamViewType: STREAM_VIEW_TYPE },
    }),
  );
}

export interface RegionTableNames {
  items: string;
  appConfig: string;
}

/** Both tables of one region, empty, plus the initial `active` app state. */
export async function createRegionTables(endpoint: string, region: string, names: RegionTableNames, now = new Date()): Promise<void> {
  const client = localClient(endpoint, region);
  try {
    await createTable(client, names.items);
    await createTable(client, names.appConfig);
    await client.send(new PutItemCommand({ TableName: names.appConfig, Item: initialStateItem(now) }));
  } finally {
    client.destroy();
  }
}
