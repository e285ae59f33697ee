/**
 * The event API Gateway's REST API (v1) Lambda proxy integration (AWS_PROXY) sends, built from one HTTP request:
 * single- and multi-value headers and query parameters (single = the last value, as API Gateway does), decoded path
 * parameters, the body as text (no binary media types are configured, so isBase64Encoded is false), and a
 * requestContext with the stage, resource path and caller identity. Used by the emulator's REST endpoint
 * (local/rest.ts) and the handler tests (test/support/apigw.ts).
 * Shape: AWS docs, "Input format of a Lambda function for proxy integration" (API Gateway developer guide).
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';

export interface ProxyEventInit {
  method: string;
  /** The resource template, e.g. /items/{id}. */
  resource: string;
  /** The concrete path without the stage, e.g. /items/abc. */
  path: string;
  pathParameters: Record<string, string> | null;
  /** Header name → values, in arrival order. */
  headers: Record<string, string[]>;
  /** Query parameter name → values. */
  query: Record<string, string[]>;
  body: string | null;
  isBase64Encoded?: boolean;
  stage: string;
  apiId: string;
  sourceIp: string;
  accountId?: string;
}

export function proxyEvent(init: ProxyEventInit): APIGatewayProxyEvent {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(init.headers)) if (v.length) headers[k] = v[v.length - 1];
  const hasQuery = Object.keys(init.query).length > 0;
  const query: Record<string, string> = {};
  for (const [k, v] of Object.entries(init.query)) if (v.length) query[k] = v[v.length - 1];
  const userAgent = headers['User-Agent'] ?? headers['user-agent'] ?? null;
  const now = Date.now();
  return {
    resource: init.resource,
    path: init.path,
    httpMethod: init.method,
    headers,
    multiValueHeaders: { ...init.headers },
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? { ...init.query } : null,
    pathParameters: init.pathParameters,
    stageVariables: null,
    body: init.body,
    isBase64Encoded: init.isBase64Encoded ?? false,
    requestContext: {
      accountId: init.accountId ?? '000000000000',
      apiId: init.apiId,
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: init.method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: init.sourceIp,
        user: null,
        userAgent,
        userArn: null,
      },
      path: `/${init.stage}${init.path}`,
      stage: init.stage,
      requestId: randomUUID(),
      requestTimeEpoch: now,
      resourceId: init.resource.replace(/[^a-z0-9]/gi, '').slice(0, 6) || 'root',
      resourcePath: init.resource,
    },
  };
}
