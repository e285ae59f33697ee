/**
 * Validation of the `auth` keys issue 10 adds, called by config.ts (still the only reader of raw config):
 * `auth.key` of apiKey mode and the whole of `auth.mode: token`. Each problem names the field, the value (secret
 * values are never echoed) and what is allowed.
 *
 * A secret set with `pulumi config set --secret --path auth.secret ...` reaches the program decrypted (the Pulumi
 * runtime), but a stack file read offline (`npm run plan`, `npm run token`) holds `{secure: "v1:..."}`: that is
 * accepted as "set, encrypted" and stands in as ENCRYPTED_PLACEHOLDER (length rules can only be checked on the
 * decrypted value, at `pulumi up`).
 */
import { createPublicKey } from 'node:crypto';

export const TOKEN_FIELDS: readonly string[] = ['secret', 'jwksUrl', 'publicKey', 'issuer', 'audience', 'ttlSeconds'];
export const ENCRYPTED_PLACEHOLDER = '[secret: encrypted in the stack file]';
export const DEFAULT_TOKEN_TTL_SECONDS = 300;
export const MIN_SECRET_BYTES = 32;

type Bad = (field: string, allowed: string, value?: string) => void;

const isEncrypted = (v: unknown): boolean => !!v && typeof v === 'object' && !Array.isArray(v) && typeof (v as { secure?: unknown }).secure === 'string';

/**
 * `auth.key`: API Gateway takes a given API key value only as 20 to 128 alphanumeric characters
 * (https://www.pulumi.com/registry/packages/aws/api-docs/apigateway/apikey/#value_nodejs, CreateApiKey's `value`:
 * https://docs.aws.amazon.com/apigateway/latest/api/API_CreateApiKey.html).
 */
export function parseApiKeyValue(v: unknown, bad: Bad): string | undefined {
  if (v === undefined) return undefined;
  if (isEncrypted(v)) return ENCRYPTED_PLACEHOLDER;
  if (typeof v !== 'string' || !/^[A-Za-z0-9]{20,128}$/.test(v)) {
    bad('key', 'the one API Gateway API key every region shares: 20 to 128 letters and digits (API Gateway\'s rule for a given key value); set it with `pulumi config set --secret --path auth.key <value>`, or leave it out to have one generated');
    return undefined;
  }
  return v;
}

function httpsUrl(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  try {
    const u = new URL(v);
    return u.protocol === 'https:' && !!u.hostname;
  } catch {
    return false;
  }
}

/** `auth.mode: token` → TokenAuthConfig (see config.ts); problems through `bad`. */
export function parseTokenAuth(obj: Record<string, unknown>, bad: Bad) {
  const given = (['secret', 'jwksUrl', 'publicKey'] as const).filter((f) => obj[f] !== undefined);
  if (given.length !== 1) {
    bad(given.length === 0 ? 'secret' : given.join('+'), `exactly one of secret (HMAC HS256, a Pulumi secret of at least ${MIN_SECRET_BYTES} bytes), jwksUrl (https) or publicKey (PEM, RSA or EC P-256); ${given.length === 0 ? 'none is' : `${given.join(' and ')} are`} set`, given.length === 0 ? '(not set)' : `${given.length} key sources`);
  }
  let secret: string | undefined;
  if (obj.secret !== undefined) {
    if (isEncrypted(obj.secret)) secret = ENCRYPTED_PLACEHOLDER;
    else if (typeof obj.secret !== 'string' || Buffer.byteLength(obj.secret) < MIN_SECRET_BYTES) {
      bad('secret', `a string of at least ${MIN_SECRET_BYTES} bytes (HS256 needs a key as long as its hash, RFC 7518 §3.2), e.g. \`openssl rand -base64 48 | pulumi config set --secret --path auth.secret\``);
    } else secret = obj.secret;
  }
  if (obj.jwksUrl !== undefined && !httpsUrl(obj.jwksUrl)) bad('jwksUrl', 'the issuer\'s JSON Web Key Set, an https:// URL (http is refused: keys fetched in clear can be swapped)');
  let publicKey: string | undefined;
  if (obj.publicKey !== undefined) {
    const why = publicKeyProblem(obj.publicKey);
    if (why) bad('publicKey', why);
    else publicKey = obj.publicKey as string;
  }
  const nonEmpty = (f: 'issuer' | 'audience', example: string): string => {
    const v = obj[f];
    if (typeof v !== 'string' || v.trim() === '' || v.length > 2048) {
      bad(f, `required: the \`${f === 'issuer' ? 'iss' : 'aud'}\` claim every token must carry, a non-empty string of at most 2048 characters, e.g. ${example}`);
      return '';
    }
    return v;
  };
  const issuer = nonEmpty('issuer', 'https://auth.example.com/');
  const audience = nonEmpty('audience', 'global-appsync');
  const ttl = obj.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
  // AppSync authorizerResultTtlInSeconds 0–3600 (https://docs.aws.amazon.com/appsync/latest/APIReference/API_LambdaAuthorizerConfig.html);
  // API Gateway's authorizer TTL has the same range
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 0 || ttl > 3600) bad('ttlSeconds', 'a whole number of seconds from 0 to 3600 (authorizer result cache; AppSync\'s and API Gateway\'s range)');
  return {
    mode: 'token' as const,
    ...(secret !== undefined ? { secret } : {}),
    ...(typeof obj.jwksUrl === 'string' ? { jwksUrl: obj.jwksUrl } : {}),
    ...(publicKey !== undefined ? { publicKey } : {}),
    issuer,
    audience,
    ttlSeconds: typeof ttl === 'number' ? ttl : DEFAULT_TOKEN_TTL_SECONDS,
  };
}

function publicKeyProblem(v: unknown): string | undefined {
  const allowed = 'a PEM public key (-----BEGIN PUBLIC KEY-----), RSA of at least 2048 bits (RS256) or EC P-256 (ES256)';
  if (typeof v !== 'string' || !v.includes('-----BEGIN PUBLIC KEY-----')) return allowed;
  try {
    const key = createPublicKey({ key: v, format: 'pem' });
    if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048) return undefined;
    if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return undefined;
    return `${allowed}; this one is ${key.asymmetricKeyType}${key.asymmetricKeyDetails?.modulusLength ? ` of ${key.asymmetricKeyDetails.modulusLength} bits` : ''}${key.asymmetricKeyDetails?.namedCurve ? ` on ${key.asymmetricKeyDetails.namedCurve}` : ''}`;
  } catch (e) {
    return `${allowed}; this one does not parse (${(e as Error).message})`;
  }
}
