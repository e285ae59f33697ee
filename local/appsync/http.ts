/**
 * The HTTP face of one region's local AppSync endpoint: `POST /graphql` with `{query, variables, operationName}`,
 * the caller verified by ./auth.ts (API key or SigV4), executed by the region's executor (./graphql.ts), answered
 * 200 with the executor's result as AppSync answers GraphQL over HTTP (field errors, including
 * `publishItemChange` refused to an API key caller by its @aws_iam, ride in a 200 body).
 *
 * Other answers (error type also in the x-amzn-ErrorType header, as AWS sends it; Amplify reads it from there):
 * auth failures with ./auth.ts's status and `{errors:[{errorType, message}]}`; a body that is not
 * JSON → 400 MalformedHttpRequestException; JSON without a string `query` → 400 BadRequestException; a body over
 * 1 MB → 413 (AppSync's request payload limit); another method on /graphql → 405; any other path → 404.
 * CORS: OPTIONS answers the preflight like AppSync (any origin; the headers browsers and Amplify send:
 * x-api-key, authorization, x-amz-date, x-amz-security-token, x-amz-user-agent, content-type), and every answer
 * carries Access-Control-Allow-Origin: *, so a browser client works against it.
 */
import type http from 'node:http';
import { readBody } from '../listen';
import { trace, tracing } from '../trace';
import { authenticate, type AuthConfig } from './auth';
import type { GraphQLExecutor } from './graphql';

export const GRAPHQL_PATH = '/graphql';
export const MAX_BODY_BYTES = 1024 * 1024;

export const CORS_HEADERS: Readonly<Record<string, string>> = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'x-amzn-requestid,x-amzn-errortype,x-amzn-errormessage,x-amz-user-agent,date',
};

const PREFLIGHT_HEADERS: Readonly<Record<string, string>> = {
  ...CORS_HEADERS,
  'access-control-allow-methods': 'POST, OPTIONS',
  'access-control-allow-headers': 'content-type, x-api-key, authorization, x-amz-date, x-amz-security-token, x-amz-user-agent, x-amz-content-sha256',
  'access-control-max-age': '86400',
};

export interface GraphQLHttpOptions {
  executor: GraphQLExecutor;
  auth: AuthConfig;
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  // AppSync names the error type of a refused request in x-amzn-ErrorType too; SDKs (Amplify's included) read it.
  const errorType = status >= 300 ? (body as { errors?: { errorType?: string }[] }).errors?.[0]?.errorType : undefined;
  res.writeHead(status, {
    ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
    'content-type': 'application/json; charset=UTF-8',
    'content-length': String(Buffer.byteLength(text)),
    ...CORS_HEADERS,
    ...headers,
  });
  res.end(text);
}

const error = (errorType: string, message: string) => ({ errors: [{ errorType, message }] });

/** A Node request listener for /graphql; the realtime path is upgraded elsewhere (./realtime.ts). */
export function createGraphQLHandler(o: GraphQLHttpOptions): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    if (url.pathname !== GRAPHQL_PATH) {
      req.resume();
      const hint = url.pathname === `${GRAPHQL_PATH}/realtime` ? ' (the realtime endpoint takes WebSocket upgrades only)' : '';
      send(res, 404, error('NotFoundException', `No route for ${req.method} ${url.pathname}${hint}; GraphQL is POST ${GRAPHQL_PATH}`));
      return;
    }
    if (req.method === 'OPTIONS') {
      req.resume();
      res.writeHead(200, { ...PREFLIGHT_HEADERS, 'content-length': '0' });
      res.end();
      return;
    }
    if (req.method !== 'POST') {
      req.resume();
      send(res, 405, error('MethodNotAllowedException', `${req.method} is not supported on ${GRAPHQL_PATH}; use POST`), { allow: 'POST, OPTIONS' });
      return;
    }
    const raw = await readBody(req, MAX_BODY_BYTES);
    const body = raw?.toString('utf8');
    if (body === undefined) {
      send(res, 413, error('PayloadTooLargeException', `The request body is larger than ${MAX_BODY_BYTES} bytes.`));
      return;
    }
    const auth = await authenticate(
      { method: 'POST', path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, body },
      o.auth,
    );
    if (!auth.ok) {
      send(res, auth.status, error(auth.errorType, auth.message));
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (err) {
      send(res, 400, error('MalformedHttpRequestException', `The request body is not JSON: ${(err as Error).message}`));
      return;
    }
    const request = parsed as { query?: unknown; variables?: unknown; operationName?: unknown } | null;
    if (!request || typeof request !== 'object' || Array.isArray(request) || typeof request.query !== 'string') {
      send(res, 400, error('BadRequestException', 'The request body must be a JSON object with a string "query".'));
      return;
    }
    const variables = request.variables;
    if (variables !== undefined && variables !== null && (typeof variables !== 'object' || Array.isArray(variables))) {
      send(res, 400, error('BadRequestException', '"variables" must be a JSON object.'));
      return;
    }
    if (request.operationName !== undefined && request.operationName !== null && typeof request.operationName !== 'string') {
      send(res, 400, error('BadRequestException', '"operationName" must be a string.'));
      return;
    }
    if (tracing()) trace({ point: 'appsync.request', scope: o.executor, detail: { query: request.query, variables } });
    const result = await o.executor.execute({
      query: request.query,
      variables: (variables ?? null) as Record<string, unknown> | null,
      operationName: (request.operationName ?? null) as string | null,
      identity: auth.caller,
    });
    send(res, 200, result);
  }

  return (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, error('InternalFailure', `local AppSync endpoint failed: ${(err as Error).message ?? String(err)}`));
      else res.destroy();
    });
  };
}
