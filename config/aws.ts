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
