/**
 * The ONLY reader of raw stack config (docs/architecture.md, "Stack config"). Everything else receives the typed,
 * validated, frozen StackConfig this module returns. Every problem is collected and reported at once, each naming
 * the key, the bad value and what is allowed, with a "did you mean" when a near miss is close to one valid value
 * (regions, keys, auth modes, the `global-appsync:` namespace); long lists (the AWS regions) are printed once, at
 * the end. The program throws before registering any resource when there is a problem.
 */
import type * as PulumiSdk from '@pulumi/pulumi';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { WRITE_MODES, type WriteMode } from './schema/rules';
import { stateUpdaterFunctionName } from './components/names';
import { type AuthMode } from './schema/source';
import { appConfigTableName } from './schema/tables';
import { missingServices, SERVICE_REGIONS_SOURCE } from './components/serviceRegions';
import type * as awsTypes from '@pulumi/aws/types/input';
import { parseApiKeyValue, parseTokenAuth, TOKEN_FIELDS } from './components/authConfig';
import { ALARM_THRESHOLD_KEYS, ALARM_THRESHOLD_MAX, DEFAULT_ALARM_THRESHOLDS, type AlarmThresholds } from './components/alarmThresholds';
import { parseThrottle, parseWaf, type ThrottleConfig, type WafConfig } from './components/protectionConfig';
import { CONSISTENCY_MODES, type Consistency, mrscProblems } from './components/regionSets';
import { DRILL_PAUSE_MINUTES, type DrillsConfig } from './components/drillNames';
import { NOTIFIER_TUNING_KEYS, notifierTuning, type NotifierTuning, RESERVED_CONCURRENCY_KEYS, reservedConcurrency, type ReservedConcurrency } from './components/notifierTuning';

export const PROJECT = 'global-appsync';

/**
 * AWS regions of the commercial `aws` partition, taken from the `aws.Region` enum of @pulumi/aws 7.48.0
 * (node_modules/@pulumi/aws/types/enums/index.d.ts). China (cn-*), GovCloud (us-gov-*) and the ISO regions are
 * left out: they are other partitions, with their own accounts, ARNs and Route53, and cannot share one global
 * table or hosted zone with these.
 */
export const AWS_REGIONS: readonly string[] = [
  'af-south-1', 'ap-east-1', 'ap-east-2', 'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ap-south-1',
  'ap-south-2', 'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-4', 'ap-southeast-5',
  'ap-southeast-6', 'ap-southeast-7', 'ca-central-1', 'ca-west-1', 'eu-central-1', 'eu-central-2', 'eu-north-1',
  'eu-south-1', 'eu-south-2', 'eu-west-1', 'eu-west-2', 'eu-west-3', 'il-central-1', 'me-central-1', 'me-south-1',
  'mx-central-1', 'sa-east-1', 'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2',
];

/**
 * The regions of AWS_REGIONS where every regional service this program deploys (AppSync, API Gateway, Lambda,
 * DynamoDB, SQS, SNS, CloudWatch, ACM, X-Ray: components/serviceRegions.ts) has an endpoint. A region outside
 * it is refused with the services it lacks, instead of failing halfway through `pulumi up`.
 */
export const SUPPORTED_REGIONS: readonly string[] = AWS_REGIONS.filter((r) => missingServices(r).length === 0);

/** `token` (issue 10) is the project's own JWT authorizer: AWS_LAMBDA in AppSync, a REQUEST authorizer in API Gateway. */
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
 * `auth.mode: token` (components/authConfig.ts validates it): exactly one of secret / jwksUrl / publicKey. `secret` is
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

export interface DomainConfig {
  /** the Route53 hosted zone, e.g. example.com */
  zoneName: string;
  /** the global API name, e.g. api.example.com; each region also gets <region>.<name> */
  name: string;
  /** the hosted zone's id, when known (skips the look-up by name) */
  zoneId?: string;
}

export interface StackConfig {
  project: string;
  stack: string;
  regions: readonly string[];
  homeRegion: string;
  primaryRegion: string;
  writeMode: WriteMode;
  domain?: Readonly<DomainConfig>;
  auth: Readonly<AuthConfig>;
  tableName: string;
  appConfigTableName: string;
  protect: boolean;
  alarmEmail?: string;
  /**
   * Regions kept deployed but taken out of routing (`drainRegions`): health forced unhealthy (DRAIN=true) and no
   * latency record. Always a subset of `regions`, never all of them.
   */
  drainRegions: readonly string[];
  /** Region-independent `aws:*` stack settings, forwarded into every region's explicit provider. */
  providerSettings: Readonly<AwsProviderSettings>;
  /** Alarm thresholds (`alarms`), every field filled in (components/alarmThresholds.ts has the defaults). */
  alarms: Readonly<AlarmThresholds>;
  /** `waf`: a regional web ACL per region (components/waf.ts); absent = off (the default unless `protect`). */
  waf?: Readonly<WafConfig>;
  /** `throttle`: stage throttling, and the apiKey usage plan's throttle and quota (components/protectionConfig.ts). */
  throttle: Readonly<ThrottleConfig>;
  // --- issue 11: consistency and drills (validation in components/regionSets.ts, components/drillNames.ts) ---
  /** `consistency`: eventual (multi-Region eventual consistency, default) or strong (MRSC). */
  consistency: Consistency;
  /** `witnessRegion`: the MRSC witness, only with consistency strong and two regions. */
  witnessRegion?: string;
  /** `drills`: AWS FIS experiment templates per region; undefined = off. */
  drills?: Readonly<DrillsConfig>;
  /** Lambda reserved concurrency of the items and notifier functions, per region (components/notifierTuning.ts). */
  reservedConcurrency: Readonly<ReservedConcurrency>;
  /** The notifier's batch parallelism and publish concurrency, defaults filled in (components/notifierTuning.ts). */
  notifier: Readonly<NotifierTuning>;
}

/** One config problem: the key, the value as given, and what is allowed. */
export interface ConfigProblem {
  key: string;
  value: string;
  allowed: string;
}

export class ConfigError extends Error {
  /** `notes`: lines printed once after the problems (e.g. the list of AWS regions several problems refer to). */
  constructor(
    readonly problems: readonly ConfigProblem[],
    readonly notes: readonly string[] = [],
  ) {
    super(
      `${PROJECT} stack config has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n` +
        problems.map((p) => `  - ${p.key}: ${p.value} — ${p.allowed}`).join('\n') +
        notes.map((n) => `\n${n}`).join(''),
    );
    this.name = 'ConfigError';
  }
}

/** Edit distance (Levenshtein) between two short strings. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const cur = [i];
    for (let j = 1; j <= b.length; j += 1) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/**
 * The one valid value a near miss most likely meant: same letters ignoring case and punctuation
 * (`EU-WEST-1`, `eu-west1`, `globalappsync`), else the single closest within an edit distance of 2.
 * Undefined when nothing is close or two candidates are equally close.
 */
export function didYouMean(value: string, candidates: readonly string[]): string | undefined {
  const fold = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]/g, '');
  const same = candidates.filter((c) => fold(c) === fold(value));
  if (same.length === 1) return same[0];
  const scored = candidates.map((c) => ({ c, d: distance(value.toLowerCase(), c.toLowerCase()) })).sort((x, y) => x.d - y.d);
  if (scored.length === 0 || scored[0].d > 2 || scored[0].d >= value.length) return undefined;
  return scored.length > 1 && scored[1].d === scored[0].d ? undefined : scored[0].c;
}
const hint = (value: unknown, candidates: readonly string[]): string => {
  const s = typeof value === 'string' ? didYouMean(value, candidates) : undefined;
  return s ? `did you mean ${JSON.stringify(s)}? ` : '';
};

/** The note listing every AWS region, printed once however many region problems refer to it. */
export const REGIONS_NOTE = `AWS regions of the aws partition: ${AWS_REGIONS.join(', ')}`;

/** The config keys this program reads (without the `global-appsync:` prefix). */
export const CONFIG_KEYS = ['regions', 'homeRegion', 'primaryRegion', 'writeMode', 'domain', 'auth', 'tableName', 'protect', 'alarmEmail', 'drainRegions', 'alarms', 'waf', 'throttle', 'consistency', 'witnessRegion', 'drills', 'reservedConcurrency', 'notifier'] as const;

/** Raw config as Pulumi hands it over: key (without project prefix) → string (structured values as JSON). */
export type RawConfig = Readonly<Record<string, string | undefined>>;

const show = (v: unknown): string => (v === undefined ? '(not set)' : JSON.stringify(v) ?? String(v));
const DNS_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const isDnsName = (s: string): boolean => s.length <= 253 && s.split('.').length >= 2 && s.split('.').every((l) => DNS_LABEL.test(l));
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const LAMBDA_ARN = /^arn:aws:lambda:([a-z0-9-]+):\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]+)?$/;
const USER_POOL_ID = /^([a-z]{2}-[a-z]+-\d)_[A-Za-z0-9]+$/;

/** Parses a JSON/YAML-ish structured value, which Pulumi passes as a JSON string. */
function parseJson(raw: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch {
    return { ok: false };
  }
}

function parseRegions(raw: string | undefined, problems: ConfigProblem[]): string[] {
  const allowed = 'a list of 1 or more distinct AWS regions (YAML list, JSON array or "a,b,c"), each one of the AWS regions (the list is below)';
  if (raw === undefined || raw.trim() === '') {
    problems.push({ key: 'regions', value: '(not set)', allowed: `required: ${allowed}; e.g. pulumi config set regions eu-west-1,ap-southeast-2` });
    return [];
  }
  let list: unknown;
  if (/^[[{]/.test(raw.trim())) {
    const parsed = parseJson(raw);
    if (!parsed.ok) {
      problems.push({ key: 'regions', value: show(raw), allowed: `not valid JSON; ${allowed}` });
      return [];
    }
    list = parsed.value;
  } else {
    list = raw.split(',').map((s) => s.trim());
  }
  if (!Array.isArray(list) || list.length === 0) {
    problems.push({ key: 'regions', value: show(raw), allowed });
    return [];
  }
  const regions: string[] = [];
  const seen = new Set<string>();
  list.forEach((r, i) => {
    if (typeof r !== 'string' || !AWS_REGIONS.includes(r)) {
      problems.push({ key: `regions[${i}]`, value: show(r), allowed: `${hint(r, AWS_REGIONS)}not an AWS region of the aws partition (the list is below)` });
    } else if (missingServices(r).length > 0) {
      problems.push({
        key: `regions[${i}]`,
        value: show(r),
        allowed: `${missingServices(r).join(', ')} not available in ${r} (${SERVICE_REGIONS_SOURCE}); regions with every service this program deploys: ${SUPPORTED_REGIONS.join(', ')}`,
      });
    } else if (seen.has(r)) {
      problems.push({ key: `regions[${i}]`, value: show(r), allowed: 'duplicate: each region may appear once' });
    } else {
      seen.add(r);
      regions.push(r);
    }
  });
  return regions;
}

/** What the homeRegion error says: moving it is state surgery, never a config edit (README, "Retiring the home region"). */
export const HOME_REGION_HINT =
  'the global tables live in homeRegion and are deleted and re-created if it changes; to retire the home region, do not edit this key: follow the README section "Retiring the home region" (pulumi state delete + pulumi import of the tables in the new home region)';

function regionIn(key: string, raw: string | undefined, regions: string[], problems: ConfigProblem[]): string {
  if (raw === undefined || raw === '') return regions[0] ?? '';
  if (!regions.includes(raw)) {
    problems.push({ key, value: show(raw), allowed: `${hint(raw, regions)}must be one of regions (${regions.join(', ') || 'none valid'})${key === 'homeRegion' ? `; ${HOME_REGION_HINT}` : ''}` });
  }
  return raw;
}

/**
 * drainRegions: a subset of regions, not all of them. Whether a region being REMOVED from `regions` was drained
 * first cannot be checked here: the program sees only the config being applied, never the one deployed before
 * (Pulumi hands no previous config; a self StackReference would need the org and a deployed stack, and would be
 * read only after resources start registering). So the README's removal procedure (drain → up → remove → up)
 * is the guard, and the error for a drained region missing from `regions` repeats it.
 */
function parseDrainRegions(raw: string | undefined, regions: string[], problems: ConfigProblem[]): string[] {
  if (raw === undefined || raw.trim() === '') return [];
  const procedure = 'to remove a region: add it to drainRegions, pulumi up, then remove it from both regions and drainRegions, pulumi up (README, "Removing a region")';
  let list: unknown;
  if (/^[[{]/.test(raw.trim())) {
    const parsed = parseJson(raw);
    list = parsed.ok ? parsed.value : undefined;
  } else {
    list = raw.split(',').map((x) => x.trim());
  }
  if (!Array.isArray(list)) {
    problems.push({ key: 'drainRegions', value: show(raw), allowed: 'a list of regions (YAML list, JSON array or "a,b")' });
    return [];
  }
  const out: string[] = [];
  list.forEach((r, i) => {
    if (typeof r !== 'string' || !regions.includes(r)) {
      problems.push({ key: `drainRegions[${i}]`, value: show(r), allowed: `${hint(r, regions)}must be one of regions (${regions.join(', ')}): a drained region stays deployed; ${procedure}` });
    } else if (!out.includes(r)) {
      out.push(r);
    }
  });
  if (regions.length > 0 && regions.every((r) => out.includes(r))) {
    problems.push({ key: 'drainRegions', value: show(raw), allowed: 'at least one region must stay routed: draining every region would leave no healthy latency record' });
  }
  return out;
}

function parseObject(key: string, raw: string, problems: ConfigProblem[], hint: string): Record<string, unknown> | undefined {
  const parsed = parseJson(raw);
  if (!parsed.ok || typeof parsed.value !== 'object' || parsed.value === null || Array.isArray(parsed.value)) {
    problems.push({ key, value: show(raw), allowed: `an object ${hint}` });
    return undefined;
  }
  return parsed.value as Record<string, unknown>;
}

function unknownFields(key: string, obj: Record<string, unknown>, known: readonly string[], problems: ConfigProblem[]): void {
  for (const f of Object.keys(obj)) {
    if (!known.includes(f)) problems.push({ key: `${key}.${f}`, value: show(obj[f]), allowed: `${hint(f, known)}unknown field; ${key} takes: ${known.join(', ')}` });
  }
}

function parseDomain(raw: string | undefined, problems: ConfigProblem[]): DomainConfig | undefined {
  if (raw === undefined || raw === '') return undefined;
  const hint = '{zoneName, name[, zoneId]}, e.g. {"zoneName": "example.com", "name": "api.example.com"}';
  const obj = parseObject('domain', raw, problems, hint);
  if (!obj) return undefined;
  unknownFields('domain', obj, ['zoneName', 'name', 'zoneId'], problems);
  // a fully qualified name's trailing dot (`example.com.`, as Route53 shows zone names) means the same name
  const undot = (v: unknown): unknown => (typeof v === 'string' && v.endsWith('.') && !v.endsWith('..') ? v.slice(0, -1) : v);
  const zoneName = undot(obj.zoneName);
  const name = undot(obj.name);
  const zoneId = obj.zoneId;
  let ok = true;
  if (typeof zoneName !== 'string' || !isDnsName(zoneName)) {
    problems.push({ key: 'domain.zoneName', value: show(zoneName), allowed: 'a lower-case DNS name such as example.com' });
    ok = false;
  }
  if (typeof name !== 'string' || !isDnsName(name)) {
    problems.push({ key: 'domain.name', value: show(name), allowed: 'a lower-case DNS name such as api.example.com' });
    ok = false;
  } else if (typeof zoneName === 'string' && !name.endsWith(`.${zoneName}`)) {
    problems.push({ key: 'domain.name', value: show(name), allowed: `must be a name inside the zone ${zoneName} (end with .${zoneName})` });
    ok = false;
  }
  if (zoneId !== undefined && (typeof zoneId !== 'string' || !/^Z[A-Z0-9]{1,32}$/.test(zoneId))) {
    problems.push({ key: 'domain.zoneId', value: show(zoneId), allowed: 'a Route53 hosted zone id such as Z0123456789ABCDEFGHIJ' });
    ok = false;
  }
  return ok ? { zoneName: zoneName as string, name: name as string, ...(zoneId ? { zoneId: zoneId as string } : {}) } : undefined;
}

function parseAuth(raw: string | undefined, problems: ConfigProblem[]): AuthConfig {
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
  const meant = (typeof mode === 'string' ? didYouMean(mode, AUTH_MODES) : undefined) ?? (byFields.length === 1 || (byFields.length === 2 && byFields[1] === 'token') ? byFields[0] : undefined); // token's fields overlap oidc's and lambda's: the older mode wins
  bad('mode', `${meant && typeof mode === 'string' && didYouMean(mode, AUTH_MODES) ? `did you mean ${JSON.stringify(meant)}? ` : ''}one of ${AUTH_MODES.join(', ')}`);
  if (meant) authOfMode(meant as ClientAuthMode, obj, bad, problems);
  else unknownFields('auth', Object.fromEntries(fields.map((f) => [f, obj[f]])), [...new Set(AUTH_MODES.flatMap((m) => AUTH_FIELDS[m]))], problems);
  return fallback;
}

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

// ---- aws:* stack settings ------------------------------------------------------------------------------------

/**
 * The region-independent settings of the pulumi-aws 7.48.0 provider (ProviderArgs in
 * node_modules/@pulumi/aws/provider.d.ts). An explicit `aws.Provider` ignores `aws:*` stack config
 * (pulumi/pulumi-aws#1307, #3259): without forwarding, a stack that sets `aws:profile` or `aws:allowedAccountIds`
 * would deploy with whatever credentials the environment has, possibly into the wrong account.
 */
export interface AwsProviderSettings {
  accessKey?: string;
  secretKey?: string;
  token?: string;
  profile?: string;
  sharedConfigFiles?: string[];
  sharedCredentialsFiles?: string[];
  assumeRoles?: awsTypes.ProviderAssumeRole[];
  assumeRoleWithWebIdentity?: awsTypes.ProviderAssumeRoleWithWebIdentity;
  allowedAccountIds?: string[];
  forbiddenAccountIds?: string[];
  defaultTags?: awsTypes.ProviderDefaultTags;
  ignoreTags?: awsTypes.ProviderIgnoreTags;
  customCaBundle?: string;
  httpProxy?: string;
  httpsProxy?: string;
  noProxy?: string;
  insecure?: boolean;
  maxRetries?: number;
  retryMode?: string;
  stsRegion?: string;
  tagPolicyCompliance?: string;
  tokenBucketRateLimiterCapacity?: number;
  skipCredentialsValidation?: boolean;
  skipMetadataApiCheck?: boolean;
  skipRegionValidation?: boolean;
  skipRequestingAccountId?: boolean;
  useDualstackEndpoint?: boolean;
  useFipsEndpoint?: boolean;
  userAgents?: string[];
}

type SettingKind = 'string' | 'secret' | 'boolean' | 'number' | 'stringList' | 'accountIds' | 'object' | 'objectList';

/** Every forwarded `aws:*` key and how its value is read. Keys that hold credentials are kept secret. */
export const AWS_SETTINGS: Readonly<Record<keyof AwsProviderSettings, SettingKind>> = {
  accessKey: 'secret',
  secretKey: 'secret',
  token: 'secret',
  profile: 'string',
  sharedConfigFiles: 'stringList',
  sharedCredentialsFiles: 'stringList',
  assumeRoles: 'objectList',
  assumeRoleWithWebIdentity: 'object',
  allowedAccountIds: 'accountIds',
  forbiddenAccountIds: 'accountIds',
  defaultTags: 'object',
  ignoreTags: 'object',
  customCaBundle: 'string',
  httpProxy: 'string',
  httpsProxy: 'string',
  noProxy: 'string',
  insecure: 'boolean',
  maxRetries: 'number',
  retryMode: 'string',
  stsRegion: 'string',
  tagPolicyCompliance: 'string',
  tokenBucketRateLimiterCapacity: 'number',
  skipCredentialsValidation: 'boolean',
  skipMetadataApiCheck: 'boolean',
  skipRegionValidation: 'boolean',
  skipRequestingAccountId: 'boolean',
  useDualstackEndpoint: 'boolean',
  useFipsEndpoint: 'boolean',
  userAgents: 'stringList',
};

/** `aws:*` keys read but deliberately not forwarded, and why. */
export const AWS_NOT_FORWARDED: Readonly<Record<string, string>> = {
  region: 'each region has its own provider; aws:region only sets the default provider, which nothing uses',
  endpoints: 'custom endpoints are URLs of one region; forwarding them to every region would send all regions to it',
};

/** Reads the `aws:*` settings (keys without the `aws:` prefix; values as the CLI hands them). */
function parseAwsSettings(raw: RawConfig, problems: ConfigProblem[]): AwsProviderSettings {
  const out: Record<string, unknown> = {};
  // the old single-role key of pulumi-aws < 6 is read as a one-element assumeRoles
  const entries = Object.entries(raw).map(([k, v]) => (k === 'assumeRole' ? (['assumeRoles', v === undefined ? v : `[${v}]`] as const) : ([k, v] as const)));
  for (const [key, value] of entries) {
    if (value === undefined) continue;
    const k = `aws:${key}`;
    if (Object.hasOwn(AWS_NOT_FORWARDED, key)) continue;
    const kind = (AWS_SETTINGS as Record<string, SettingKind>)[key];
    if (!kind) {
      problems.push({ key: k, value: show(value), allowed: `${hint(key, Object.keys(AWS_SETTINGS)).replace(/"([^"]+)"/, '"aws:$1"')}not a setting this program forwards to its providers; forwarded: ${Object.keys(AWS_SETTINGS).map((x) => `aws:${x}`).join(', ')}` });
      continue;
    }
    const json = (): unknown => {
      const p = parseJson(value);
      return p.ok ? p.value : undefined;
    };
    switch (kind) {
      case 'string':
      case 'secret':
        out[key] = value;
        break;
      case 'boolean':
        if (value === 'true' || value === 'false') out[key] = value === 'true';
        else problems.push({ key: k, value: show(value), allowed: 'true or false' });
        break;
      case 'number':
        if (/^\d+$/.test(value)) out[key] = Number(value);
        else problems.push({ key: k, value: show(value), allowed: 'a whole number' });
        break;
      case 'stringList':
      case 'accountIds': {
        const list = /^\s*\[/.test(value) ? json() : value.split(',').map((x) => x.trim());
        const item = kind === 'accountIds' ? /^\d{12}$/ : /./;
        if (Array.isArray(list) && list.length > 0 && list.every((x) => typeof x === 'string' && item.test(x))) out[key] = list;
        else problems.push({ key: k, value: show(value), allowed: kind === 'accountIds' ? 'a list of 12-digit AWS account ids' : 'a list of strings' });
        break;
      }
      case 'object': {
        const o = json();
        if (o && typeof o === 'object' && !Array.isArray(o)) out[key] = o;
        else problems.push({ key: k, value: show(value), allowed: 'an object (see the pulumi-aws provider configuration reference)' });
        break;
      }
      case 'objectList': {
        const l = json();
        if (Array.isArray(l) && l.every((x) => x && typeof x === 'object' && !Array.isArray(x))) out[key] = l;
        else problems.push({ key: k, value: show(value), allowed: 'a list of objects, e.g. [{"roleArn": "arn:aws:iam::123456789012:role/deploy"}]' });
        break;
      }
    }
  }
  return out as AwsProviderSettings;
}

/** `alarms`: an object of thresholds, each optional (defaults in components/alarmThresholds.ts), each a number in range. */
function parseAlarms(raw: string | undefined, problems: ConfigProblem[]): AlarmThresholds {
  const out: AlarmThresholds = { ...DEFAULT_ALARM_THRESHOLDS };
  if (raw === undefined || raw === '') return out;
  const obj = parseObject('alarms', raw, problems, `of thresholds, any of ${ALARM_THRESHOLD_KEYS.join(', ')}; e.g. {"replicationLatencyAverageMs": 2000}`);
  if (!obj) return out;
  unknownFields('alarms', obj, ALARM_THRESHOLD_KEYS, problems);
  for (const k of ALARM_THRESHOLD_KEYS) {
    const v = obj[k];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > ALARM_THRESHOLD_MAX[k]) {
      problems.push({ key: `alarms.${k}`, value: show(v), allowed: `a number from 0 to ${ALARM_THRESHOLD_MAX[k]} (default ${DEFAULT_ALARM_THRESHOLDS[k]})` });
    } else {
      out[k] = v;
    }
  }
  return out;
}

/** `consistency`: eventual | strong (default eventual); undefined after a problem. */
function parseConsistency(raw: string | undefined, problems: ConfigProblem[]): Consistency | undefined {
  if (raw === undefined || raw === '') return 'eventual';
  if ((CONSISTENCY_MODES as readonly string[]).includes(raw)) return raw as Consistency;
  problems.push({ key: 'consistency', value: show(raw), allowed: `${hint(raw, CONSISTENCY_MODES)}one of ${CONSISTENCY_MODES.join(', ')} (strong = multi-Region strong consistency: README, "Consistency")` });
  return undefined;
}

/** `drills`: true | false | {"pauseMinutes": N} (README, "Drills"); undefined = off. */
function parseDrills(raw: string | undefined, problems: ConfigProblem[]): DrillsConfig | undefined {
  if (raw === undefined || raw === '' || raw === 'false') return undefined;
  const { min, max, dflt } = DRILL_PAUSE_MINUTES;
  if (raw === 'true') return { pauseMinutes: dflt };
  const allowed = `true, false or {"pauseMinutes": N} with N a whole number of minutes from ${min} to ${max} (default ${dflt})`;
  const parsed = /^\s*\{/.test(raw) ? parseJson(raw) : { ok: false as const };
  if (!parsed.ok || typeof parsed.value !== 'object' || parsed.value === null || Array.isArray(parsed.value)) {
    problems.push({ key: 'drills', value: show(raw), allowed });
    return undefined;
  }
  const obj = parsed.value as Record<string, unknown>;
  unknownFields('drills', obj, ['pauseMinutes'], problems);
  const n = obj.pauseMinutes ?? dflt;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    problems.push({ key: 'drills.pauseMinutes', value: show(n), allowed: `a whole number of minutes from ${min} to ${max} (default ${dflt}): how long each drill pauses replication or fails the notifier` });
    return undefined;
  }
  return { pauseMinutes: n };
}

/** `notifier` and `reservedConcurrency` (rules in components/notifierTuning.ts). */
function parseNotifierKeys(raw: RawConfig, problems: ConfigProblem[]): { notifier: NotifierTuning; reservedConcurrency: ReservedConcurrency } {
  const object = (key: 'notifier' | 'reservedConcurrency', known: readonly string[], example: string): Record<string, unknown> | undefined => {
    const text = raw[key];
    if (text === undefined || text === '') return undefined;
    const obj = parseObject(key, text, problems, `with any of ${known.join(', ')}; e.g. ${example}`);
    if (obj) unknownFields(key, obj, known, problems);
    return obj;
  };
  const notifier = notifierTuning(object('notifier', NOTIFIER_TUNING_KEYS, '{"parallelizationFactor": 4, "publishConcurrency": 64}'), problems);
  return { notifier, reservedConcurrency: reservedConcurrency(object('reservedConcurrency', RESERVED_CONCURRENCY_KEYS, '{"items": 100, "notifier": 10}'), notifier, problems) };
}

function parseBoolean(key: string, raw: string | undefined, dflt: boolean, problems: ConfigProblem[]): boolean {
  if (raw === undefined || raw === '') return dflt;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  problems.push({ key, value: show(raw), allowed: 'true or false' });
  return dflt;
}

/**
 * Validates raw config. Pure: no Pulumi runtime needed (the plan script and the tests call it directly).
 * Throws ConfigError listing every problem; returns a deeply frozen StackConfig otherwise.
 */
export function parseConfig(raw: RawConfig, ctx: { project?: string; stack: string; aws?: RawConfig; all?: Readonly<Record<string, string>> }): StackConfig {
  const problems: ConfigProblem[] = [];
  const project = ctx.project ?? PROJECT;
  const misspaced = namespaceProblems({ ...(ctx.all ?? {}), ...Object.fromEntries(Object.entries(raw).filter(([k]) => k.includes(':'))) } as Record<string, string>, project);
  for (const key of Object.keys(raw)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(key) && !misspaced.some((p) => p.key === key)) {
      problems.push({ key, value: show(raw[key]), allowed: `${hint(key, CONFIG_KEYS)}unknown key of ${project}; the keys are: ${CONFIG_KEYS.join(', ')}` });
    }
  }
  problems.push(...misspaced);
  const regions = parseRegions(raw.regions, problems);
  const homeRegion = regionIn('homeRegion', raw.homeRegion, regions, problems);
  const primaryRegion = regionIn('primaryRegion', raw.primaryRegion, regions, problems);
  const writeMode = (raw.writeMode ?? 'multi-master') as WriteMode;
  if (!WRITE_MODES.includes(writeMode)) {
    problems.push({ key: 'writeMode', value: show(raw.writeMode), allowed: `${hint(raw.writeMode, WRITE_MODES)}one of ${WRITE_MODES.join(', ')}` });
  }
  const domain = parseDomain(raw.domain, problems);
  const auth = parseAuth(raw.auth, problems);
  const tableName = raw.tableName ?? `${project}-${ctx.stack}-items`;
  const appConfig = appConfigTableName(tableName);
  if (!TABLE_NAME.test(tableName) || !TABLE_NAME.test(appConfig)) {
    problems.push({ key: 'tableName', value: show(tableName), allowed: 'a DynamoDB table name: 3 to 255 of A-Z a-z 0-9 _ . - (the app-config table adds "-app-config")' });
  }
  const protect = parseBoolean('protect', raw.protect, ctx.stack === 'prod' || ctx.stack.startsWith('prod-'), problems);
  const updater = stateUpdaterFunctionName(project, ctx.stack);
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(updater)) {
    problems.push({
      key: '(stack name)',
      value: show(ctx.stack),
      allowed: `must make a valid Lambda function name: "${updater}" needs 1-64 of A-Z a-z 0-9 _ -, so a stack name of at most ${64 - updater.length + ctx.stack.length} such characters`,
    });
  }
  const alarmEmail = raw.alarmEmail;
  if (alarmEmail !== undefined && !EMAIL.test(alarmEmail)) {
    problems.push({ key: 'alarmEmail', value: show(alarmEmail), allowed: 'an e-mail address such as ops@example.com' });
  }
  const drainRegions = parseDrainRegions(raw.drainRegions, regions, problems);
  const providerSettings = parseAwsSettings(ctx.aws ?? {}, problems);
  const alarms = parseAlarms(raw.alarms, problems);
  const waf = parseWaf(raw.waf, protect, problems);
  const throttle = parseThrottle(raw.throttle, problems);
  const consistency = parseConsistency(raw.consistency, problems);
  if (consistency) problems.push(...mrscProblems(consistency, regions, raw.witnessRegion === '' ? undefined : raw.witnessRegion));
  const drills = parseDrills(raw.drills, problems);
  const { notifier, reservedConcurrency } = parseNotifierKeys(raw, problems);
  if (problems.length > 0) throw new ConfigError(problems, problems.some((p) => p.allowed.includes('(the list is below)')) ? [REGIONS_NOTE] : []);

  return deepFreeze({
    project,
    stack: ctx.stack,
    regions,
    homeRegion,
    primaryRegion,
    writeMode,
    ...(domain ? { domain } : {}),
    auth,
    tableName,
    appConfigTableName: appConfig,
    protect,
    ...(alarmEmail ? { alarmEmail } : {}),
    drainRegions,
    providerSettings,
    alarms,
    ...(waf ? { waf } : {}),
    throttle,
    consistency: consistency ?? 'eventual',
    ...(raw.witnessRegion ? { witnessRegion: raw.witnessRegion } : {}),
    ...(drills ? { drills } : {}),
    reservedConcurrency,
    notifier,
  });
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** Reads this project's keys from the running Pulumi program's config and validates them. */
export function loadConfig(): StackConfig {
  // required here rather than imported: the emulator and the scripts parse stack files without the Pulumi runtime,
  // and loading it costs them ~1.5 s
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pulumi = require('@pulumi/pulumi') as typeof PulumiSdk;
  const project = pulumi.getProject();
  const all = pulumi.runtime.allConfig();
  return parseConfig(projectKeys(all, project), { project, stack: pulumi.getStack(), aws: projectKeys(all, 'aws'), all });
}

/**
 * Keys whose namespace is a near miss of the project's (`globalappsync:regions`, `global_appsync:regions`): the
 * Pulumi CLI accepts any namespace, so without this such a key would be ignored in silence and `regions` reported
 * as not set. Other namespaces (`aws:`, `pulumi:`, other packages') are not this module's business.
 */
export function namespaceProblems(all: Readonly<Record<string, string>>, project: string = PROJECT): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const key of Object.keys(all)) {
    const at = key.indexOf(':');
    if (at < 0) continue;
    const ns = key.slice(0, at);
    if (ns === project || ns === 'aws' || didYouMean(ns, [project]) !== project) continue;
    out.push({ key, value: show(all[key]), allowed: `did you mean "${project}:${key.slice(at + 1)}"? the namespace "${ns}:" is not this project's (${project}), so the key would be ignored` });
  }
  return out;
}

/**
 * Reads Pulumi.<stack>.yaml from disk the way the Pulumi CLI hands config to a program: every key fully
 * qualified (`global-appsync:regions`, `aws:region`), strings as they are, everything else as JSON.
 * Used by `npm run plan`, `npm run state` and the tests, which run without the CLI.
 */
export function readStackFile(stack: string, dir: string = __dirname): Record<string, string> {
  const file = path.join(dir, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) {
    const stacks = fs.readdirSync(dir).filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f)).map((f) => f.slice(7, -5));
    throw new ConfigError([{ key: '--stack', value: JSON.stringify(stack), allowed: `no ${path.basename(file)}; stacks here: ${stacks.join(', ') || 'none'}` }]);
  }
  const rel = path.relative(process.cwd(), file);
  return parseStackYaml(fs.readFileSync(file, 'utf8'), rel && !rel.startsWith('..') ? rel : file);
}

/**
 * A stack file's text → fully qualified config, as readStackFile does. A YAML syntax error is a ConfigError naming
 * the file, the line and column and the YAML parser's message (no stack trace); `label` names the file in messages.
 */
export function parseStackYaml(text: string, label: string): Record<string, string> {
  let doc: unknown;
  try {
    doc = YAML.parse(text, { prettyErrors: true, uniqueKeys: true });
  } catch (e) {
    if (!(e instanceof YAML.YAMLError)) throw e;
    const [line, col] = e.linePos?.[0] ? [e.linePos[0].line, e.linePos[0].col] : [0, 0];
    const source = line > 0 ? text.split('\n')[line - 1] ?? '' : '';
    const message = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    throw new ConfigError([{ key: `${label}:${line}:${col}`, value: JSON.stringify(source.trim()), allowed: `not valid YAML: ${message}` }]);
  }
  const config = (doc as { config?: unknown } | null)?.config ?? {};
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new ConfigError([{ key: 'config', value: label, allowed: 'a `config:` mapping of keys to values' }]);
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(config as Record<string, unknown>)) {
    if (value && typeof value === 'object' && Object.hasOwn(value, 'secure')) continue; // encrypted: the CLI's business
    out[key] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return out;
}

/** The project's own keys (prefix removed) out of fully qualified config. */
export function projectKeys(all: Readonly<Record<string, string>>, project: string = PROJECT): Record<string, string> {
  const raw: Record<string, string> = {};
  for (const [k, v] of Object.entries(all)) {
    if (k.startsWith(`${project}:`)) raw[k.slice(project.length + 1)] = v;
  }
  return raw;
}
