/**
 * One explicit `aws.Provider` per region, named `aws-<region>`. Every regional resource goes through its own
 * region's provider: nothing relies on the ambient `aws:region`, so adding a region to the stack
 * config adds a provider and that region's resources, and touches nothing else.
 *
 * Explicit providers do not read `aws:*` stack config (pulumi/pulumi-aws#1307, #3259), so every
 * region-independent setting (profile, assumeRoles, allowedAccountIds, defaultTags, skip* flags...: config/
 * AWS_SETTINGS) is forwarded into each one here; credentials stay secret.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { AWS_SETTINGS, type AwsProviderSettings } from '../config/aws';

/** Route53 publishes health-check metrics in us-east-1 only: alarms on them need a provider there. */
export const ROUTE53_METRICS_REGION = 'us-east-1';

export type Providers = ReadonlyMap<string, aws.Provider>;

export const providerName = (region: string): string => `aws-${region}`;

/** The provider arguments for one region: the forwarded settings (secrets wrapped) + that region. */
export function providerArgs(region: string, settings: Readonly<AwsProviderSettings> = {}): aws.ProviderArgs {
  const args: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(settings)) {
    args[key] = AWS_SETTINGS[key as keyof AwsProviderSettings] === 'secret' ? pulumi.secret(value as string) : value;
  }
  return { ...(args as aws.ProviderArgs), region };
}

/**
 * Creates a provider for each region (in config order), plus one for every `extra` region not already listed
 * (e.g. us-east-1 for Route53 health-check alarms when the stack has no region there).
 */
export function regionProviders(regions: readonly string[], extra: readonly string[] = [], settings: Readonly<AwsProviderSettings> = {}): Providers {
  const providers = new Map<string, aws.Provider>();
  for (const region of [...regions, ...extra]) {
    if (!providers.has(region)) providers.set(region, new aws.Provider(providerName(region), providerArgs(region, settings)));
  }
  return providers;
}

/** The provider of one region; a missing one is a programming error, never a silent fallback to the default. */
export function providerFor(providers: Providers, region: string): aws.Provider {
  const p = providers.get(region);
  if (!p) throw new Error(`no aws.Provider for region ${region}`);
  return p;
}
