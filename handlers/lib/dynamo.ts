/**
 * DynamoDB DocumentClients (lib-dynamodb does all marshalling), cached per region, endpoint and options so a warm
 * Lambda reuses connections, while a change of AWS_ENDPOINT_URL_DYNAMODB (tests, the local emulator) gets a fresh
 * client. No endpoint code: the SDK itself honours AWS_ENDPOINT_URL_DYNAMODB.
 *
 * Every client has bounded waits (the SDK's defaults have none: a silent endpoint would hang an invocation until
 * the function times out): a connection timeout, a request timeout that throws (`throwOnRequestTimeout`; without
 * it the SDK only logs a warning), then the SDK's own retries (3 attempts, each bounded). A client for another
 * region (the primary in writeMode `primary`) gets a longer budget for the inter-region round trip and TLS
 * handshake. Handlers additionally cap each call with an AbortSignal from their remaining time (handlers/lib/budget.ts).
 * Options: NodeHttpHandlerOptions (https://docs.aws.amazon.com/AWSJavaScriptSDK/v3/latest/Package/-smithy-node-http-handler):
 * connectionTimeout, requestTimeout, and throwOnRequestTimeout (@smithy/node-http-handler ≥ 4.4; older versions,
 * such as a Lambda runtime's own SDK, ignore it and only the AbortSignal bounds the wait).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Timeouts per client kind, in milliseconds. */
export const CLIENT_TIMEOUTS = {
  /** the local replica: same-region round trips are single-digit milliseconds */
  local: { connectionTimeoutMs: 1000, requestTimeoutMs: 2000 },
  /** another region's replica: up to ~300 ms per round trip, a TLS handshake takes a few of them */
  crossRegion: { connectionTimeoutMs: 2500, requestTimeoutMs: 4000 },
} as const;

export interface ClientOptions {
  /** SDK attempts per call (default: the SDK's 3). The health check uses 1 so its timeout measures one try. */
  maxAttempts?: number;
  /** `crossRegion` for a client of another region than the function's own (longer timeouts). Default `local`. */
  kind?: keyof typeof CLIENT_TIMEOUTS;
  /** Overrides of the kind's timeouts (tests). */
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
}

const cache = new Map<string, DynamoDBDocumentClient>();

export function documentClient(region: string, opts: ClientOptions = {}): DynamoDBDocumentClient {
  const base = CLIENT_TIMEOUTS[opts.kind ?? 'local'];
  const connectionTimeout = opts.connectionTimeoutMs ?? base.connectionTimeoutMs;
  const requestTimeout = opts.requestTimeoutMs ?? base.requestTimeoutMs;
  const key = `${region}|${process.env.AWS_ENDPOINT_URL_DYNAMODB ?? ''}|${opts.maxAttempts ?? ''}|${connectionTimeout}|${requestTimeout}`;
  let doc = cache.get(key);
  if (!doc) {
    const client = new DynamoDBClient({
      region,
      ...(opts.maxAttempts ? { maxAttempts: opts.maxAttempts } : {}),
      requestHandler: { connectionTimeout, requestTimeout, throwOnRequestTimeout: true },
    });
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

/** How many attempts the SDK made for the call that threw `err` (1 when it does not say). */
export function sdkAttempts(err: unknown): number {
  const n = (err as { $metadata?: { attempts?: unknown } } | null)?.$metadata?.attempts;
  return typeof n === 'number' && n > 0 ? n : 1;
}
