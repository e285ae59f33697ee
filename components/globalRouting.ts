/**
 * GlobalRouting: Route53 health checks (one per region, on its execute-api host — never on the custom domain,
 * which would be circular), their alarms (in us-east-1, where Route53 publishes the metrics) and, with a
 * domain: per region an ACM certificate for `<name>` + `<region>.<name>`, its validation, two regional API
 * Gateway custom domains (TLS 1.2) with base path mappings, one latency alias record for `<name>` and a plain
 * alias record `<region>.<name>`.
 *
 * Providers: everything of region R goes through R's provider (Route53 and health checks are global services,
 * any provider reaches them; using R's means adding/removing R adds/removes exactly R's records). The one
 * record shared by every region — the DNS validation record of `<name>`, identical for all the account's
 * certificates of that name — is created once, through the home region's provider (which never moves), with
 * allowOverwrite. Health-check alarms go through the us-east-1 provider.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { DomainConfig } from '../config';

/** Where Route53 health checkers may run (the only valid values of HealthCheck.regions); we use them all. */
export const ROUTE53_CHECKER_REGIONS = ['us-east-1', 'us-west-1', 'us-west-2', 'eu-west-1', 'ap-southeast-1', 'ap-southeast-2', 'ap-northeast-1', 'sa-east-1'] as const;

export const HEALTH_CHECK = { type: 'HTTPS', port: 443, enableSni: true, failureThreshold: 3, requestInterval: 30 } as const;

export interface RoutedRegion {
  region: string;
  provider: aws.Provider;
  restApiId: pulumi.Input<string>;
  stageName: pulumi.Input<string>;
  executeApiHost: pulumi.Input<string>;
}

export interface GlobalRoutingArgs {
  regions: readonly RoutedRegion[];
  homeRegion: string;
  /** us-east-1's provider (Route53 health-check metrics live there). */
  metricsProvider: aws.Provider;
  domain?: Readonly<DomainConfig>;
  alarmEmail?: string;
}

type Dvo = aws.types.output.acm.CertificateDomainValidationOption;

/** The validation option of one name out of a certificate's outputs (no resources created here). */
function dvoFor(cert: aws.acm.Certificate, domainName: string): pulumi.Output<Dvo> {
  return cert.domainValidationOptions.apply((opts) => {
    const o = opts.find((d) => d.domainName === domainName);
    if (!o) throw new Error(`certificate has no validation option for ${domainName}`);
    return o;
  });
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
        on(r.provider),
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
      const validationRecord = (key: string, dvo: pulumi.Output<Dvo>, provider: aws.Provider): aws.route53.Record =>
        new aws.route53.Record(
          key,
          { zoneId, name: dvo.resourceRecordName, type: dvo.resourceRecordType, records: [dvo.resourceRecordValue], ttl: 300, allowOverwrite: true },
          on(provider),
        );
      // `<name>` has the same validation record in every region: created once, from the home region's cert.
      const sharedRecord = validationRecord(`${name}-cert-validation`, dvoFor(certs[home.region], domain.name), home.provider);

      for (const r of args.regions) {
        const regionalName = `${r.region}.${domain.name}`;
        const regionalRecord = validationRecord(`${name}-${r.region}-cert-validation`, dvoFor(certs[r.region], regionalName), r.provider);
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

        new aws.route53.Record(
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
          on(r.provider),
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
