/**
 * The token authorizer's environment (handlers/authorizer.ts), set by components/lambdaEnv.ts's `authorizer`
 * entry from `auth` in stack config, and by the emulator the same way:
 *
 * | variable         | meaning                                                                          |
 * |------------------|----------------------------------------------------------------------------------|
 * | AUTH_ISSUER      | required: the `iss` every token must carry                                       |
 * | AUTH_AUDIENCE    | required: the `aud` every token must carry (one of, when aud is a list)          |
 * | AUTH_SECRET      | HMAC secret (HS256); a Pulumi secret in the stack                                |
 * | AUTH_JWKS_URL    | https URL of the issuer's JWKS (RS256/ES256)                                     |
 * | AUTH_PUBLIC_KEY  | PEM public key (RS256 for RSA, ES256 for P-256)                                  |
 * | AUTH_CACHE_TTL   | seconds a result is cached in the function instance (default 300, 0 = off)       |
 *
 * Exactly one of AUTH_SECRET / AUTH_JWKS_URL / AUTH_PUBLIC_KEY is set (empty counts as unset); the core refuses
 * every token otherwise, saying why. Read on every invocation, like handlers/lib/env.ts.
 */
import type { TokenSettings } from './auth';

export const AUTH_ENV = {
  AUTH_ISSUER: 'AUTH_ISSUER',
  AUTH_AUDIENCE: 'AUTH_AUDIENCE',
  AUTH_SECRET: 'AUTH_SECRET',
  AUTH_JWKS_URL: 'AUTH_JWKS_URL',
  AUTH_PUBLIC_KEY: 'AUTH_PUBLIC_KEY',
  AUTH_CACHE_TTL: 'AUTH_CACHE_TTL',
} as const;

export const DEFAULT_AUTH_CACHE_TTL = 300;

export function authSettingsFromEnv(env: Readonly<Record<string, string | undefined>>): { settings: TokenSettings; cacheTtlSeconds: number } {
  const opt = (k: string): string | undefined => (env[k] === undefined || env[k] === '' ? undefined : env[k]);
  const ttlRaw = opt(AUTH_ENV.AUTH_CACHE_TTL);
  const ttl = ttlRaw === undefined ? DEFAULT_AUTH_CACHE_TTL : Number(ttlRaw);
  return {
    settings: {
      issuer: env[AUTH_ENV.AUTH_ISSUER] ?? '',
      audience: env[AUTH_ENV.AUTH_AUDIENCE] ?? '',
      ...(opt(AUTH_ENV.AUTH_SECRET) ? { secret: opt(AUTH_ENV.AUTH_SECRET) } : {}),
      ...(opt(AUTH_ENV.AUTH_JWKS_URL) ? { jwksUrl: opt(AUTH_ENV.AUTH_JWKS_URL) } : {}),
      ...(opt(AUTH_ENV.AUTH_PUBLIC_KEY) ? { publicKey: opt(AUTH_ENV.AUTH_PUBLIC_KEY) } : {}),
    },
    cacheTtlSeconds: Number.isInteger(ttl) && ttl >= 0 && ttl <= 3600 ? ttl : DEFAULT_AUTH_CACHE_TTL,
  };
}
