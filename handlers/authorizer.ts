/**
 * The token authorizer (`auth.mode: token`): ONE function per region that answers both ways a client's
 * JWT reaches the stack, so a token works the same on every path and in every region:
 *
 * - AppSync AWS_LAMBDA authorization (GraphQL over HTTP and realtime). Event `{authorizationToken, requestContext:
 *   {apiId, accountId, requestId, queryString, operationName, variables}, requestHeaders}`; answer `{isAuthorized,
 *   resolverContext: {sub}, ttlOverride}`, ttlOverride = min(ttl, the token's remaining lifetime) (resolvers read `ctx.identity.resolverContext.sub`). A refused token
 *   answers isAuthorized false with ttlOverride 0 (AppSync then sends the client 401 UnauthorizedException).
 *   https://docs.aws.amazon.com/appsync/latest/devguide/security-authz.html#aws-lambda-authorization
 * - API Gateway REST, a REQUEST authorizer with identity source `method.request.header.Authorization`. Event
 *   `{type: 'REQUEST', methodArn, headers, ...}`; a valid token answers `{principalId: sub, policyDocument: Allow
 *   execute-api:Invoke, context: {sub}}` (the items handler reads `requestContext.authorizer.sub`). The policy
 *   allows every method of the stage (`<api>/<stage>/*`), not just methodArn, because API Gateway caches the
 *   policy per token for the authorizer's TTL and applies it to the token's next request on any route
 *   (https://repost.aws/knowledge-center/api-gateway-lambda-authorization-errors). A missing, malformed or
 *   invalid token throws `Unauthorized`, which API Gateway documents as THE way to answer 401 (any other error is
 *   a 500 AuthorizerConfigurationException); a Deny policy would be a 403 meaning "known caller, not allowed",
 *   which no caller of this API is.
 *   https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-input.html,
 *   https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html
 *
 * The event kind is told from its shape (REQUEST/TOKEN + methodArn vs. authorizationToken + requestContext.apiId);
 * anything else is an error. Results are cached in the function instance for AUTH_CACHE_TTL seconds (never past the
 * token's exp), as both services also cache by token. Settings come from the environment (handlers/lib/authEnv.ts).
 *
 * When the key source fails (the JWKS cannot be fetched, or the authorizer is misconfigured: VerifyResult
 * `unavailable`), nothing is cached against the token, so its next request is verified afresh (the core refetches
 * the JWKS with a backoff), and the answer is a server error, never "your token is bad": AppSync gets isAuthorized
 * false with ttlOverride 0 (its Lambda authorizer contract has no server-error answer); API Gateway gets an error
 * other than exactly `Unauthorized`, which it answers with the gateway response AUTHORIZER_CONFIGURATION_ERROR
 * (default status 500, header `x-amzn-ErrorType: AuthorizerConfigurationException`;
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html), body
 * `{"message": null}`, as observed in
 * https://dev.to/marcogrcr/api-gateway-lambda-authorizer-lambda-proxy-integration-failure-modes-52bc. (Not
 * AUTHORIZER_FAILURE: that one is an authorizer that ran and failed to authenticate the caller.) While the JWKS is
 * down, tokens its last good set can verify still pass (the core's stale keys, logged with `staleKeys`).
 */
import { authSettingsFromEnv } from './lib/authEnv';
import { verifyToken, type TokenSettings, type VerifyResult } from './lib/auth';

export interface AppSyncAuthorizerEvent {
  authorizationToken: string;
  requestContext: { apiId: string; accountId?: string; requestId?: string; queryString?: string; operationName?: string; variables?: Record<string, unknown> };
  requestHeaders?: Record<string, string>;
}
export interface AppSyncAuthorizerResult {
  isAuthorized: boolean;
  resolverContext?: { sub: string };
  ttlOverride: number;
  deniedFields?: string[];
}

export interface RequestAuthorizerEvent {
  type: 'REQUEST' | 'TOKEN';
  methodArn: string;
  /** TOKEN authorizers */
  authorizationToken?: string;
  headers?: Record<string, string | undefined> | null;
}
export interface PolicyResult {
  principalId: string;
  policyDocument: { Version: '2012-10-17'; Statement: { Action: 'execute-api:Invoke'; Effect: 'Allow' | 'Deny'; Resource: string }[] };
  context: { sub: string };
}

/** API Gateway's 401: an authorizer signals it by failing with exactly this message. */
export const UNAUTHORIZED = 'Unauthorized';
/** Prefix of the error thrown when the key source failed: any message but UNAUTHORIZED makes API Gateway answer 500. */
export const AUTHORIZER_UNAVAILABLE = 'AuthorizerUnavailable';

export interface CacheEntry {
  result: VerifyResult;
  expiresAt: number;
}
const MAX_CACHE_ENTRIES = 1000;

/** A per-instance cache of verification results by token (bounded; the oldest entry goes first). */
export class ResultCache {
  private readonly entries = new Map<string, CacheEntry>();
  get(token: string, now: number): VerifyResult | undefined {
    const e = this.entries.get(token);
    if (!e) return undefined;
    if (e.expiresAt <= now) {
      this.entries.delete(token);
      return undefined;
    }
    return e.result;
  }
  set(token: string, result: VerifyResult, ttlSeconds: number, now: number): void {
    if (ttlSeconds <= 0) return;
    let expiresAt = now + ttlSeconds * 1000;
    if (result.ok && typeof result.claims.exp === 'number') expiresAt = Math.min(expiresAt, result.claims.exp * 1000);
    if (expiresAt <= now) return;
    if (this.entries.size >= MAX_CACHE_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(token, { result, expiresAt });
  }
  get size(): number {
    return this.entries.size;
  }
}

export interface AuthorizerDeps {
  settings: TokenSettings;
  cacheTtlSeconds: number;
  cache: ResultCache;
  now(): number;
  verify?: typeof verifyToken;
}

async function check(token: string | undefined, deps: AuthorizerDeps): Promise<VerifyResult> {
  const now = deps.now();
  if (token) {
    const hit = deps.cache.get(token, now);
    if (hit) return hit;
  }
  const result = await (deps.verify ?? verifyToken)(token, deps.settings, now);
  if (result.ok && result.staleKeys) console.log(JSON.stringify({ authorizer: 'token', allowed: true, staleKeys: result.staleKeys }));
  // a refusal of the token is cached (at most 60 s); a failure of the key source never is: the next request retries
  if (token && (result.ok || !result.unavailable)) deps.cache.set(token, result, result.ok ? deps.cacheTtlSeconds : Math.min(deps.cacheTtlSeconds, 60), now);
  return result;
}

export function isAppSyncEvent(e: unknown): e is AppSyncAuthorizerEvent {
  const x = e as Partial<AppSyncAuthorizerEvent> | null;
  return !!x && typeof x === 'object' && 'authorizationToken' in x && typeof x.requestContext?.apiId === 'string' && !('methodArn' in x);
}

export function isRequestEvent(e: unknown): e is RequestAuthorizerEvent {
  const x = e as Partial<RequestAuthorizerEvent> | null;
  return !!x && typeof x === 'object' && (x.type === 'REQUEST' || x.type === 'TOKEN') && typeof x.methodArn === 'string';
}

export async function authorizeAppSync(event: AppSyncAuthorizerEvent, deps: AuthorizerDeps): Promise<AppSyncAuthorizerResult> {
  const r = await check(event.authorizationToken, deps);
  if (!r.ok) {
    // ttlOverride 0: AppSync caches neither a refused token nor a key-source failure; the client may retry
    console.log(JSON.stringify({ authorizer: 'appsync', allowed: false, reason: r.reason, ...(r.unavailable ? { unavailable: true } : {}), requestId: event.requestContext.requestId }));
    return { isAuthorized: false, ttlOverride: 0 };
  }
  return { isAuthorized: true, resolverContext: { sub: r.sub }, ttlOverride: appSyncTtl(r, deps) };
}

/**
 * AppSync caches an answer for its ttlOverride seconds and does not look at the token's exp meanwhile
 * (https://docs.aws.amazon.com/appsync/latest/APIReference/API_LambdaAuthorizerConfig.html: "The Lambda function can
 * override this by returning a ttlOverride key in its response"), so the override is the configured TTL cut to the
 * token's remaining lifetime, whole seconds rounded down, never below 0: min(ttl, exp - now). Else an expired token
 * would be accepted for up to the TTL. (API Gateway's REST authorizer has no per-answer TTL: README, Client auth.)
 */
export function appSyncTtl(r: VerifyResult, deps: Pick<AuthorizerDeps, 'cacheTtlSeconds' | 'now'>): number {
  const ttl = Math.max(0, Math.floor(deps.cacheTtlSeconds));
  if (!r.ok || typeof r.claims.exp !== 'number') return r.ok ? ttl : 0;
  return Math.max(0, Math.min(ttl, Math.floor(r.claims.exp - deps.now() / 1000)));
}

/** `arn:aws:execute-api:<region>:<account>:<api>/<stage>/<verb>/<path>` → the same ARN for every method of the stage. */
export function stageWildcard(methodArn: string): string {
  const m = /^(arn:[^:]+:execute-api:[^:]+:[^:]+:[^/]+\/[^/]+)\//.exec(methodArn);
  return m ? `${m[1]}/*` : methodArn;
}

function headerValue(headers: Record<string, string | undefined> | null | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
  return undefined;
}

/**
 * Allow for a valid token; throws UNAUTHORIZED (API Gateway: 401) for a missing or refused one, and
 * `AuthorizerUnavailable: <why>` (API Gateway: 500) when no token could have been verified (see the header).
 */
export async function authorizeRequest(event: RequestAuthorizerEvent, deps: AuthorizerDeps): Promise<PolicyResult> {
  const token = event.type === 'TOKEN' ? event.authorizationToken : headerValue(event.headers, 'authorization');
  const r = await check(token, deps);
  if (!r.ok) {
    console.log(JSON.stringify({ authorizer: 'apigateway', allowed: false, reason: r.reason, ...(r.unavailable ? { unavailable: true } : {}), methodArn: event.methodArn }));
    throw new Error(r.unavailable ? `${AUTHORIZER_UNAVAILABLE}: ${r.reason}` : UNAUTHORIZED);
  }
  return {
    principalId: r.sub,
    policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: stageWildcard(event.methodArn) }] },
    context: { sub: r.sub },
  };
}

const cache = new ResultCache();

export async function handler(event: unknown): Promise<AppSyncAuthorizerResult | PolicyResult> {
  const env = authSettingsFromEnv(process.env);
  const deps: AuthorizerDeps = { settings: env.settings, cacheTtlSeconds: env.cacheTtlSeconds, cache, now: Date.now };
  if (isRequestEvent(event)) return authorizeRequest(event, deps);
  if (isAppSyncEvent(event)) return authorizeAppSync(event, deps);
  throw new Error('authorizer: not an AppSync AWS_LAMBDA or API Gateway REQUEST/TOKEN authorizer event');
}
