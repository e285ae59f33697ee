/**
 * DynamoDB DocumentClients (lib-dynamodb does all marshalling), cached per region and endpoint so a warm Lambda
 * reuses connections, while a change of AWS_ENDPOINT_URL_DYNAMODB (tests, the local emulator) gets a fresh
 * client. No endpoint code: the SDK itself honours AWS_ENDPOINT_URL_DYNAMODB.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface ClientOptions {
  /** SDK attempts per call (default: the SDK's 3). The health check uses 1 so its timeout measures one try. */
  maxAttempts?: number;
}

const cache = new Map<string, DynamoDBDocumentClient>();

export function documentClient(region: string, opts: ClientOptions = {}): DynamoDBDocumentClient {
  const key = `${region}|${process.env.AWS_ENDPOINT_URL_DYNAMODB ?? ''}|${opts.maxAttempts ?? ''}`;
  let doc = cache.get(key);
  if (!doc) {
    const client = new DynamoDBClient({ region, ...(opts.maxAttempts ? { maxAttempts: opts.maxAttempts } : {}) });
    doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    cache.set(key, doc);
  }
  return doc;
}

/** Drops cached clients (tests). */
export function resetClients(): void {
  for (const doc of cache.values()) doc.destroy();
  cache.clear();
}

/** True for DynamoDB's failed-condition error, whichever client threw it. */
export function isConditionFailed(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: string }).name === 'ConditionalCheckFailedException';
}

/** The error's name (SDK exceptions carry e.g. ResourceNotFoundException), for messages. */
export function errorName(err: unknown): string {
  return typeof err === 'object' && err !== null && typeof (err as { name?: unknown }).name === 'string' ? (err as { name: string }).name : 'Error';
}
