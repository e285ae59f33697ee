/**
 * The `auth` key: the client auth mode of AppSync and API Gateway and its settings (apiKey, token, lambda, cognito,
 * oidc), including `auth.key` of apiKey mode and the whole of `auth.mode: token`. Each problem names the field, the value (secret
 * values are never echoed) and what is allowed.
 *
 * A secret set with `pulumi config set --secret --path auth.secret ...` reaches the program decrypted (the Pulumi
 * runtime), but a stack file read offline (`npm run plan`, `npm run token`) holds `{secure: "v1:..."}`: that is
 * accepted as "set, encrypted" and stands in as ENCRYPTED_PLACEHOLDER (length rules can only be checked on the
 * decrypted value, at `pulumi up`).
 */
import { createPublicKey } from 'node:crypto';
import { type AuthMode } from '../schema/source';
import { type ConfigProblem, didYouMean, hint, parseObject, show, unknownFields } from './problems';
import { AWS_REGIONS } from './regions';

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

/** `auth.mode: token` → TokenAuthConfig (below); problems through `bad`. */
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

/** `token` is the project's own JWT authorizer: AWS_LAMBDA in AppSync, a REQUEST authorizer in API Gateway. */
export type ClientAuthMode = AuthMode | 'token';
export const AUTH_MODES: readonly ClientAuthMode[] = ['apiKey', 'lambda', 'cognito', 'oidc', 'token'];

export type AuthConfig =
  | {
      mode: 'apiKey';
      /** days until the API key expires (AppSync allows 1–365) */
      expiresInDays: number;
      /** the ONE API Gateway key value every region shares (a secret: wrap it in pulumi.secret); absent = generated */
      key?: string;
    }
  | TokenAuthConfig
  | { mode: 'lambda'; authorizerArn: string; ttlSeconds: number }
  | { mode: 'cognito'; userPoolId: string; awsRegion: string; appIdClientRegex?: string }
  | { mode: 'oidc'; issuer: string; clientId?: string };

/**
 * `auth.mode: token` (parseTokenAuth validates it): exactly one of secret / jwksUrl / publicKey. `secret` is
 * a secret value: whatever puts it into a resource wraps it in pulumi.secret (the authorizer's AUTH_SECRET).
 */
export interface TokenAuthConfig {
  mode: 'token';
  secret?: string;
  jwksUrl?: string;
  publicKey?: string;
  issuer: string;
  audience: string;
  /** authorizer result cache, seconds (AppSync and API Gateway both allow 0–3600) */
  ttlSeconds: number;
}

const LAMBDA_ARN = /^arn:aws:lambda:([a-z0-9-]+):\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]+)?$/;
const USER_POOL_ID = /^([a-z]{2}-[a-z]+-\d)_[A-Za-z0-9]+$/;

export function parseAuth(raw: string | undefined, problems: ConfigProblem[]): AuthConfig {
  const fallback: AuthConfig = { mode: 'apiKey', expiresInDays: 365 };
  if (raw === undefined || raw === '') return fallback;
  const obj = parseObject('auth', raw, problems, `{mode: ${AUTH_MODES.join(' | ')}, ...}`);
  if (!obj) return fallback;
  // secret values are never echoed: only their type and length
  const masked = (v: unknown): string => (typeof v === 'string' ? `[secret, ${Buffer.byteLength(v)} bytes]` : show(v));
  const bad = (field: string, allowed: string, value?: string): void => {
    problems.push({ key: `auth.${field}`, value: value ?? (field === 'secret' || field === 'key' ? masked(obj[field]) : show(obj[field])), allowed });
  };
  const mode = obj.mode;
  if (typeof mode === 'string' && (AUTH_MODES as readonly string[]).includes(mode)) return authOfMode(mode as ClientAuthMode, obj, bad, problems);
  // A bad mode: name it, then still check the other fields as the mode the user most likely meant (the near miss
  // of `mode`, else the one mode whose fields are all the given ones), so one run reports every problem.
  const fields = Object.keys(obj).filter((f) => f !== 'mode');
  const byFields = AUTH_MODES.filter((m) => fields.length > 0 && fields.every((f) => AUTH_FIELDS[m].includes(f)));
  const near = typeof mode === 'string' ? (didYouMean(mode, AUTH_MODES) ?? MODE_SYNONYMS[fold(mode)]) : undefined;
  const meant = near ?? (byFields.length === 1 || (byFields.length === 2 && byFields[1] === 'token') ? byFields[0] : undefined); // token's fields overlap oidc's and lambda's: the older mode wins
  bad('mode', `${near ? `did you mean ${JSON.stringify(near)}? ` : ''}one of ${AUTH_MODES.join(', ')}`);
  if (meant) authOfMode(meant as ClientAuthMode, obj, bad, problems);
  else unknownFields('auth', Object.fromEntries(fields.map((f) => [f, obj[f]])), [...new Set(AUTH_MODES.flatMap((m) => AUTH_FIELDS[m]))], problems);
  return fallback;
}

/**
 * Other names for the modes, which `didYouMean` cannot reach by spelling: what the token is called (a JWT), and
 * AppSync's own names for its authorization types (API_KEY, AWS_LAMBDA, OPENID_CONNECT, AMAZON_COGNITO_USER_POOLS:
 * https://docs.aws.amazon.com/appsync/latest/devguide/security-authz.html). Keys are folded as `fold` does.
 */
const MODE_SYNONYMS: Readonly<Record<string, ClientAuthMode>> = {
  jwt: 'token',
  bearer: 'token',
  hs256: 'token',
  hmac: 'token',
  awslambda: 'lambda',
  openid: 'oidc',
  openidconnect: 'oidc',
  amazoncognitouserpools: 'cognito',
  cognitouserpools: 'cognito',
  userpool: 'cognito',
};
const fold = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]/g, '');

/** The fields each auth mode takes (besides `mode`). */
const AUTH_FIELDS: Readonly<Record<ClientAuthMode, readonly string[]>> = {
  apiKey: ['expiresInDays', 'key'],
  token: TOKEN_FIELDS,
  lambda: ['authorizerArn', 'ttlSeconds'],
  cognito: ['userPoolId', 'awsRegion', 'appIdClientRegex'],
  oidc: ['issuer', 'clientId'],
};

function authOfMode(mode: ClientAuthMode, obj: Record<string, unknown>, bad: (field: string, allowed: string, value?: string) => void, problems: ConfigProblem[]): AuthConfig {
  // in the modes that take secrets, a misspelt secret field (`secert`, `apiKey`) is still a secret: not echoed
  const masking = mode === 'token' || mode === 'apiKey';
  const shown = Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, masking && (/secret|key/i.test(k) || didYouMean(k, ['secret', 'key']) !== undefined) && k !== 'publicKey' && typeof v === 'string' ? `[secret, ${Buffer.byteLength(v)} bytes]` : v]));
  unknownFields('auth', shown, ['mode', ...AUTH_FIELDS[mode]], problems);
  switch (mode) {
    case 'apiKey': {
      const days = obj.expiresInDays ?? 365;
      if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > 365) bad('expiresInDays', 'a whole number of days from 1 to 365 (AppSync API key lifetime)');
      const key = parseApiKeyValue(obj.key, bad);
      return { mode, expiresInDays: typeof days === 'number' ? days : 365, ...(key !== undefined ? { key } : {}) };
    }
    case 'token':
      return parseTokenAuth(obj, bad);
    case 'lambda': {
      const arn = obj.authorizerArn;
      const ttl = obj.ttlSeconds ?? 300;
      if (typeof arn !== 'string' || !LAMBDA_ARN.test(arn)) bad('authorizerArn', 'a Lambda function ARN, arn:aws:lambda:<region>:<account>:function:<name>');
      if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 0 || ttl > 3600) bad('ttlSeconds', 'a whole number of seconds from 0 to 3600');
      return { mode, authorizerArn: String(arn), ttlSeconds: Number(ttl) };
    }
    case 'cognito': {
      const id = obj.userPoolId;
      const m = typeof id === 'string' ? USER_POOL_ID.exec(id) : null;
      if (!m) bad('userPoolId', 'a Cognito user pool id, <region>_<id> such as eu-west-1_AbC123');
      const region = obj.awsRegion ?? m?.[1];
      if (region !== undefined && (typeof region !== 'string' || !AWS_REGIONS.includes(region))) bad('awsRegion', `${hint(region, AWS_REGIONS)}the user pool's AWS region`);
      if (obj.appIdClientRegex !== undefined && typeof obj.appIdClientRegex !== 'string') bad('appIdClientRegex', 'a string (regular expression of allowed app client ids)');
      return { mode, userPoolId: String(id), awsRegion: String(region), ...(typeof obj.appIdClientRegex === 'string' ? { appIdClientRegex: obj.appIdClientRegex } : {}) };
    }
    case 'oidc': {
      const issuer = obj.issuer;
      let okIssuer = typeof issuer === 'string';
      if (okIssuer) {
        try {
          okIssuer = new URL(issuer as string).protocol === 'https:';
        } catch {
          okIssuer = false;
        }
      }
      if (!okIssuer) bad('issuer', 'the OIDC issuer, an https:// URL');
      // required since REST takes the same token: the project's authorizer compares the token's aud with it
      if (typeof obj.clientId !== 'string' || obj.clientId === '') bad('clientId', "the OIDC client id, a non-empty string (REST's authorizer checks each token's aud against it)");
      return { mode, issuer: String(issuer), ...(typeof obj.clientId === 'string' ? { clientId: obj.clientId } : {}) };
    }
  }
}
