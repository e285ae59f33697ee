/**
 * One explicit `aws.Provider` per region, named `aws-<region>`. Every regional resource goes through its own
 * region's provider (DESIGN §4): nothing relies on the ambient `aws:region`, so adding a region to the stack
 * config adds a provider and that region's resources, and touches nothing else.
 */
import * as aws from '@pulumi/aws';

/** Route53 publishes health-check metrics in us-east-1 only: alarms on them need a provider there. */
export const ROUTE53_METRICS_REGION = 'us-east-1';

export type Providers = ReadonlyMap<string, aws.Provider>;

export const providerName = (region: string): string => `aws-${region}`;

/**
 * Creates a provider for each region (in config order), plus one for every `extra` region not already listed
 * (e.g. us-east-1 for Route53 health-check alarms when the stack has no region there).
 */
export function regionProviders(regions: readonly string[], extra: readonly string[] = []): Providers {
  const providers = new Map<string, aws.Provider>();
  for (const region of [...regions, ...extra]) {
    if (!providers.has(region)) providers.set(region, new aws.Provider(providerName(region), { region }));
  }
  return providers;
}

/** The provider of one region; a missing one is a programming error, never a silent fallback to the default. */
export function providerFor(providers: Providers, region: string): aws.Provider {
  const p = providers.get(region);
  if (!p) throw new Error(`no aws.Provider for region ${region}`);
  return p;
}
