/**
 * RegionalWaf (one per region when `waf` is on, the default for prod): a REGIONAL AWS WAF web ACL in front of
 * the region's API Gateway stage and its AppSync API (aws.wafv2.WebAclAssociation, one per target), with
 * - a rate-based rule: more than `waf.rateLimitPer5Min` requests from one IP address in 5 minutes → 403 until
 *   the rate drops (the notifier's signed publishes to AppSync excepted: NOT_RATE_LIMITED) (the lowest limit AWS allows is 10:
 *   https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based-high-level-settings.html);
 * - when `waf.managedRules`, the AWS managed rule groups AWSManagedRulesCommonRuleSet and
 *   AWSManagedRulesKnownBadInputsRuleSet (no subscription; priced as one rule each);
 * - full request logs in a CloudWatch log group whose name starts with `aws-waf-logs-`, which WAF requires of
 *   every log destination ("The name that you give the destination must start with aws-waf-logs-":
 *   https://docs.aws.amazon.com/waf/latest/APIReference/API_LoggingConfiguration.html), with the credential
 *   headers (authorization, x-api-key) redacted; only blocked and counted requests are kept.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { WafConfig } from './protectionConfig';

/** WAF's required prefix for log destinations (see the header). */
export const WAF_LOG_PREFIX = 'aws-waf-logs-';

export const MANAGED_RULE_GROUPS = ['AWSManagedRulesCommonRuleSet', 'AWSManagedRulesKnownBadInputsRuleSet'] as const;

export interface RegionalWafArgs {
  region: string;
  /** `<project>-<stack>` */
  prefix: string;
  waf: WafConfig;
  /** what the web ACL protects: key (used in resource names) → resource ARN (API Gateway stage, AppSync API) */
  targets: Record<string, pulumi.Input<string>>;
}

const visibility = (metricName: string): aws.types.input.wafv2.WebAclVisibilityConfig => ({ cloudwatchMetricsEnabled: true, metricName, sampledRequestsEnabled: true });

/**
 * What the rate-based rule leaves out: the notifier's SigV4-signed `publishItemChange` calls to this region's
 * AppSync (Host `<id>.appsync-api.<region>.amazonaws.com`, `Authorization: AWS4-HMAC-SHA256 …`). One region's
 * notifier publishes every write of every region from Lambda's few egress addresses, so counting it per IP would
 * block realtime delivery at about 7 writes a second. Anyone can send such headers, but AppSync refuses a bad
 * signature before any resolver runs, and the API Gateway stage never sees an appsync-api Host.
 */
export const NOT_RATE_LIMITED: aws.types.input.wafv2.WebAclRuleStatementRateBasedStatementScopeDownStatement = {
  notStatement: {
    statement: {
      andStatement: {
        statements: [
          { byteMatchStatement: { fieldToMatch: { singleHeader: { name: 'host' } }, positionalConstraint: 'CONTAINS', searchString: '.appsync-api.', textTransformations: [{ priority: 0, type: 'LOWERCASE' }] } },
          { byteMatchStatement: { fieldToMatch: { singleHeader: { name: 'authorization' } }, positionalConstraint: 'STARTS_WITH', searchString: 'AWS4-HMAC-SHA256', textTransformations: [{ priority: 0, type: 'NONE' }] } },
        ],
      },
    },
  },
};

/** The web ACL's rules, in priority order (exported for the tests). */
export function wafRules(waf: WafConfig): aws.types.input.wafv2.WebAclRule[] {
  const rules: aws.types.input.wafv2.WebAclRule[] = [
    {
      name: 'rate-limit-per-ip',
      priority: 0,
      action: { block: {} },
      statement: { rateBasedStatement: { limit: waf.rateLimitPer5Min, aggregateKeyType: 'IP', evaluationWindowSec: 300, scopeDownStatement: NOT_RATE_LIMITED } },
      visibilityConfig: visibility('rate-limit-per-ip'),
    },
  ];
  if (waf.managedRules) {
    MANAGED_RULE_GROUPS.forEach((group, i) =>
      rules.push({
        name: group,
        priority: i + 1,
        // a rule group's own actions (block) apply: `none` overrides nothing
        overrideAction: { none: {} },
        statement: { managedRuleGroupStatement: { vendorName: 'AWS', name: group } },
        visibilityConfig: visibility(group),
      }),
    );
  }
  return rules;
}

export class RegionalWaf extends pulumi.ComponentResource {
  readonly webAclArn: pulumi.Output<string>;
  readonly logGroupName: pulumi.Output<string>;

  constructor(name: string, args: RegionalWafArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('global-appsync:index:RegionalWaf', name, {}, opts);
    const child = { parent: this };
    const aclName = `${args.prefix}-${args.region}`;
    const acl = new aws.wafv2.WebAcl(
      `${name}-acl`,
      {
        name: aclName,
        description: `rate limit and AWS managed rules for ${aclName}`,
        scope: 'REGIONAL',
        defaultAction: { allow: {} },
        rules: wafRules(args.waf),
        visibilityConfig: visibility(aclName),
      },
      child,
    );
    const logs = new aws.cloudwatch.LogGroup(`${name}-logs`, { name: `${WAF_LOG_PREFIX}${aclName}`, retentionInDays: 30 }, child);
    new aws.wafv2.WebAclLoggingConfiguration(
      `${name}-logging`,
      {
        resourceArn: acl.arn,
        logDestinationConfigs: [logs.arn],
        redactedFields: [{ singleHeader: { name: 'authorization' } }, { singleHeader: { name: 'x-api-key' } }],
        // only what a rule blocked or counted: logging every allowed request (Route53's /health probes alone are
        // ~1.3 M a month per region) would cost more than the web ACL
        loggingFilter: {
          defaultBehavior: 'DROP',
          filters: [{ behavior: 'KEEP', requirement: 'MEETS_ANY', conditions: [{ actionCondition: { action: 'BLOCK' } }, { actionCondition: { action: 'COUNT' } }] }],
        },
      },
      child,
    );
    for (const [key, resourceArn] of Object.entries(args.targets)) {
      new aws.wafv2.WebAclAssociation(`${name}-${key}-association`, { resourceArn, webAclArn: acl.arn }, child);
    }
    this.webAclArn = acl.arn;
    this.logGroupName = logs.name;
    this.registerOutputs({ webAclArn: this.webAclArn, logGroupName: this.logGroupName });
  }
}
