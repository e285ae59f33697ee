/**
 * API Gateway REST proxy plumbing shared by the items, health and state handlers: a plain request shape the
 * pure cores take, and JSON answers. Every answer, errors included, is JSON; errors are
 * `{"error": "<what was wrong>", "errorType": "<code>"}` with the codes of schema/rules.ts (plus a few REST-only
 * ones below).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ConfigError } from './env';

/** REST-only error codes (the shared ones live in schema/rules.ts). */
export const METHOD_NOT_ALLOWED = 'MethodNotAllowed';
export const CONFIG_ERROR = 'ConfigError';
export const INTERNAL_ERROR = 'InternalError';
export const UNAVAILABLE = 'Unavailable';

/** The plain request a pure core takes: what the REST proxy event says, decoded, headers lower-cased. */
export interface HttpRequest {
  method: string;
  pathParameters: Record<string, string | undefined>;
  query: Record<string, string | undefined>;
  headers: Record<string, string | undefined>;
  /** The body as text (base64 bodies decoded), or null when there is none. */
  body: string | null;
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

export function methodNotAllowed(method: string, allowed: readonly string[]): HttpResponse {
  return fail(405, METHOD_NOT_ALLOWED, `method ${method || '(none)'} is not allowed here: allowed are ${allowed.join(', ')}`, {
    allow: allowed.join(', '),
  });
}

/**
 * Wraps a core into the exported Lambda handler: a deployment mistake answers 500 naming the variable, any
 * other unexpected error answers 500 without internals (and is logged).
 */
export function restHandler(core: (req: HttpRequest) => Promise<HttpResponse>): (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult> {
  return async (event) => {
    try {
      return toResult(await core(toRequest(event)));
    } catch (err) {
      if (err instanceof ConfigError) {
        console.error(err.message);
        return toResult(fail(500, CONFIG_ERROR, `the function is misconfigured: ${err.message}`));
      }
      console.error('unexpected error', err);
      return toResult(fail(500, INTERNAL_ERROR, 'internal error: see the function logs'));
    }
  };
}

/** For DynamoDB being unreachable/throttled while serving a request: 503 with Retry-After. */
export function unavailable(what: string, err: unknown): HttpResponse {
  const name = typeof err === 'object' && err !== null && 'name' in err ? String((err as { name: unknown }).name) : 'Error';
  return fail(503, UNAVAILABLE, `${what} failed (${name}); retry later`, { 'retry-after': '5' });
}
