/**
 * GlobalRouting: Route53 health checks (one per region, on its execute-api host — never on the custom domain,
 * which would be circular), their alarms (in us-east-1, where Route53 publishes the metrics) and, with a
 * domain: per region an ACM certificate for `<name>` + `<region>.<name>`, its validation, two regional API
 * Gateway custom domains (TLS 1.2) with base path mappings, one latency alias record for `<name>` and a plain
 * alias record `<region>.<name>`.
 *
 * Providers: everything of region R goes through R's provider (Route53 and health checks are global services,
 * any provider reaches them; using R's means adding/removing R adds/removes exactly R's records). The one
 * record shared by every region — the DNS validation record of `<name>` — is created once, through the home
 * region's provider (which never moves), with allowOverwrite. Health-check alarms go through the us-east-1
 * provider.
 *
 * ACM validation: records come from each certificate's OWN domainValidationOptions. The names are known before
 * deploy (`<name>` and `<region>.<name>`), so there is one record resource per name, created outside any
 * apply(); their values are outputs, de-duplicated by (name, value) over every certificate that validates that
 * name. If two certificates ask for different records for one name, or a certificate asks for a name we create
 * no record for, the program fails and says which — instead of validating one region with another's record.
 *
 * Order for a region being added: its replica of both tables (ACTIVE) → its health check; its APIs → its readiness gate
 * (components/regionReady.ts: replicas ACTIVE in the region, /health passing) → its latency record.
 *
 * A drained region (`drainRegions`) keeps its health check, certificate and custom domains, but has no latency
 * record: Route53 stops sending it traffic while everything stays deployed (docs/operations.md, "Add or remove a region").
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { DomainConfig } from '../config/domain';
import { HEALTH_CHECK } from './healthCheck';

/** Where Route53 health checkers may run (the only valid values of HealthCheck.regions); we use them all. */
export const ROUTE53_CHECKER_REGIONS = ['us-east-1', 'us-west-1', 'us-west-2', 'eu-west-1', 'ap-southeast-1', 'ap-southeast-2', 'ap-northeast-1', 'sa-east-1'] as const;

/** The health check settings live in ./healthCheck.ts (no @pulumi imports), so local/router.ts reads the same values. */
export { HEALTH_CHECK } from './healthCheck';

export interface RoutedRegion {
  region: string;
  provider: aws.Provider;
  restApiId: pulumi.Input<string>;
  stageName: pulumi.Input<string>;
  executeApiHost: pulumi.Input<string>;
  /**
   * The resources holding this region's replica of both tables (the Table resources: replicas are inline). The health
   * check depends on them, so it is created only once the replica is ACTIVE (the provider waits: components/regionReady.ts).
   */
  replicas: pulumi.Resource[];
  /** The region's readiness gate (components/regionReady.ts): its latency record is created only after it passed. */
  ready: pulumi.Resource;
}

export interface GlobalRoutingArgs {
  regions: readonly RoutedRegion[];
  homeRegion: string;
  /** regions kept deployed but without a latency record */
  drainRegions?: readonly string[];
  /** us-east-1's provider (Route53 health-check metrics live there). */
  metricsProvider: aws.Provider;
  domain?: Readonly<DomainConfig>;
  alarmEmail?: string;
}

type Dvo = aws.types.output.acm.CertificateDomainValidationOption;

/** The DNS record one validation option asks for. */
export interface ValidationRecord {
  name: string;
  type: string;
  value: string;
}

/**
 * The single record that validates `domainName` for every certificate listed (region → that certificate's
 * validation options). Throws, naming the regions, when a certificate lacks the name, asks for names outside
 * `known`, or when the certificates disagree on the record (de-duplicated by name and value).
 */
export function validationRecordFor(domainName: string, known: readonly string[], byRegion: Readonly<Record<string, readonly Dvo[]>>): ValidationRecord {
  const records = new Map<string, { record: ValidationRecord; regions: string[] }>();
  for (const [region, opts] of Object.entries(byRegion)) {
    const unknown = opts.map((o) => o.domainName).filter((d) => !known.includes(d));
    if (unknown.length > 0) throw new Error(`ACM certificate in ${region} asks to validate ${unknown.join(', ')}, for which this program creates no DNS record (it creates: ${known.join(', ')})`);
    const o = opts.find((d) => d.domainName === domainName);
    if (!o) throw new Error(`ACM certificate in ${region} has no validation option for ${domainName}`);
    const record = { name: o.resourceRecordName, type: o.resourceRecordType, value: o.resourceRecordValue };
    const key = `${record.name}|${record.type}|${record.value}`;
    const seen = records.get(key) ?? { record, regions: [] };
    seen.regions.push(region);
    records.set(key, seen);
  }
  if (records.size !== 1) {
    throw new Error(
      `ACM asks for ${records.size} different validation records for ${domainName}, one DNS name can hold only one: ` +
        [...records.values()].map((r) => `${r.record.type} ${r.record.name} → ${r.record.value} (${r.regions.join(', ')})`).join('; '),
    );
  }
  return [...records.values()][0].record;
}

export class GlobalRouting extends pulumi.ComponentResource {
  /** region → Route53 health check id */
  readonly healthCheckIds: Readonly<Record<string, pulumi.Output<string>>>;
  /** `https://<domain.name>` when a domain is configured */
  readonly globalUrl?: pulumi.Output<string>;
  /** region → `https://<region>.<domain.name>` when a domain is configured */
  readonly regionalUrls: Readonly<Record<string, pulumi.Output<string>>>;

  constructor(name: string, args: GlobalRoutingArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('global-appsync:index:GlobalRouting', name, {}, opts);
    const on = (provider: aws.Provider) => ({ parent: this, provider });
    const home = args.regions.find((r) => r.region === args.homeRegion);
    if (!home) throw new Error(`homeRegion ${args.homeRegion} is not one of the routed regions`);

    // ---- health checks and their alarms ------------------------------------------------------------------------
    const topic = new aws.sns.Topic(`${name}-health-alarms`, {}, on(args.metricsProvider));
    if (args.alarmEmail) new aws.sns.TopicSubscription(`${name}-health-alarms-email`, { topic: topic.arn, protocol: 'email', endpoint: args.alarmEmail }, on(args.metricsProvider));
    const healthChecks: Record<string, aws.route53.HealthCheck> = {};
    for (const r of args.regions) {
      const hc = new aws.route53.HealthCheck(
        `${name}-${r.region}-health`,
        {
          ...HEALTH_CHECK,
          fqdn: r.executeApiHost,
          resourcePath: pulumi.interpolate`/${r.stageName}/health`,
          regions: [...ROUTE53_CHECKER_REGIONS],
          tags: { Name: `${name} ${r.region} /health` },
        },
        { ...on(r.provider), dependsOn: r.replicas },
      );
      healthChecks[r.region] = hc;
      new aws.cloudwatch.MetricAlarm(
        `${name}-${r.region}-health-alarm`,
        {
          alarmDescription: `${r.region} fails its Route53 health check: latency routing sends its users elsewhere`,
          namespace: 'AWS/Route53',
          metricName: 'HealthCheckStatus',
          dimensions: { HealthCheckId: hc.id },
          statistic: 'Minimum',
          comparisonOperator: 'LessThanThreshold',
          threshold: 1,
          period: 60,
          evaluationPeriods: 1,
          treatMissingData: 'breaching',
          // a drained region fails its check on purpose: keep the alarm (its state stays visible) but don't page anyone
          actionsEnabled: !(args.drainRegions ?? []).includes(r.region),
          alarmActions: [topic.arn],
          okActions: [topic.arn],
        },
        on(args.metricsProvider),
      );
    }
    this.healthCheckIds = Object.fromEntries(Object.entries(healthChecks).map(([r, hc]) => [r, hc.id]));

    // ---- custom domain ----------------------------------------------------------------------------------------
    const regionalUrls: Record<string, pulumi.Output<string>> = {};
    if (args.domain) {
      const domain = args.domain;
      const zoneId: pulumi.Input<string> =
        domain.zoneId ?? aws.route53.getZoneOutput({ name: domain.zoneName, privateZone: false }, on(home.provider)).zoneId;
      const certs: Record<string, aws.acm.Certificate> = {};
      for (const r of args.regions) {
        certs[r.region] = new aws.acm.Certificate(
          `${name}-${r.region}-cert`,
          { domainName: domain.name, subjectAlternativeNames: [`${r.region}.${domain.name}`], validationMethod: 'DNS', keyAlgorithm: 'RSA_2048' },
          on(r.provider),
        );
      }
      const known = (region: string): string[] => [domain.name, `${region}.${domain.name}`];
      const optionsOf = (regions: readonly string[]): pulumi.Output<Record<string, Dvo[]>> =>
        pulumi.all(Object.fromEntries(regions.map((r) => [r, certs[r].domainValidationOptions])) as Record<string, pulumi.Output<Dvo[]>>);
      // one resource per known name, created here (never inside apply); only its values come from outputs
      const validationRecord = (key: string, record: pulumi.Output<ValidationRecord>, provider: aws.Provider): aws.route53.Record =>
        new aws.route53.Record(key, { zoneId, name: record.name, type: record.type, records: [record.value], ttl: 300, allowOverwrite: true }, on(provider));
      const regionNames = args.regions.map((r) => r.region);
      // `<name>`: every certificate validates it; the record is what all of them ask for (or the run fails)
      const sharedRecord = validationRecord(
        `${name}-cert-validation`,
        optionsOf(regionNames).apply((byRegion) =>
          validationRecordFor(domain.name, [domain.name, ...regionNames.map((r) => `${r}.${domain.name}`)], byRegion),
        ),
        home.provider,
      );

      for (const r of args.regions) {
        const regionalName = `${r.region}.${domain.name}`;
        const regionalRecord = validationRecord(
          `${name}-${r.region}-cert-validation`,
          optionsOf([r.region]).apply((byRegion) => validationRecordFor(regionalName, known(r.region), byRegion)),
          r.provider,
        );
        const validation = new aws.acm.CertificateValidation(
          `${name}-${r.region}-cert-validated`,
          { certificateArn: certs[r.region].arn, validationRecordFqdns: [sharedRecord.fqdn, regionalRecord.fqdn] },
          on(r.provider),
        );
        const customDomain = (key: string, domainName: string): aws.apigateway.DomainName => {
          const dn = new aws.apigateway.DomainName(
            `${name}-${r.region}-${key}`,
            { domainName, regionalCertificateArn: validation.certificateArn, endpointConfiguration: { types: 'REGIONAL' }, securityPolicy: 'TLS_1_2' },
            on(r.provider),
          );
          new aws.apigateway.BasePathMapping(`${name}-${r.region}-${key}-mapping`, { domainName: dn.domainName, restApi: r.restApiId, stageName: r.stageName }, on(r.provider));
          return dn;
        };
        const globalDomain = customDomain('domain', domain.name);
        const regionalDomain = customDomain('regional-domain', regionalName);

        if (!(args.drainRegions ?? []).includes(r.region)) new aws.route53.Record(
          `${name}-${r.region}-latency`,
          {
            zoneId,
            name: domain.name,
            type: 'A',
            setIdentifier: r.region,
            latencyRoutingPolicies: [{ region: r.region }],
            healthCheckId: healthChecks[r.region].id,
            aliases: [{ name: globalDomain.regionalDomainName, zoneId: globalDomain.regionalZoneId, evaluateTargetHealth: true }],
          },
          // routing waits for the data: replica ACTIVE and /health passing (components/regionReady.ts), not just the APIs
          { ...on(r.provider), dependsOn: [...r.replicas, r.ready] },
        );
        new aws.route53.Record(
          `${name}-${r.region}-direct`,
          {
            zoneId,
            name: regionalName,
            type: 'A',
            aliases: [{ name: regionalDomain.regionalDomainName, zoneId: regionalDomain.regionalZoneId, evaluateTargetHealth: true }],
          },
          on(r.provider),
        );
        regionalUrls[r.region] = pulumi.output(`https://${regionalName}`);
      }
      this.globalUrl = pulumi.output(`https://${domain.name}`);
    }
    this.regionalUrls = regionalUrls;
    this.registerOutputs({ healthCheckIds: this.healthCheckIds, globalUrl: this.globalUrl, regionalUrls });
  }
}
