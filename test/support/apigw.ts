/**
 * Realistic API Gateway REST proxy events (the shape the regional API's Lambda proxy integration sends) for the
 * handler tests and, later, the local emulator's REST endpoints; plus small env helpers for handler tests.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { proxyEvent } from '../../local/apigwEvent';

export interface EventInit {
  method: string;
  /** The resource template, e.g. /items/{id}. */
  resource: string;
  /** The concrete path, e.g. /items/abc. */
  path?: string;
  pathParameters?: Record<string, string> | null;
  query?: Record<string, string> | null;
  headers?: Record<string, string>;
  body?: string | null;
  isBase64Encoded?: boolean;
  stage?: string;
}

export function restEvent(init: EventInit): APIGatewayProxyEvent {
  const pathParameters = init.pathParameters === undefined ? null : init.pathParameters;
  const path =
    init.path ?? init.resource.replace(/\{(\w+)\}/g, (_, k: string) => encodeURIComponent(pathParameters?.[k] ?? ''));
  const headers = { Accept: 'application/json', Host: 'abc123.execute-api.eu-west-1.amazonaws.com', 'User-Agent': 'mocha', ...(init.headers ?? {}) };
  return proxyEvent({
    method: init.method,
    resource: init.resource,
    path,
    pathParameters,
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    query: Object.fromEntries(Object.entries(init.query ?? {}).map(([k, v]) => [k, [v]])),
    body: init.body ?? null,
    isBase64Encoded: init.isBase64Encoded ?? false,
    stage: init.stage ?? 'v1',
    apiId: 'abc123',
    sourceIp: '127.0.0.1',
    accountId: '123456789012',
  });
}

/** `/items/{id}` event; `id` undefined → no path parameters at all. */
export function itemsEvent(
  method: string,
  id: string | undefined,
  opts: { body?: unknown; rawBody?: string | null; query?: Record<string, string>; headers?: Record<string, string>; base64?: boolean } = {},
): APIGatewayProxyEvent {
  let body = opts.rawBody !== undefined ? opts.rawBody : opts.body === undefined ? null : JSON.stringify(opts.body);
  if (body !== null && opts.base64) body = Buffer.from(body, 'utf8').toString('base64');
  return restEvent({
    method,
    resource: '/items/{id}',
    pathParameters: id === undefined ? null : { id },
    query: opts.query ?? null,
    headers: { ...(body !== null ? { 'Content-Type': 'application/json' } : {}), ...(opts.headers ?? {}) },
    body,
    isBase64Encoded: opts.base64 ?? false,
  });
}

export interface JsonResult {
  status: number;
  headers: Record<string, unknown>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/** Runs a REST handler and parses its JSON answer (failing when the answer is not JSON). */
export async function call(handler: (e: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>, event: APIGatewayProxyEvent): Promise<JsonResult> {
  const res = await handler(event);
  return { status: res.statusCode, headers: (res.headers ?? {}) as Record<string, unknown>, body: JSON.parse(res.body) };
}

/** Sets environment variables (undefined deletes); returns a function that restores the previous values. */
export function setEnv(vars: Record<string, string | undefined>): () => void {
  const before: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(vars)) {
    before[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  return () => {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}
