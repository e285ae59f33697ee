/**
 * One region's REST endpoint, as its regional API Gateway REST API serves it: under the stage path (`/live`, so
 * restUrl is `http://127.0.0.1:<port>/live` like an execute-api invoke URL), the routes the RestApi component
 * deploys, each turned into the Lambda proxy event (local/apigwEvent.ts) for the *bundled* handler, and the
 * handler's answer sent back as API Gateway does:
 *
 *   GET|PUT|DELETE /items/{id} → items λ      GET /health → health λ      GET /state → state λ
 *   POST /graphql → HTTP proxy to this region's AppSync endpoint (headers and body passed through)
 *
 * API Gateway behaviour kept: a path or method that no route defines answers 403 `{"message":"Missing Authentication
 * Token"}` (x-amzn-ErrorType MissingAuthenticationTokenException); a function error, a timeout or a malformed proxy
 * result answers 502 `{"message": "Internal server error"}`; every answer carries an x-amzn-RequestId.
 * Client credentials as deployed, by ./restAuth.ts: in apiKey mode the shared key (x-api-key) on every
 * route but /health and /state, and `/graphql` swaps in the region's own AppSync key server-side; in token mode the
 * region's authorizer function (REQUEST authorizer), whose context reaches the handler as
 * `requestContext.authorizer`, and `/graphql` passes the token on to AppSync (AWS_LAMBDA there, the same function).
 * Not emulated: throttling, usage plans, payload limits other than the 10 MB body, API Gateway's own 29 s timeout.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { STAGE_NAME } from '../config/names';
import { proxyEvent } from './apigwEvent';
import { FunctionError } from './lambdaHost';
import { checkRestCaller, type RestAuth } from './restAuth';
import { listen, readBody } from './listen';

/** The functions the REST API invokes. */
export interface RestFunctions {
  items: { invoke<T>(event: unknown): Promise<T> };
  health: { invoke<T>(event: unknown): Promise<T> };
  state: { invoke<T>(event: unknown): Promise<T> };
}

interface Route {
  resource: string;
  pattern: RegExp;
  params: string[];
  methods: Record<string, keyof RestFunctions | 'graphql'>;
}

/** The deployed routes (components/restApi.ts creates the same resources and methods). */
export const ROUTES: readonly Route[] = [
  { resource: '/items/{id}', pattern: /^\/items\/([^/]+)$/, params: ['id'], methods: { GET: 'items', PUT: 'items', DELETE: 'items' } },
  { resource: '/health', pattern: /^\/health$/, params: [], methods: { GET: 'health' } },
  { resource: '/state', pattern: /^\/state$/, params: [], methods: { GET: 'state' } },
  { resource: '/graphql', pattern: /^\/graphql$/, params: [], methods: { POST: 'graphql' } },
];

const MAX_BODY = 10 * 1024 * 1024;
const HOP_BY_HOP = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade']);

export interface RestServerOptions {
  region: string;
  functions: RestFunctions;
  /** This region's AppSync GraphQL URL (the /graphql HTTP proxy target). */
  graphqlUrl: string;
  /** Client credentials (./restAuth.ts); absent = none checked (the tests' bare REST endpoint). */
  auth?: RestAuth;
  /** apiKey mode: this region's AppSync key, which `/graphql` sends upstream in place of the shared key. */
  appsyncApiKey?: string;
  port?: number;
}

export interface RestServer {
  readonly restUrl: string;
  readonly port: number;
  close(): Promise<void>;
}

function send(res: http.ServerResponse, status: number, body: string, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID(), ...headers });
  res.end(body);
}

const missingToken = (res: http.ServerResponse): void =>
  send(res, 403, JSON.stringify({ message: 'Missing Authentication Token' }), { 'x-amzn-errortype': 'MissingAuthenticationTokenException' });
const internalError = (res: http.ServerResponse): void => send(res, 502, JSON.stringify({ message: 'Internal server error' }));

/** A Lambda proxy result API Gateway accepts: an integer statusCode and, if present, a string body. */
function isProxyResult(v: unknown): v is APIGatewayProxyResult {
  if (!v || typeof v !== 'object') return false;
  const r = v as { statusCode?: unknown; body?: unknown };
  return Number.isInteger(r.statusCode) && (r.body === undefined || r.body === null || typeof r.body === 'string');
}

export async function startRestServer(opts: RestServerOptions): Promise<RestServer> {
  const apiId = `local${opts.region.replace(/-/g, '')}`.slice(0, 10);

  async function handle(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const prefix = `/${STAGE_NAME}`;
    if (!url.pathname.startsWith(`${prefix}/`)) return missingToken(res);
    const path = url.pathname.slice(prefix.length);
    const method = (req.method ?? 'GET').toUpperCase();
    const route = ROUTES.find((r) => r.pattern.test(path));
    const target = route?.methods[method];
    if (!route || !target) return missingToken(res);

    const m = route.pattern.exec(path) as RegExpExecArray;
    const pathParameters = route.params.length ? Object.fromEntries(route.params.map((p, i) => [p, decodeURIComponent(m[i + 1])])) : null;
    const rawHeaders: Record<string, string[]> = {};
    for (let i = 0; i < req.rawHeaders.length; i += 2) (rawHeaders[req.rawHeaders[i]] ??= []).push(req.rawHeaders[i + 1]);
    const query: Record<string, string[]> = {};
    for (const [k, v] of url.searchParams) (query[k] ??= []).push(v);
    const event = proxyEvent({
      method,
      resource: route.resource,
      path,
      pathParameters,
      headers: rawHeaders,
      query,
      body: body.length ? body.toString('utf8') : null,
      stage: STAGE_NAME,
      apiId,
      sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
    });
    const methodArn = `arn:aws:execute-api:${opts.region}:${event.requestContext.accountId}:${apiId}/${STAGE_NAME}/${method}${path}`;
    const gate = await checkRestCaller(opts.auth, {
      method,
      resource: route.resource,
      path,
      headers: event.headers as Record<string, string>,
      methodArn,
      // the REQUEST authorizer's input: the proxy event's request fields plus type and methodArn
      event: { type: 'REQUEST', methodArn, resource: event.resource, path: event.path, httpMethod: method, headers: event.headers, multiValueHeaders: event.multiValueHeaders, queryStringParameters: event.queryStringParameters, multiValueQueryStringParameters: event.multiValueQueryStringParameters, pathParameters, stageVariables: null, requestContext: event.requestContext },
    });
    if (!gate.ok) return send(res, gate.status, JSON.stringify(gate.body), { 'x-amzn-errortype': gate.errorType });

    if (target === 'graphql') {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
      if (opts.auth?.mode === 'apiKey' && opts.appsyncApiKey) headers['x-api-key'] = opts.appsyncApiKey;
      try {
        const upstream = await fetch(opts.graphqlUrl, { method: 'POST', headers, body });
        const text = await upstream.text();
        const out: Record<string, string> = {};
        upstream.headers.forEach((v, k) => {
          if (!HOP_BY_HOP.has(k)) out[k] = v;
        });
        return send(res, upstream.status, text, out);
      } catch {
        return internalError(res);
      }
    }

    if (gate.authorizer) (event.requestContext as { authorizer: unknown }).authorizer = gate.authorizer;
    let result: unknown;
    try {
      result = await opts.functions[target].invoke(event);
    } catch (err) {
      if (!(err instanceof FunctionError)) console.error(`[${opts.region}] REST ${method} ${path}:`, err);
      return internalError(res);
    }
    if (!isProxyResult(result)) return internalError(res);
    const outHeaders: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(result.headers ?? {})) outHeaders[k.toLowerCase()] = String(v);
    for (const [k, v] of Object.entries(result.multiValueHeaders ?? {})) outHeaders[k.toLowerCase()] = v.map(String);
    const text = result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64') : (result.body ?? '');
    res.writeHead(result.statusCode, { 'x-amzn-requestid': randomUUID(), ...outHeaders });
    res.end(text);
  }

  const server = http.createServer((req, res) => {
    readBody(req, MAX_BODY)
      .then((body) => (body === undefined ? send(res, 413, JSON.stringify({ message: 'Request Too Long' })) : handle(req, body, res)))
      .catch((err: unknown) => {
        console.error(`[${opts.region}] REST endpoint failed:`, err);
        if (!res.headersSent) internalError(res);
      });
  });
  await listen(server, opts.port ?? 0);
  const { port } = server.address() as AddressInfo;
  return {
    restUrl: `http://127.0.0.1:${port}/${STAGE_NAME}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
