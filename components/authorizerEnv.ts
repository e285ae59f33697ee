/**
 * What the project's token authorizer (handlers/authorizer.ts) is told, per auth mode, as its environment
 * (AUTH_ISSUER, AUTH_AUDIENCE, AUTH_SECRET, AUTH_JWKS_URL, AUTH_PUBLIC_KEY, AUTH_CACHE_TTL: the names the
 * handler reads). Two modes deploy it:
 * - `token`: the stack's own settings, exactly one of secret / jwksUrl / publicKey;
 * - `oidc`: REST needs a JWT check that AppSync's OPENID_CONNECT does for GraphQL, so the same authorizer checks
 *   the issuer's tokens against its JWKS at `<issuer>/.well-known/jwks.json` (where Cognito, Auth0 and Okta
 *   publish their keys; OIDC discovery's `jwks_uri` is not fetched at deploy time, the program has no network
 *   access then), with `clientId` as the audience when set.
 * Generic over the value type (Pulumi Inputs or plain strings) and free of @pulumi/* imports, like lambdaEnv.ts.
 */
import type { AuthConfig } from '../config/auth';

/** Modes whose REST and GraphQL-through-API-Gateway paths are checked by the project's authorizer function. */
export function usesProjectAuthorizer(auth: AuthConfig): auth is Extract<AuthConfig, { mode: 'token' | 'oidc' }> {
  return auth.mode === 'token' || auth.mode === 'oidc';
}

/** `<issuer>/.well-known/jwks.json`, without a doubled slash. */
export function oidcJwksUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}/.well-known/jwks.json`;
}

/** The authorizer's variables; `secret` wraps the HMAC secret (Pulumi passes pulumi.secret, the emulator identity). */
export function authorizerEnv<T>(auth: Extract<AuthConfig, { mode: 'token' | 'oidc' }>, secret: (s: string) => T): Record<string, T | string> {
  if (auth.mode === 'oidc') {
    return { AUTH_ISSUER: auth.issuer, AUTH_AUDIENCE: auth.clientId ?? '', AUTH_JWKS_URL: oidcJwksUrl(auth.issuer), AUTH_CACHE_TTL: '300' };
  }
  return {
    AUTH_ISSUER: auth.issuer,
    AUTH_AUDIENCE: auth.audience,
    ...(auth.secret !== undefined ? { AUTH_SECRET: secret(auth.secret) } : {}),
    ...(auth.jwksUrl !== undefined ? { AUTH_JWKS_URL: auth.jwksUrl } : {}),
    ...(auth.publicKey !== undefined ? { AUTH_PUBLIC_KEY: auth.publicKey } : {}),
    AUTH_CACHE_TTL: String(auth.ttlSeconds),
  };
}

/** How long API Gateway and AppSync cache an authorizer answer (both allow 0–3600 s). */
export function authorizerTtl(auth: AuthConfig): number {
  return auth.mode === 'token' || auth.mode === 'lambda' ? auth.ttlSeconds : 300;
}
