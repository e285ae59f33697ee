/**
 * API Gateway REST proxy plumbing shared by the items, health and state handlers: a plain request shape the
 * pure cores take, and JSON answers. Every answer, errors included, is JSON; errors are
 * `{"error": "<what was wrong>", "errorType": "<code>"}` with the codes of schema/rules.ts (plus a few REST-only
 * ones below). Each invocation gets a Scope: its request id (for answers and log lines) and its time budget from
 * the Lambda context (handlers/lib/budget.ts).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { MAX_VALUE_CHARS, MAX_VERSION } from '../../schema/rules';
import { Budget, type LambdaContextLike } from './budget';
import { ConfigError } from './env';
import { callerIdentity, type AuthorizerContext } from './headers';

/** REST-only error codes (the shared ones live in schema/rules.ts). */
export const METHOD_NOT_ALLOWED = 'MethodNotAllowed';
export const CONFIG_ERROR = 'ConfigError';
export const INTERNAL_ERROR = 'InternalError';
export const UNAVAILABLE = 'Unavailable';
export const PAYLOAD_TOO_LARGE = 'PayloadTooLarge';

/**
 * The largest valid `PUT /items/{id}` body, in UTF-8 bytes: `{"value": …, "expectedVersion": …}` with a value of
 * MAX_VALUE_CHARS characters each written as a 6-byte `\uXXXX` escape (the longest form JSON has for one UTF-16
 * code unit), an expectedVersion of MAX_VERSION's 16 digits, and 1 KiB for whitespace and escaped key names.
 * Anything bigger cannot be valid, so it is refused before it is parsed (parsing and listing a 5 MB body of
 * unknown fields is work and an answer nearly as big as the body).
 */
export const MAX_ITEM_BODY_BYTES = 6 * MAX_VALUE_CHARS + `{"value":"","expectedVersion":${MAX_VERSION}}`.length + 1024;
/** How many unknown field names an error answer lists before "and N more". */
export const MAX_NAMES_LISTED = 10;

/** The plain request a pure core takes: what the REST proxy event says, decoded, headers lower-cased. */
export interface HttpRequest {
  method: string;
  pathParameters: Record<string, string | undefined>;
  query: Record<string, string | undefined>;
  headers: Record<string, string | undefined>;
  /** The body as text (base64 bodies decoded), or null when there is none. */
  body: string | null;
  /** The caller's subject from the authorizer (handlers/lib/headers.ts callerIdentity); null without one. */
  caller?: string | null;
}

/** Per invocation: who to name in logs and answers, and how long the work may take. */
export interface Scope {
  requestId: string;
  budget: Budget;
}

export interface HttpResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export function toRequest(event: APIGatewayProxyEvent): HttpRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) headers[k.toLowerCase()] = v;
  let body: string | null = event.body ?? null;
  if (body !== null && event.isBase64Encoded) body = Buffer.from(body, 'base64').toString('utf8');
  return {
    method: (event.httpMethod ?? '').toUpperCase(),
    pathParameters: { ...(event.pathParameters ?? {}) },
    query: { ...(event.queryStringParameters ?? {}) },
    headers,
    body,
    caller: callerIdentity(event.requestContext?.authorizer as AuthorizerContext | null | undefined),
  };
}

export function toResult(res: HttpResponse): APIGatewayProxyResult {
  return {
    statusCode: res.status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...(res.headers ?? {}) },
    body: JSON.stringify(res.body),
  };
}

export function ok(body: unknown, headers?: Record<string, string>): HttpResponse {
  return { status: 200, body, headers };
}

export function fail(status: number, errorType: string, error: string, headers?: Record<string, string>): HttpResponse {
  return { status, body: { error, errorType }, headers };
}

/**
 * 413 PayloadTooLarge naming the limit when the body has more than `maxBytes` UTF-8 bytes; null otherwise.
 * 413 is what API Gateway itself answers for a request over its own 10 MB payload limit (gateway response
 * REQUEST_TOO_LARGE, https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html),
 * and RFC 9110's status for content larger than the server will process (section 15.5.14).
 */
export function bodyTooLarge(body: string | null, maxBytes: number): HttpResponse | null {
  // a string's UTF-8 size is at most 3 bytes per UTF-16 code unit: short bodies need no count
  if (body === null || body.length * 3 <= maxBytes) return null;
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes <= maxBytes) return null;
  return fail(413, PAYLOAD_TOO_LARGE, `body is ${bytes} bytes, over the limit of ${maxBytes} bytes (no valid body is larger); nothing was written`);
}

/** `"a", "b" and 3 more`: at most `max` names, each cut to 40 characters, JSON-quoted. */
export function listNames(names: readonly string[], max: number = MAX_NAMES_LISTED): string {
  const shown = names.slice(0, max).map((n) => JSON.stringify(n.length > 40 ? `${n.slice(0, 40)}…` : n));
  return names.length > max ? `${shown.join(', ')} and ${names.length - max} more` : shown.join(', ');
}

export function methodNotAllowed(method: string, allowed: readonly string[]): HttpResponse {
  return fail(405, METHOD_NOT_ALLOWED, `method ${method || '(none)'} is not allowed here: allowed are ${allowed.join(', ')}`, {
    allow: allowed.join(', '),
  });
}

/**
 * Wraps a core into the exported Lambda handler: a deployment mistake answers 500 naming the variable, any
 * other unexpected error answers 500 without internals; both are logged as one JSON line.
 */
export function restHandler(
  name: string,
  core: (req: HttpRequest, scope: Scope) => Promise<HttpResponse>,
): (event: APIGatewayProxyEvent, context?: LambdaContextLike) => Promise<APIGatewayProxyResult> {
  return async (event, context) => {
    const requestId = context?.awsRequestId ?? event.requestContext?.requestId ?? 'unknown';
    const budget = Budget.fromContext(context);
    const log = (errorName: string, status: number, message: string) =>
      console.error(JSON.stringify({ level: 'ERROR', handler: name, requestId, errorName, status, tries: 1, sdkAttempts: 0, message: message.slice(0, 300) }));
    try {
      return toResult(await core(toRequest(event), { requestId, budget }));
    } catch (err) {
      if (err instanceof ConfigError) {
        log('ConfigError', 500, err.message);
        return toResult(fail(500, CONFIG_ERROR, `the function is misconfigured: ${err.message}`));
      }
      log(err instanceof Error ? err.name : 'Error', 500, err instanceof Error ? `${err.message} ${err.stack ?? ''}` : String(err));
      return toResult(fail(500, INTERNAL_ERROR, `internal error: see the function logs (request ${requestId})`));
    } finally {
      budget.done();
    }
  };
}
