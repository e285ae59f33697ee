/**
 * The token authorizer's pure core: is this JWT one of ours? `verifyToken(token, settings, now)` answers
 * `{ok: true, sub, claims}` or `{ok: false, reason}` with a short, loggable reason (never the token itself). The
 * cryptography and the claim checks are jose's (jwtVerify); this module decides WHICH key and algorithms are
 * acceptable and refuses what jose would not be asked about:
 *
 * - one key source per deployment (config/ enforces exactly one): an HMAC `secret` → HS256 only; a PEM
 *   `publicKey` → RS256 (RSA key) or ES256 (P-256 key) only, decided by the key's type, never by the token; a
 *   `jwksUrl` (https) → RS256 / ES256 with the key the JWKS names by `kid`. `algorithms` is always pinned, so
 *   `alg: none` and algorithm confusion (an HS256 token "signed" with the public key's PEM text) are refused;
 * - `exp` and `sub` are required, `nbf` honoured, `iss` and `aud` must equal the configured values;
 * - `typ`, when present, must be `JWT` or `at+jwt` (RFC 8725 §3.11: reject tokens of other kinds);
 * - tokens over MAX_TOKEN_BYTES are refused before any parsing (verification decodes and hashes the whole input,
 *   so an unbounded token is unbounded work);
 * - clock tolerance CLOCK_TOLERANCE_S (30 s) for exp/nbf, covering skew between the issuer's clock and Lambda's.
 *
 * A `Bearer ` prefix is accepted (clients send `Authorization: Bearer <jwt>` or the bare JWT).
 *
 * A refusal says whose fault it is. `{ok: false, unavailable: true}` means no token could have been verified: the
 * key source failed (the JWKS could not be fetched or is not a JWKS) or the authorizer is misconfigured. The
 * adapters (handlers/authorizer.ts) never cache such an answer against the token and answer it as a server error.
 * A failed JWKS fetch is retried on a later request with a backoff (1 s, doubling to 30 s, reset by the next
 * successful fetch): jose's createRemoteJWKSet refetches on every request while it holds no keys (its cooldown
 * only spaces out refetches for an unknown kid after a SUCCESSFUL fetch), so without it an outage would send every
 * request to the key source. Each verification decides for itself, from its own `now`, whether it may fetch:
 * inside the backoff it does not call the remote set at all, so concurrent verifications never share that choice.
 *
 * Stale keys: jose reloads keys older than cacheMaxAge (10 min) before using them, and a failed reload fails the
 * verification, so without more an outage longer than 10 min would refuse every token. So while the JWKS cannot be
 * fetched (a failed fetch, or inside the backoff), tokens are verified with jose's createLocalJWKSet over the last
 * set fetched successfully, for at most JWKS_STALE_MAX_MS (24 h) after that fetch; the answer then carries
 * `staleKeys` saying so. A token whose kid that set lacks (perhaps a key rotated in during the outage), or any
 * token once the set is older than the bound or when none was ever fetched, is answered `unavailable`.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { createLocalJWKSet, createRemoteJWKSet, errors, jwksCache, jwtVerify, type ExportedJWKSCache, type JWTPayload, type JWTVerifyGetKey } from 'jose';

export interface TokenSettings {
  issuer: string;
  audience: string;
  /** HMAC secret (HS256), ≥ 32 bytes. */
  secret?: string;
  /** https URL of the issuer's JSON Web Key Set (RS256/ES256). */
  jwksUrl?: string;
  /** PEM (SPKI) public key, RSA (RS256) or EC P-256 (ES256). */
  publicKey?: string;
}

/** `unavailable`: the authorizer could not verify any token (key source down, misconfiguration), see the header. */
/** `staleKeys`: verified with the last JWKS fetched, because fetching it again failed (see the header). */
export type VerifyResult = { ok: true; sub: string; claims: JWTPayload; staleKeys?: string } | { ok: false; reason: string; unavailable?: true };

/** Bigger tokens are refused unparsed. API Gateway caps all headers at 10 KB; real JWTs are well under 4 KB. */
export const MAX_TOKEN_BYTES = 8 * 1024;
/** Allowed skew for exp and nbf, in seconds. */
export const CLOCK_TOLERANCE_S = 30;
const ALLOWED_TYP = new Set(['jwt', 'at+jwt', 'application/jwt', 'application/at+jwt']);

/** Backoff before the JWKS is fetched again after the n-th failed fetch in a row: 1 s, doubling, at most 30 s. */
export function jwksBackoffMs(failures: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.max(0, failures - 1));
}

/** How long after its fetch the last good JWKS still verifies tokens while the JWKS cannot be fetched. */
export const JWKS_STALE_MAX_MS = 24 * 3600 * 1000;

/** Failed fetches of one JWKS URL in a row, when the next fetch is allowed (epoch ms), and the last good set. */
interface JwksGate {
  failures: number;
  retryAt: number;
  lastFailure: string;
  /** The error of the last failed fetch: verifications awaiting the same fetch count it once. */
  lastError?: unknown;
  /** jose writes every successfully fetched set here ({uat, jwks}); a new uat is a successful fetch. */
  fetched: Partial<ExportedJWKSCache>;
  /** The last set fetched successfully, as a local key set, and when it was seen (epoch ms, the verifier's clock). */
  lastGood?: { uat: number; keys: JWTVerifyGetKey; at: number };
}

type RemoteJwks = ReturnType<typeof createRemoteJWKSet>;
type KeySource =
  | { key: Uint8Array | KeyObject; algorithms: string[] }
  | { jwks: RemoteJwks; gate: JwksGate; algorithms: string[] }
  | { error: string };

/** The key source failed: the token was not judged. */
class KeySourceUnavailable extends Error {}

const keyCache = new Map<string, KeySource>();

/** The key and the ONLY algorithms it may verify, from the settings (cached: the JWKS keeps its fetched keys). */
export function keySource(s: TokenSettings): KeySource {
  const cacheKey = JSON.stringify([s.secret, s.jwksUrl, s.publicKey]);
  let src = keyCache.get(cacheKey);
  if (src) return src;
  const given = [s.secret, s.jwksUrl, s.publicKey].filter((v) => v !== undefined && v !== '').length;
  if (given !== 1) {
    src = { error: `authorizer misconfigured: exactly one of secret, jwksUrl, publicKey must be set (${given} are)` };
  } else if (s.secret) {
    src = Buffer.byteLength(s.secret) < 32 ? { error: 'authorizer misconfigured: secret shorter than 32 bytes' } : { key: new TextEncoder().encode(s.secret), algorithms: ['HS256'] };
  } else if (s.jwksUrl) {
    const url = new URL(s.jwksUrl);
    // http is refused in config (config/); tests serve a local http JWKS, which only 127.0.0.1 may use
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && url.hostname === '127.0.0.1')) src = { error: 'authorizer misconfigured: jwksUrl must be https' };
    else {
      const gate: JwksGate = { failures: 0, retryAt: 0, lastFailure: '', fetched: {} };
      const jwks = createRemoteJWKSet(url, { timeoutDuration: 3000, cooldownDuration: 30_000, cacheMaxAge: 600_000, [jwksCache]: gate.fetched as ExportedJWKSCache });
      src = { jwks, gate, algorithms: ['RS256', 'ES256'] };
    }
  } else {
    src = publicKeySource(s.publicKey as string);
  }
  keyCache.set(cacheKey, src);
  return src;
}

function publicKeySource(pem: string): KeySource {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch {
    return { error: 'authorizer misconfigured: publicKey is not a PEM public key' };
  }
  if (key.asymmetricKeyType === 'rsa') return { key, algorithms: ['RS256'] };
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return { key, algorithms: ['ES256'] };
  return { error: `authorizer misconfigured: publicKey must be RSA or EC P-256 (got ${key.asymmetricKeyType})` };
}

function decodeSegment(seg: string): unknown {
  if (!/^[A-Za-z0-9_-]*$/.test(seg)) throw new Error('not base64url');
  return JSON.parse(Buffer.from(seg, 'base64url').toString('utf8'));
}

const fail = (reason: string): VerifyResult => ({ ok: false, reason });
const unavailable = (reason: string): VerifyResult => ({ ok: false, reason, unavailable: true });

/** Did the JWKS fetch fail (as opposed to the token not matching the keys)? */
function isFetchFailure(err: unknown): boolean {
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid) return true;
  // jose's fetch answers a non-200 or a body that is not JSON with a plain JOSEError; fetch itself throws a TypeError
  if (err instanceof errors.JOSEError) return err.code === 'ERR_JOSE_GENERIC';
  return true;
}

function describeFetchFailure(err: unknown): string {
  const e = err as { message?: unknown; cause?: { code?: unknown; message?: unknown } };
  const cause = e.cause && typeof e.cause === 'object' ? (typeof e.cause.code === 'string' ? e.cause.code : typeof e.cause.message === 'string' ? e.cause.message : '') : '';
  const text = typeof e.message === 'string' ? e.message : String(err);
  return `${text}${cause ? ` (${cause})` : ''}`.slice(0, 200);
}

/** Notes a set jose fetched since the last look: it becomes the last good set, and the failures start over. */
function noteFetch(gate: JwksGate, now: number): void {
  const { uat, jwks } = gate.fetched;
  if (uat === undefined || jwks === undefined || uat === gate.lastGood?.uat) return;
  gate.lastGood = { uat, keys: createLocalJWKSet(jwks), at: now };
  gate.failures = 0;
  gate.retryAt = 0;
}

/** The last good set's key for the token, while the JWKS cannot be fetched (`why`); unavailable past the bound. */
async function staleKey(gate: JwksGate, now: number, used: KeyUse, why: string, header: Parameters<JWTVerifyGetKey>[0], token: Parameters<JWTVerifyGetKey>[1]): Promise<Awaited<ReturnType<JWTVerifyGetKey>>> {
  const good = gate.lastGood;
  if (!good || now - good.at > JWKS_STALE_MAX_MS) throw new KeySourceUnavailable(why);
  const age = `${Math.round((now - good.at) / 1000)} s`;
  try {
    const key = await good.keys(header, token);
    used.staleKeys = `JWKS unavailable (${gate.lastFailure}): verified with the keys fetched ${age} ago`;
    return key;
  } catch (err) {
    if (err instanceof errors.JWKSNoMatchingKey) throw new KeySourceUnavailable(`${why}; the keys fetched ${age} ago have none for this token's kid`);
    throw err;
  }
}

/** What one verification's key lookup used, beyond a fresh key. */
interface KeyUse {
  staleKeys?: string;
}

/** The JWKS key lookup for one verification at `now` (see the header: backoff and stale keys). */
function gatedKey(jwks: RemoteJwks, gate: JwksGate, now: number, used: KeyUse): JWTVerifyGetKey {
  return async (header, token) => {
    if (now < gate.retryAt) {
      // inside the backoff: no fetch; the last good set, if any, verifies
      return staleKey(gate, now, used, `JWKS unavailable (${gate.lastFailure}): fetched again in ${Math.ceil((gate.retryAt - now) / 1000)} s at the earliest`, header, token);
    }
    try {
      const key = await jwks(header, token);
      noteFetch(gate, now);
      return key;
    } catch (err) {
      // a fetch that succeeded still counts when the key lookup after it fails (an unknown kid)
      noteFetch(gate, now);
      if (!isFetchFailure(err)) throw err;
      if (err !== gate.lastError) {
        gate.lastError = err;
        gate.failures += 1;
        gate.retryAt = now + jwksBackoffMs(gate.failures);
        gate.lastFailure = describeFetchFailure(err);
      }
      return staleKey(gate, now, used, `JWKS unavailable: ${gate.lastFailure}; fetched again in ${Math.ceil((gate.retryAt - now) / 1000)} s at the earliest`, header, token);
    }
  };
}

/** Verifies a JWT (see the header for every rule). `now` in milliseconds. */
export async function verifyToken(token: string | undefined | null, settings: TokenSettings, now: number = Date.now()): Promise<VerifyResult> {
  if (token === undefined || token === null || token.trim() === '') return fail('missing token');
  if (Buffer.byteLength(token) > MAX_TOKEN_BYTES) return fail(`token larger than ${MAX_TOKEN_BYTES} bytes`);
  const jwt = token.trim().replace(/^Bearer\s+/i, '');
  const parts = jwt.split('.');
  if (parts.length !== 3) return fail(`malformed: ${parts.length} segment${parts.length === 1 ? '' : 's'}, a JWS has 3`);
  let header: unknown;
  try {
    header = decodeSegment(parts[0]);
  } catch {
    return fail('malformed: header is not base64url JSON');
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) return fail('malformed: header is not a JSON object');
  const { alg, typ } = header as { alg?: unknown; typ?: unknown };
  if (typeof alg !== 'string') return fail('malformed: header has no alg');
  if (alg.toLowerCase() === 'none') return fail('alg none refused: unsigned token');
  if (typ !== undefined && (typeof typ !== 'string' || !ALLOWED_TYP.has(typ.toLowerCase()))) return fail(`wrong typ ${JSON.stringify(typ)}: JWT expected`);
  if (!settings.issuer || !settings.audience) return unavailable('authorizer misconfigured: issuer and audience are required');
  const src = keySource(settings);
  if ('error' in src) return unavailable(src.error);
  if (!src.algorithms.includes(alg)) return fail(`algorithm ${alg} not allowed (this authorizer accepts ${src.algorithms.join(', ')})`);
  try {
    const opts = {
      algorithms: src.algorithms,
      issuer: settings.issuer,
      audience: settings.audience,
      clockTolerance: CLOCK_TOLERANCE_S,
      currentDate: new Date(now),
      requiredClaims: ['exp', 'sub'],
    };
    const used: KeyUse = {};
    const { payload } = 'jwks' in src ? await jwtVerify(jwt, gatedKey(src.jwks, src.gate, now, used), opts) : await jwtVerify(jwt, src.key, opts);
    if (typeof payload.sub !== 'string' || payload.sub.trim() === '') return fail('empty sub');
    if (payload.sub.length > 256) return fail('sub longer than 256 characters');
    return { ok: true, sub: payload.sub, claims: payload, ...(used.staleKeys ? { staleKeys: used.staleKeys } : {}) };
  } catch (err) {
    if (err instanceof KeySourceUnavailable) return unavailable(err.message);
    return fail(reasonOf(err));
  }
}

/** jose's error → a short reason. */
function reasonOf(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return 'not yet valid (nbf)';
    if (err.claim === 'iss') return 'wrong issuer';
    if (err.claim === 'aud') return 'wrong audience';
    return `claim ${err.claim} invalid: ${err.reason}`;
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'bad signature';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (err instanceof errors.JWKSNoMatchingKey) return 'no key in the JWKS matches the token';
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid) return `JWKS unavailable: ${(err as Error).message}`;
  if (err instanceof errors.JWTInvalid || err instanceof errors.JWSInvalid) return `malformed: ${(err as Error).message}`;
  if (err instanceof errors.JOSENotSupported) return `unsupported: ${(err as Error).message}`;
  return `refused: ${(err as Error).message ?? String(err)}`;
}
