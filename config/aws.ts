/**
 * The `aws:*` stack settings this program forwards into every region's explicit provider (components/providers.ts).
 */
import type * as awsTypes from '@pulumi/aws/types/input';
import { type ConfigProblem, hint, parseJson, type RawConfig, show } from './problems';

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

/**
 * The provider adds `aws:defaultTags` to every resource it can tag, DynamoDB tables included, so each tag must suit
 * the strictest of those services: DynamoDB allows keys of 1 to 128 and values of up to 256 Unicode characters made of
 * "letters, white space, and numbers, plus the following special characters: + - = . _ : /" — no @ (an e-mail
 * address), no comma — and no `aws:` prefix, which AWS reserves
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TaggingRestrictions.html). Every other service
 * the program tags allows at least these (S3 and the common rule add @: https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_S3Tag.html).
 */
export const DEFAULT_TAG_RULE = {
  source: 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TaggingRestrictions.html',
  keyMax: 128,
  valueMax: 256,
  /** one allowed character */
  char: /[\p{L}\p{Z}\p{N}+\-=._:/]/u,
  reserved: /^aws:/i,
} as const;

/** What is wrong with one default tag key or value (undefined: DynamoDB takes it). */
function defaultTagProblem(s: string, what: 'key' | 'value'): string | undefined {
  const max = what === 'key' ? DEFAULT_TAG_RULE.keyMax : DEFAULT_TAG_RULE.valueMax;
  const length = [...s].length;
  const bad = [...new Set([...s].filter((c) => !DEFAULT_TAG_RULE.char.test(c)))];
  const why = [
    what === 'key' && length === 0 ? 'is empty' : undefined,
    length > max ? `has ${length} characters, more than ${max}` : undefined,
    bad.length > 0 ? `has ${bad.map((c) => JSON.stringify(c)).join(', ')}` : undefined,
    DEFAULT_TAG_RULE.reserved.test(s) ? 'starts with the reserved aws: prefix' : undefined,
  ].filter((x) => x !== undefined);
  if (why.length === 0) return undefined;
  return (
    `this tag ${what} ${why.join(' and ')}: the provider puts aws:defaultTags on every resource, DynamoDB tables included, and DynamoDB takes ` +
    `${what === 'key' ? `1 to ${max}` : `up to ${max}`} letters, numbers, spaces and + - = . _ : / only, no aws: prefix (${DEFAULT_TAG_RULE.source})`
  );
}

/** `aws:defaultTags` (`{"tags": {key: value}}`), each tag checked against DEFAULT_TAG_RULE; problems name the tag. */
function checkDefaultTags(value: Record<string, unknown>, raw: string, problems: ConfigProblem[]): boolean {
  const before = problems.length;
  for (const field of Object.keys(value).filter((k) => k !== 'tags')) {
    problems.push({ key: `aws:defaultTags.${field}`, value: show(value[field]), allowed: `${hint(field, ['tags'])}not a field of the provider's defaultTags, which has only "tags"` });
  }
  const tags = value.tags;
  if (tags === undefined) return problems.length === before;
  if (!tags || typeof tags !== 'object' || Array.isArray(tags)) {
    problems.push({ key: 'aws:defaultTags.tags', value: show(raw), allowed: 'an object of tag keys to string values, e.g. {"tags": {"team": "platform"}}' });
    return false;
  }
  for (const [k, v] of Object.entries(tags as Record<string, unknown>)) {
    const keyWhy = defaultTagProblem(k, 'key');
    if (keyWhy) problems.push({ key: 'aws:defaultTags.tags', value: `key ${JSON.stringify(k)}`, allowed: keyWhy });
    if (typeof v !== 'string') problems.push({ key: `aws:defaultTags.tags.${k}`, value: show(v), allowed: 'a string (tag values are strings)' });
    else {
      const valueWhy = defaultTagProblem(v, 'value');
      if (valueWhy) problems.push({ key: `aws:defaultTags.tags.${k}`, value: JSON.stringify(v), allowed: valueWhy });
    }
  }
  return problems.length === before;
}

/** `aws:*` keys read but deliberately not forwarded, and why. */
export const AWS_NOT_FORWARDED: Readonly<Record<string, string>> = {
  region: 'each region has its own provider; aws:region only sets the default provider, which nothing uses',
  endpoints: 'custom endpoints are URLs of one region; forwarding them to every region would send all regions to it',
};
/** Reads the `aws:*` settings (keys without the `aws:` prefix; values as the CLI hands them). */
export function parseAwsSettings(raw: RawConfig, problems: ConfigProblem[]): AwsProviderSettings {
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
        if (!o || typeof o !== 'object' || Array.isArray(o)) problems.push({ key: k, value: show(value), allowed: 'an object (see the pulumi-aws provider configuration reference)' });
        else if (key !== 'defaultTags' || checkDefaultTags(o as Record<string, unknown>, value, problems)) out[key] = o;
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
