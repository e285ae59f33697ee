/**
 * The credential check of one region's local REST endpoint (local/rest.ts), as the deployed API Gateway methods do
 * it: one credential for every region, and no path writes without one:
 *
 * - `apiKey` mode: every route but the open ones needs `x-api-key` equal to the ONE key all regions share (a usage
 *   plan key, API Gateway's apiKeyRequired), compared in constant time (local/appsync/auth.ts sameSecret). Missing
 *   or wrong → 403 `{"message":"Forbidden"}` (API Gateway's
 *   INVALID_API_KEY / MISSING_AUTHENTICATION_TOKEN answer for a key-required method,
 *   https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html).
 * - `token` mode: a REQUEST authorizer with identity source `method.request.header.Authorization` — the region's
 *   bundled authorizer function (handlers/authorizer.ts). No Authorization header → 401 `{"message":"Unauthorized"}`
 *   without invoking it (API Gateway does not call an authorizer whose identity source is missing); the function
 *   failing with exactly `Unauthorized` → 401; any other failure → 500 `{"message":null}` with
 *   `x-amzn-ErrorType: AuthorizerConfigurationException` (the gateway response AUTHORIZER_CONFIGURATION_ERROR);
 *   a Deny, or an Allow whose Resource does not cover the method ARN → 403 AccessDeniedException
 *   (https://repost.aws/knowledge-center/api-gateway-403-error-lambda-authorizer). An Allow gives the integration
 *   `requestContext.authorizer` = the function's `context` + `principalId`.
 *
 * OPEN_ROUTES need no credential: only `GET /health` (Route53's health checkers cannot send one). `GET /state` takes
 * the credential as deployed (components/restApi.ts): README "Client auth" documents the choice.
 */
import { sameSecret } from './appsync/auth';
import { FunctionError } from './lambdaHost';

export const OPEN_ROUTES: readonly string[] = ['/health'];

export type RestAuth =
  | { mode: 'apiKey'; key: string }
  | { mode: 'token'; authorizer: { invoke<T>(event: unknown): Promise<T> } };

export type GateOutcome =
  | { ok: true; authorizer?: Record<string, unknown> }
  | { ok: false; status: number; body: unknown; errorType: string };

export interface GateRequest {
  method: string;
  resource: string;
  path: string;
  headers: Record<string, string>;
  /** The execute-api ARN of the method: arn:aws:execute-api:<region>:<account>:<api>/<stage>/<VERB>/<path> */
  methodArn: string;
  /** The REQUEST authorizer event (built by the caller from the same request as the proxy event). */
  event: Record<string, unknown>;
}

const header = (h: Record<string, string>, name: string): string | undefined => Object.entries(h).find(([k]) => k.toLowerCase() === name)?.[1];

/** Does an IAM Resource pattern (`*` and `?` wildcards) cover the ARN? */
export function resourceMatches(pattern: string, arn: string): boolean {
  const re = new RegExp(`^${pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/]/g, '\\$&'))).join('')}$`);
  return re.test(arn);
}

export async function checkRestCaller(auth: RestAuth | undefined, req: GateRequest): Promise<GateOutcome> {
  if (!auth || OPEN_ROUTES.includes(req.resource)) return { ok: true };
  if (auth.mode === 'apiKey') {
    const given = header(req.headers, 'x-api-key');
    return given !== undefined && sameSecret(given, auth.key) ? { ok: true } : { ok: false, status: 403, body: { message: 'Forbidden' }, errorType: 'ForbiddenException' };
  }
  const unauthorized: GateOutcome = { ok: false, status: 401, body: { message: 'Unauthorized' }, errorType: 'UnauthorizedException' };
  if (!header(req.headers, 'authorization')) return unauthorized;
  let policy: { principalId?: unknown; policyDocument?: { Statement?: { Effect?: string; Resource?: string | string[]; Action?: string | string[] }[] }; context?: Record<string, unknown> };
  try {
    policy = await auth.authorizer.invoke(req.event);
  } catch (err) {
    if (err instanceof FunctionError && err.errorMessage === 'Unauthorized') return unauthorized;
    return { ok: false, status: 500, body: { message: null }, errorType: 'AuthorizerConfigurationException' };
  }
  const statements = policy?.policyDocument?.Statement ?? [];
  const covers = (s: { Resource?: string | string[] }) => [s.Resource ?? []].flat().some((r) => resourceMatches(r, req.methodArn));
  if (statements.some((s) => s.Effect === 'Deny' && covers(s))) {
    return { ok: false, status: 403, body: { Message: 'User is not authorized to access this resource with an explicit deny' }, errorType: 'AccessDeniedException' };
  }
  if (typeof policy?.principalId !== 'string' || !statements.some((s) => s.Effect === 'Allow' && covers(s))) {
    return { ok: false, status: 403, body: { Message: 'User is not authorized to access this resource' }, errorType: 'AccessDeniedException' };
  }
  return { ok: true, authorizer: { ...(policy.context ?? {}), principalId: policy.principalId } };
}
