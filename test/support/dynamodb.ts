/**
 * Mocha global fixture: one DynamoDB Local JVM for the whole test run (started before the first test, stopped
 * after the last) behind one contention front (local/contention.ts: transaction conflicts and per-partition
 * throughput answered as DynamoDB does), plus helpers to make clients and tables in any emulated region.
 * The front's endpoint reaches every AWS SDK client through AWS_ENDPOINT_URL_DYNAMODB, the SDK's own
 * service-specific endpoint variable, so handlers run against it unchanged; the front runs in mocha's main process,
 * so every test file (in every worker) meets the same in-flight transactions, as clients of one DynamoDB do.
 * The emulator of the end-to-end tests gets DynamoDB Local itself (dynamoLocalEndpoint) and puts its own front on it.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type ContentionFront, startContentionFront } from '../../local/contention';
import { type DynamoDBLocal, startDynamoDBLocal } from '../../local/dynamodbLocal';
import { createTable as createLocalTable } from '../../local/tables';

let ddb: DynamoDBLocal | undefined;
let front: ContentionFront | undefined;
const LOCAL_ENDPOINT_VAR = 'GLOBAL_APPSYNC_TEST_DYNAMODB_LOCAL';

// The project pins Node 20 (package-lock keeps the SDK at versions that support it); the SDK's notice that later
// versions will need Node 22 is known and would only repeat in every test run.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export async function mochaGlobalSetup(): Promise<void> {
  ddb = await startDynamoDBLocal();
  front = await startContentionFront({ endpoint: ddb.endpoint });
  process.env.AWS_ENDPOINT_URL_DYNAMODB = front.url;
  process.env[LOCAL_ENDPOINT_VAR] = ddb.endpoint;
  process.env.AWS_ACCESS_KEY_ID = 'local';
  process.env.AWS_SECRET_ACCESS_KEY = 'local';
  process.env.AWS_REGION ??= 'eu-west-1';
}

export async function mochaGlobalTeardown(): Promise<void> {
  await front?.stop();
  await ddb?.stop();
}

export function dynamoEndpoint(): string {
  const endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB;
  if (!endpoint) throw new Error('DynamoDB Local is not running: the mocha global setup did not start it');
  return endpoint;
}

/** DynamoDB Local itself, behind no front: for a test's own front, or the emulator's (which puts one on it). */
export function dynamoLocalEndpoint(): string {
  const endpoint = process.env[LOCAL_ENDPOINT_VAR];
  if (!endpoint) throw new Error('DynamoDB Local is not running: the mocha global setup did not start it');
  return endpoint;
}

export function ddbClient(region: string): DynamoDBClient {
  return new DynamoDBClient({ region, endpoint: dynamoEndpoint(), credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
}

/** Creates (or re-creates, empty) a table with the project's key layout and a NEW_AND_OLD_IMAGES stream. */
export async function createTable(region: string, name: string): Promise<void> {
  const client = ddbClient(region);
  try {
    await createLocalTable(client, name);
  } finally {
    client.destroy();
  }
}

let counter = 0;
/** A table name unique to this test run, so test files never see each other's items. */
export function uniqueTableName(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}
