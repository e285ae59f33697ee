/**
 * What a failed DynamoDB call means for the client, and one structured log line per failure.
 *
 * - throttled, unavailable (5xx, network) and timeouts are temporary: 503 with Retry-After, the client retries;
 * - permanent misconfiguration (AccessDenied, ResourceNotFound, ValidationException, bad credentials): 500
 *   ConfigError: retrying cannot help and Retry-After would only multiply the load;
 * - a replicated-write or transaction conflict that outlived the handler's own retries: 409 WriteConflict with
 *   `retryable: true`. The conflict answers the last attempt only: when an earlier attempt may have been applied
 *   with its reply lost (`mayHaveApplied`), the answer does not say the write did not happen — the items handler
 *   reads the item back and adds what it found (handlers/items.ts); otherwise it did not, and sending it again is
 *   safe;
 * - anything else: 500 InternalError.
 * Answers name the error, never its message (an AccessDenied message carries the account id and role ARN); the
 * log line has the message, truncated. DynamoDB's error names and which are retryable:
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html
 */
import { CONFIG_ERROR, INTERNAL_ERROR, UNAVAILABLE, fail, type HttpResponse } from './http';
import { errorName, sdkAttempts } from './dynamo';

export type FailureKind = 'throttled' | 'unavailable' | 'timeout' | 'writeConflict' | 'misconfigured' | 'internal';

export const THROTTLED = 'Throttled';
export const TIMEOUT = 'Timeout';
export const WRITE_CONFLICT = 'WriteConflict';

const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'TransactionThrottled',
  // a retried transaction whose first attempt is still running (the SDK retries it as a throttle too)
  'TransactionInProgressException',
]);
const SERVER = new Set(['InternalServerError', 'ServiceUnavailable', 'ServiceUnavailableException', 'InternalFailure']);
const TIMEOUTS = new Set(['TimeoutError', 'AbortError', 'BudgetExhausted', 'RequestTimeout', 'RequestTimeoutException']);
/** Node's socket errors: the request may or may not have reached DynamoDB. */
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const CONFLICTS = new Set(['ReplicatedWriteConflictException', 'TransactionConflict', 'TransactionConflictException']);
const PERMANENT = new Set([
  'AccessDeniedException',
  'ResourceNotFoundException',
  'ValidationException',
  'UnrecognizedClientException',
  'MissingAuthenticationTokenException',
  'InvalidSignatureException',
  'IncompleteSignatureException',
  'ConfigError',
]);

/** Seconds in Retry-After per temporary kind. */
export const RETRY_AFTER_S: Record<'throttled' | 'unavailable' | 'timeout', number> = { throttled: 2, unavailable: 5, timeout: 5 };

export function classify(err: unknown): FailureKind {
  const name = errorName(err);
  const e = (typeof err === 'object' && err !== null ? err : {}) as { code?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  if (CONFLICTS.has(name)) return 'writeConflict';
  if (THROTTLING.has(name) || status === 429) return 'throttled';
  if (TIMEOUTS.has(name) || e.code === 'ETIMEDOUT') return 'timeout';
  if (PERMANENT.has(name)) return 'misconfigured';
  if (SERVER.has(name) || (status !== undefined && status >= 500) || (typeof e.code === 'string' && NETWORK_CODES.has(e.code))) return 'unavailable';
  return 'internal';
}

/** Retried inside the handler (with backoff, within the budget) before answering. */
export function isRetryableConflict(err: unknown): boolean {
  return classify(err) === 'writeConflict';
}

export interface FailureContext {
  /** the function: items, health, state */
  handler: string;
  requestId: string;
  /** tries the handler itself made (its own retry loop); the SDK's attempts are added from the error */
  tries?: number;
}

/** One JSON line on stderr (CloudWatch Logs): what failed, the error's name, the request id and the attempts. */
export function logFailure(what: string, err: unknown, ctx: FailureContext, status: number): void {
  const message = err instanceof Error ? err.message : String(err);
  console.error(
    JSON.stringify({
      level: 'ERROR',
      handler: ctx.handler,
      requestId: ctx.requestId,
      what,
      errorName: errorName(err),
      kind: classify(err),
      status,
      tries: ctx.tries ?? 1,
      sdkAttempts: sdkAttempts(err),
      message: message.length > 300 ? `${message.slice(0, 300)}…` : message,
    }),
  );
}

export interface FailureOptions {
  /** An earlier attempt of the write may have been applied (its reply lost): the answer may not say it was not. */
  mayHaveApplied?: boolean;
}

/** The answer for a failed call (and its log line). */
export function failure(what: string, err: unknown, ctx: FailureContext, opts: FailureOptions = {}): HttpResponse {
  const name = errorName(err);
  const kind = classify(err);
  let res: HttpResponse;
  switch (kind) {
    case 'throttled':
      res = fail(503, THROTTLED, `${what} was throttled by DynamoDB (${name}); retry later`, { 'retry-after': String(RETRY_AFTER_S.throttled) });
      break;
    case 'timeout':
      res = fail(503, TIMEOUT, `${what} did not finish in time (${name}); retry later`, { 'retry-after': String(RETRY_AFTER_S.timeout) });
      break;
    case 'unavailable':
      res = fail(503, UNAVAILABLE, `${what} failed (${name}); retry later`, { 'retry-after': String(RETRY_AFTER_S.unavailable) });
      break;
    case 'writeConflict':
      res = {
        status: 409,
        body: {
          error: opts.mayHaveApplied
            ? `${what} collided with a concurrent write (${name}) on its last attempt; an earlier attempt got no answer and may have been applied`
            : `${what} collided with a concurrent write (${name}) and was not applied; it is safe to send again`,
          errorType: WRITE_CONFLICT,
          retryable: true,
        },
      };
      break;
    case 'misconfigured':
      res = fail(500, CONFIG_ERROR, `${what} failed (${name}): the deployment is misconfigured; see the function logs (request ${ctx.requestId})`);
      break;
    default:
      res = fail(500, INTERNAL_ERROR, `${what} failed (${name}); see the function logs (request ${ctx.requestId})`);
  }
  logFailure(what, err, ctx, res.status);
  return res;
}
