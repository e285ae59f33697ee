/**
 * Caller verification for one region's local AppSync endpoint, shared by the HTTP face (./http.ts), the realtime
 * WebSocket (./realtime.ts) and the tests' stand-in (test/support/fakeAppSync.ts), so every way in checks callers
 * the same way. The API's modes are API_KEY (when the region has a key) + AWS_IAM:
 *
 * - API key: `x-api-key` equal to the region's key → API_KEY_CALLER. Missing or unknown key → 401
 *   UnauthorizedException "You are not authorized to make this call." (AppSync's wording for a rejected key, see
 *   https://github.com/aws/aws-appsync-community/issues/372 and the real-time connection_error frames quoted in
 *   https://github.com/aws-amplify/amplify-android/issues/1392).
 * - SigV4 (service `appsync`, this region) → IAM_CALLER: parses the Authorization header, checks the access key
 *   (and the session token, if the known credentials have one), the credential scope (date/region/appsync/
 *   aws4_request) and x-amz-date freshness (±5 min), then re-signs the request — method, path, query, the headers
 *   named in SignedHeaders, the body — with @smithy/signature-v4 and the known secret and compares signatures.
 *   Failures answer as AWS's SigV4 front door does: 403 UnrecognizedClientException (unknown key/token),
 *   IncompleteSignatureException (malformed header, host or x-amz-date not signed), InvalidSignatureException
 *   (scope, stale date, signature mismatch); 400 InvalidSignatureException when x-amz-content-sha256 does not match
 *   the body.
 * - AWS_LAMBDA (`auth.mode: token`; `lambda` set, no API key): any other `Authorization` value is the
 *   token, handed to the region's authorizer function (the bundled handlers/authorizer.ts) as AppSync's event
 *   `{authorizationToken, requestContext}`; `isAuthorized: true` → a `lambda` caller whose ctx.identity is
 *   `{resolverContext}`, anything else (false, a function error) → 401 UnauthorizedException NOT_AUTHORIZED
 *   (https://docs.aws.amazon.com/appsync/latest/devguide/security-authz.html#aws-lambda-authorization).
 * - Neither: 401 UnauthorizedException ("Valid authorization header not provided." for an IAM-only API).
 *
 * Realtime callers send the same headers as a JSON object (./realtime.ts decodes it); for SigV4 they sign
 * POST <graphql path>/connect with body `{}` to connect and POST <graphql path> with the subscription's data string
 * to start (https://docs.aws.amazon.com/appsync/latest/devguide/real-time-websocket-client.html, IAM section).
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { API_KEY_CALLER, IAM_CALLER, type CallerIdentity } from './graphql';

export interface StaticCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface AuthConfig {
  /** The region SigV4 callers must sign for. */
  region: string;
  /** The region's API key; undefined = an IAM-only API (the tests' stand-in). */
  apiKey?: string;
  /** The one identity IAM callers may sign as. */
  credentials: StaticCredentials;
  /** AWS_LAMBDA: the region's authorizer function (token mode); see the header. */
  lambda?: LambdaAuthorizer;
}

/** Invokes the authorizer function with AppSync's event and returns its answer. */
export type LambdaAuthorizer = (event: { authorizationToken: string; requestContext: Record<string, unknown>; requestHeaders: Record<string, string> }) => Promise<unknown>;

/** Header names lower-cased; values as Node gives them. */
export type HeaderBag = Record<string, string | string[] | undefined>;

/** What a SigV4 signature covers. */
export interface SignedParts {
  method: string;
  /** The path without the query, e.g. /graphql or /graphql/connect. */
  path: string;
  query?: Record<string, string>;
  headers: HeaderBag;
  body: string;
}

export interface AuthDenied {
  ok: false;
  status: number;
  errorType: string;
  message: string;
}
export type AuthOutcome = { ok: true; caller: CallerIdentity } | AuthDenied;

export const NOT_AUTHORIZED = 'You are not authorized to make this call.';

const deny = (status: number, errorType: string, message: string): AuthDenied => ({ ok: false, status, errorType, message });

const AUTH = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const MAX_SKEW_MS = 5 * 60_000;

/** Lower-cases header names (realtime callers send e.g. `Authorization` inside their JSON). */
export function lowerCaseHeaders(headers: Record<string, unknown>): HeaderBag {
  const out: HeaderBag = {};
  for (const [k, v] of Object.entries(headers)) {
    if (typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string'))) out[k.toLowerCase()] = v as string | string[];
  }
  return out;
}

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(',') : v;
}

/**
 * Compares two secrets (API keys, session tokens) in time that does not depend on where they differ, as a real
 * gateway does: both are hashed to 32 bytes first, so crypto.timingSafeEqual gets equal-length buffers and the
 * comparison does not reveal the key's length either.
 */
export function sameSecret(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

/** Verifies an API key or SigV4 caller (see the header comment for the rules and answers). */
export async function authenticate(req: SignedParts, cfg: AuthConfig, now: number = Date.now()): Promise<AuthOutcome> {
  const authorization = one(req.headers.authorization);
  const apiKey = one(req.headers['x-api-key']);
  if (authorization?.startsWith('AWS4-')) return verifySigV4(req, cfg, now);
  if (apiKey !== undefined) {
    return cfg.apiKey !== undefined && sameSecret(apiKey, cfg.apiKey) ? { ok: true, caller: API_KEY_CALLER } : deny(401, 'UnauthorizedException', NOT_AUTHORIZED);
  }
  if (authorization && cfg.lambda) return verifyLambda(authorization, req, cfg.lambda);
  if (authorization) return verifySigV4(req, cfg, now);
  return deny(401, 'UnauthorizedException', cfg.apiKey !== undefined ? NOT_AUTHORIZED : 'Valid authorization header not provided.');
}

/** AWS_LAMBDA: the authorizer function decides (see the header). */
async function verifyLambda(token: string, req: SignedParts, lambda: LambdaAuthorizer): Promise<AuthOutcome> {
  let body: { query?: unknown; operationName?: unknown; variables?: unknown } = {};
  try {
    body = JSON.parse(req.body) as typeof body;
  } catch {
    // the realtime connect signs `{}`; a body that is not JSON is refused later, after auth, as AppSync does
  }
  const requestHeaders: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) requestHeaders[k] = one(v) as string;
  let answer: { isAuthorized?: unknown; resolverContext?: unknown } | null;
  try {
    answer = (await lambda({
      authorizationToken: token,
      requestContext: {
        apiId: 'local',
        accountId: '000000000000',
        requestId: randomUUID(),
        queryString: typeof body?.query === 'string' ? body.query : '',
        operationName: typeof body?.operationName === 'string' ? body.operationName : undefined,
        variables: body?.variables && typeof body.variables === 'object' ? body.variables : {},
      },
      requestHeaders,
    })) as typeof answer;
  } catch {
    return deny(401, 'UnauthorizedException', NOT_AUTHORIZED);
  }
  if (answer?.isAuthorized !== true) return deny(401, 'UnauthorizedException', NOT_AUTHORIZED);
  const resolverContext = answer.resolverContext && typeof answer.resolverContext === 'object' ? answer.resolverContext : {};
  return { ok: true, caller: { mode: 'lambda', identity: { resolverContext } } };
}

/** Verifies a SigV4-signed request for service appsync in cfg.region with cfg.credentials. */
export async function verifySigV4(req: SignedParts, cfg: AuthConfig, now: number = Date.now()): Promise<AuthOutcome> {
  const authorization = one(req.headers.authorization);
  if (!authorization) return deny(401, 'UnauthorizedException', 'Valid authorization header not provided.');
  const m = AUTH.exec(authorization);
  if (!m) return deny(403, 'IncompleteSignatureException', 'Authorization header is not a well-formed SigV4 header.');
  const [, accessKeyId, scopeDate, scopeRegion, scopeService, signedHeaderList, signature] = m;
  const known = cfg.credentials;
  if (accessKeyId !== known.accessKeyId) {
    return deny(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
  }
  if (known.sessionToken !== undefined && !sameSecret(one(req.headers['x-amz-security-token']) ?? '', known.sessionToken)) {
    return deny(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
  }
  if (scopeService !== 'appsync' || scopeRegion !== cfg.region) {
    return deny(403, 'InvalidSignatureException', `Credential should be scoped to correct service/region: 'appsync' in '${cfg.region}'.`);
  }
  const signedNames = signedHeaderList.split(';');
  const amzDate = one(req.headers['x-amz-date']) ?? '';
  const dm = AMZ_DATE.exec(amzDate);
  if (!dm || !signedNames.includes('x-amz-date') || !signedNames.includes('host')) {
    return deny(403, 'IncompleteSignatureException', 'The request must sign host and x-amz-date.');
  }
  const signingDate = new Date(Date.UTC(+dm[1], +dm[2] - 1, +dm[3], +dm[4], +dm[5], +dm[6]));
  if (Math.abs(now - signingDate.getTime()) > MAX_SKEW_MS || amzDate.slice(0, 8) !== scopeDate) {
    return deny(403, 'InvalidSignatureException', 'Signature expired or credential scope date does not match x-amz-date.');
  }

  const headers: Record<string, string> = {};
  for (const name of signedNames) {
    const v = one(req.headers[name]);
    if (v === undefined) return deny(403, 'InvalidSignatureException', `Signed header ${name} is missing.`);
    headers[name] = v;
  }
  // The signer trusts a given x-amz-content-sha256 instead of hashing the body: check it against the body.
  const claimed = headers['x-amz-content-sha256'];
  if (claimed !== undefined && claimed !== createHash('sha256').update(req.body).digest('hex')) {
    return deny(400, 'InvalidSignatureException', 'The provided x-amz-content-sha256 header does not match what was computed.');
  }
  // applyChecksum off: sign exactly the headers the caller signed (Amplify's signer sends no content hash header).
  const signer = new SignatureV4({ service: 'appsync', region: cfg.region, credentials: known, sha256: Sha256, applyChecksum: false });
  const resigned = await signer.sign(
    new HttpRequest({ method: req.method, protocol: 'https:', hostname: headers.host, path: req.path, query: req.query ?? {}, headers, body: req.body }),
    { signingDate, signableHeaders: new Set(signedNames) },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(resigned.headers.authorization ?? '')?.[1] ?? '';
  const expectedSigned = /SignedHeaders=([a-z0-9;-]+)/.exec(resigned.headers.authorization ?? '')?.[1];
  if (expectedSigned !== signedHeaderList || expected.length !== 64 || !timingSafeEqual(Buffer.from(expected), Buffer.from(signature))) {
    return deny(
      403,
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    );
  }
  return { ok: true, caller: IAM_CALLER };
}
