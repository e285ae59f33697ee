/** Table fixtures for the handler tests: real DynamoDB Local tables in both test regions. */
import { DynamoDBDocumentClient, DeleteCommand, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { APP_STATE_ID } from '../../schema/rules';
import { createTable, ddbClient, uniqueTableName } from '../support/dynamodb';

export const EU = 'eu-west-1';
export const AP = 'ap-southeast-2';
export const REGIONS = [EU, AP];

export function doc(region: string): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(ddbClient(region));
}

/** Creates an items and an app-config table (same names) in both regions. */
export async function createTables(prefix: string): Promise<{ items: string; appConfig: string }> {
  const items = uniqueTableName(`${prefix}-items`);
  const appConfig = uniqueTableName(`${prefix}-app-config`);
  await Promise.all(REGIONS.flatMap((r) => [createTable(r, items), createTable(r, appConfig)]));
  return { items, appConfig };
}

export async function scan(region: string, table: string): Promise<Record<string, unknown>[]> {
  const out = await doc(region).send(new ScanCommand({ TableName: table, ConsistentRead: true }));
  return (out.Items ?? []).sort((a, b) => String(a.id).localeCompare(String(b.id)));
}

/** Sets (or with null, deletes) the app state item in the given regions' app-config tables. */
export async function setState(table: string, state: string | null, regions: readonly string[] = REGIONS): Promise<void> {
  for (const r of regions) {
    if (state === null) await doc(r).send(new DeleteCommand({ TableName: table, Key: { id: APP_STATE_ID } }));
    else await doc(r).send(new PutCommand({ TableName: table, Item: { id: APP_STATE_ID, state, version: 1, updatedAt: new Date().toISOString(), reason: 'test' } }));
  }
}

export async function getItem(region: string, table: string, id: string): Promise<Record<string, unknown> | undefined> {
  return (await doc(region).send(new GetCommand({ TableName: table, Key: { id }, ConsistentRead: true }))).Item;
}

export async function putItem(region: string, table: string, item: Record<string, unknown>): Promise<void> {
  await doc(region).send(new PutCommand({ TableName: table, Item: item }));
}
