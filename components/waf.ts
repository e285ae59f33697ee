/**
 * RegionalWaf (one per region when `waf` is on, the default for prod): REGIONAL AWS WAF web ACLs in front of the
 * region's API Gateway stage and its AppSync API:
 * - the stage's web ACL (`<project>-<stack>-<region>`): a rate-based rule — more than `waf.rateLimitPer5Min`
 *   requests from one IP address in 5 minutes → 403 until the rate drops (the lowest limit AWS allows is 10:
 *   https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based-high-level-settings.html)
 *   — and the managed rule groups below. The rate rule lives here only: this is where WAF sees each client's
 *   own address. `/graphql` is proxied by the stage (components/restApi.ts, HTTP_PROXY), so AppSync sees those
 *   requests come from API Gateway's addresses, shared by every client; a per-IP rule on AppSync would put all
 *   of them, and the notifier's publishes from Lambda's shared egress addresses, in one bucket.
 * - when `waf.managedRules`, AppSync's own web ACL (`<project>-<stack>-<region>-graphql`) with the managed rule
 *   groups only, no rate rule (without managed rules AppSync gets no web ACL: it would have no rule);
 * - the managed rule groups, in both: AWSManagedRulesCommonRuleSet and AWSManagedRulesKnownBadInputsRuleSet (no
 *   subscription; priced as one rule each), with the Common rule set's SizeRestrictions_BODY (blocks bodies over
 *   8 KB) set to count: the API takes values up to 16,384 characters (schema/rules.ts), and AppSync's body
 *   inspection limit is fixed at 8 KB
 *   (https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-baseline.html,
 *   https://docs.aws.amazon.com/waf/latest/developerguide/web-acl-setting-body-inspection-limit.html);
 * - per web ACL, full request logs in a CloudWatch log group whose name starts with `aws-waf-logs-`, which WAF
 *   requires of every log destination ("The name that you give the destination must start with aws-waf-logs-":
 *   https://docs.aws.amazon.com/waf/latest/APIReference/API_LoggingConfiguration.html), with the credential
 *   headers (authorization, x-api-key) redacted; only blocked and counted requests are kept.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { WafConfig } from '../config/protection';

/** WAF's required prefix for log destinations (see the header). */
export const WAF_LOG_PREFIX = 'aws-waf-logs-';

export const MANAGED_RULE_GROUPS = ['AWSManagedRulesCommonRuleSet', 'AWSManagedRulesKnownBadInputsRuleSet'] as const;

export interface RegionalWafArgs {
  region: string;
  /** `<project>-<stack>` */
  prefix: string;
  waf: WafConfig;
  /** what the web ACLs protect: the API Gateway stage's ARN and the AppSync API's ARN */
  targets: { stage: pulumi.Input<string>; graphql: pulumi.Input<string> };
}

const visibility = (metricName: string): aws.types.input.wafv2.WebAclVisibilityConfig => ({ cloudwatchMetricsEnabled: true, metricName, sampledRequestsEnabled: true });

/**
 * Rules of the managed groups set to count instead of their own action (block), in every web ACL.
 * SizeRestrictions_BODY blocks bodies over 8 KB; item values go up to 16,384 characters (schema/rules.ts)
 * (https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-baseline.html).
 */
export const COUNTED_MANAGED_RULES: Partial<Record<(typeof MANAGED_RULE_GROUPS)[number], readonly string[]>> = {
  AWSManagedRulesCommonRuleSet: ['SizeRestrictions_BODY'],
};

/** The managed rule groups as rules, from `priority` on (exported for the tests). */
export function managedRules(priority: number): aws.types.input.wafv2.WebAclRule[] {
  return MANAGED_RULE_GROUPS.map((group, i) => {
    const counted = COUNTED_MANAGED_RULES[group] ?? [];
    return {
      name: group,
      priority: priority + i,
      // a rule group's own actions (block) apply, except the rules in COUNTED_MANAGED_RULES: `none` overrides nothing
      overrideAction: { none: {} },
      statement: {
        managedRuleGroupStatement: {
          vendorName: 'AWS',
          name: group,
          ...(counted.length > 0 ? { ruleActionOverrides: counted.map((name) => ({ name, actionToUse: { count: {} } })) } : {}),
        },
      },
      visibilityConfig: visibility(group),
    };
  });
}

/** The API Gateway stage's web ACL rules, in priority order (exported for the tests). */
export function wafRules(waf: WafConfig): aws.types.input.wafv2.WebAclRule[] {
  const rules: aws.types.input.wafv2.WebAclRule[] = [
    {
      name: 'rate-limit-per-ip',
      priority: 0,
      action: { block: {} },
      statement: { rateBasedStatement: { limit: waf.rateLimitPer5Min, aggregateKeyType: 'IP', evaluationWindowSec: 300 } },
      visibilityConfig: visibility('rate-limit-per-ip'),
    },
  ];
  return waf.managedRules ? [...rules, ...managedRules(1)] : rules;
}

/** The stage's web ACL description: says what its rules are (no managed rule groups with `managedRules: false`). */
export function stageAclDescription(aclName: string, waf: WafConfig): string {
  return waf.managedRules ? `rate limit and AWS managed rules for ${aclName}` : `rate limit for ${aclName}`;
}

/** The AppSync API's web ACL rules (no rate rule: see the header); none without managed rules (exported for the tests). */
export function graphqlWafRules(waf: WafConfig): aws.types.input.wafv2.WebAclRule[] {
  return waf.managedRules ? managedRules(0) : [];
}

export class RegionalWaf extends pulumi.ComponentResource {
  /** the stage's web ACL */
  readonly webAclArn: pulumi.Output<string>;
  readonly logGroupName: pulumi.Output<string>;
  /** AppSync's web ACL (only with managed rules) */
  readonly graphqlWebAclArn?: pulumi.Output<string>;
  readonly graphqlLogGroupName?: pulumi.Output<string>;

  constructor(name: string, args: RegionalWafArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('global-appsync:index:RegionalWaf', name, {}, opts);
    const child = { parent: this };
    const aclName = `${args.prefix}-${args.region}`;
    // the stage's resource names are the ones this component always had (no replacement on upgrade)
    const stage = webAcl(`${name}`, aclName, stageAclDescription(aclName, args.waf), wafRules(args.waf), child);
    new aws.wafv2.WebAclAssociation(`${name}-stage-association`, { resourceArn: args.targets.stage, webAclArn: stage.acl.arn }, child);
    this.webAclArn = stage.acl.arn;
    this.logGroupName = stage.logs.name;

    const graphqlRules = graphqlWafRules(args.waf);
    if (graphqlRules.length > 0) {
      const graphqlName = `${aclName}-graphql`;
      const graphql = webAcl(`${name}-graphql`, graphqlName, `AWS managed rules for ${aclName} AppSync`, graphqlRules, child);
      new aws.wafv2.WebAclAssociation(`${name}-graphql-association`, { resourceArn: args.targets.graphql, webAclArn: graphql.acl.arn }, child);
      this.graphqlWebAclArn = graphql.acl.arn;
      this.graphqlLogGroupName = graphql.logs.name;
    }
    this.registerOutputs({ webAclArn: this.webAclArn, logGroupName: this.logGroupName, graphqlWebAclArn: this.graphqlWebAclArn, graphqlLogGroupName: this.graphqlLogGroupName });
  }
}

/** One web ACL (allow by default) with its log group and logging configuration: `<name>-acl`, `-logs`, `-logging`. */
function webAcl(name: string, aclName: string, description: string, rules: aws.types.input.wafv2.WebAclRule[], opts: pulumi.CustomResourceOptions): { acl: aws.wafv2.WebAcl; logs: aws.cloudwatch.LogGroup } {
  const acl = new aws.wafv2.WebAcl(`${name}-acl`, { name: aclName, description, scope: 'REGIONAL', defaultAction: { allow: {} }, rules, visibilityConfig: visibility(aclName) }, opts);
  const logs = new aws.cloudwatch.LogGroup(`${name}-logs`, { name: `${WAF_LOG_PREFIX}${aclName}`, retentionInDays: 30 }, opts);
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
    opts,
  );
  return { acl, logs };
}
