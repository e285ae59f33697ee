/**
 * What AWS's API accepts for each resource input this program sets, and a checker over a recorded mock run.
 * Every Pulumi input is mapped to the API request member it becomes (operation named in `member`), whose
 * min/max/pattern come from botocore's copy of AWS's service models (components/aws-constraints.json, written by
 * scripts/extract-aws-constraints.py). Where the model has no pattern and AWS documents the rule only in prose,
 * the rule is written here with the API reference page it comes from.
 *
 * Pulumi auto-names most resources: the physical name is the logical name + '-' + 7 random hex characters
 * (pulumi-aws autonaming), so for inputs left unset the checked value is that name with a sample suffix.
 */
import fs from 'node:fs';
import path from 'node:path';
import { reveal, type Recorded } from '../../scripts/mockCloud';

interface MemberConstraint {
  service: string;
  operation: string;
  member: string;
  min?: number;
  max?: number;
  pattern?: string;
}
export const CONSTRAINTS = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'components', 'aws-constraints.json'), 'utf8')) as {
  botocore: string;
  extracted: string;
  members: Record<string, MemberConstraint>;
};

/** A rule AWS documents only in prose: a full-match pattern and length limits, with the page that says so. */
interface ProseRule {
  source: string;
  min?: number;
  max?: number;
  pattern?: string;
}
export const PROSE: Record<string, ProseRule> = {
  // "If you specify only the function name, it is limited to 64 characters in length."
  'lambda:CreateFunction.FunctionName': { source: 'https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html', min: 1, max: 64, pattern: '[a-zA-Z0-9_-]+' },
  // "Up to 80 characters. Valid values: alphanumeric characters, hyphens (-), and underscores (_)."
  'sqs:CreateQueue.QueueName': { source: 'https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html', min: 1, max: 80, pattern: '[A-Za-z0-9_-]+' },
  // "Topic names must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long."
  'sns:CreateTopic.Name': { source: 'https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html', min: 1, max: 256, pattern: '[A-Za-z0-9_-]+' },
  // "Stage names can only contain alphanumeric characters, hyphens, and underscores. Maximum length is 128 characters."
  'apigateway:CreateStage.stageName': { source: 'https://docs.aws.amazon.com/apigateway/latest/api/API_CreateStage.html', min: 1, max: 128, pattern: '[A-Za-z0-9_-]+' },
  // Lambda function timeout: "The maximum allowed value is 900 seconds."
  'lambda:CreateFunction.Timeout': { source: 'https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html', max: 900 },
  // "Names can be up to 255 characters long … a-z, A-Z, 0-9, _ (underscore), - (dash), and . (dot)", at least 3
  'dynamodb:CreateTable.TableName': { source: 'https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html', min: 3, max: 255, pattern: '[a-zA-Z0-9_.-]+' },
  // "The name for the alarm. This name must be unique within the Region. The name must contain only UTF-8 characters, and can't contain ASCII control characters"
  'cloudwatch:PutMetricAlarm.AlarmName': { source: 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html', pattern: '[^\\u0000-\\u001F\\u007F]+' },
  // AppSync API keys: the description is a free string; no rule beyond the model's
  // "The value … is an alphanumeric string between 20 and 128 characters" (issue 10: the key every region shares)
  'apigateway:CreateApiKey.value': { source: 'https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-usage-plans.html', min: 20, max: 128, pattern: '[A-Za-z0-9]+' },
  // "The name can't exceed 1024 characters" (API keys)
  'apigateway:CreateApiKey.name': { source: 'https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-usage-plans.html', min: 1, max: 1024 },
  // "authorizerResultTtlInSeconds … If it is greater than 0, API Gateway will cache authorizer responses. The maximum value is 3600, or 1 hour."
  'apigateway:CreateAuthorizer.authorizerResultTtlInSeconds': { source: 'https://docs.aws.amazon.com/apigateway/latest/api/API_CreateAuthorizer.html', min: 0, max: 3600 },
  // "Variable names can have alphanumeric and underscore characters, and the values must match [A-Za-z0-9-._~:/?#&=,]+."
  'apigateway:CreateStage.variables{key}': { source: 'https://docs.aws.amazon.com/apigateway/latest/api/API_CreateStage.html', min: 1, pattern: '[A-Za-z0-9_]+' },
  'apigateway:CreateStage.variables{}': { source: 'https://docs.aws.amazon.com/apigateway/latest/api/API_CreateStage.html', min: 1, pattern: '[A-Za-z0-9._~:/?#&=,-]+' },
  // "The name that you give the destination must start with aws-waf-logs-" (a CloudWatch Logs log group's ARN here)
  'wafv2:PutLoggingConfiguration.LoggingConfiguration.LogDestinationConfigs[]': { source: 'https://docs.aws.amazon.com/waf/latest/APIReference/API_LoggingConfiguration.html', pattern: 'arn:aws:logs:[a-z0-9-]+:\\d{12}:log-group:aws-waf-logs-[.\\-_/#A-Za-z0-9]+' },
  // "Bucket names must be between 3 (min) and 63 (max) characters long … only lowercase letters, numbers, periods (.),
  // and hyphens (-) … begin and end with a letter or number" (the model gives no pattern)
  's3:CreateBucket.Bucket': { source: 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html', min: 3, max: 63, pattern: '[a-z0-9][a-z0-9.-]*[a-z0-9]' },
};

/** Where a value is found in a resource's inputs: a key, `a.b`, `list[]` (each element), `map{key}` (each key), `map{}` (each value). */
type InputPath = string;
interface Mapping {
  input: InputPath;
  member: string;
  /** the input is left to Pulumi's autonaming when absent */
  autoname?: boolean;
}

/** Pulumi resource type → its inputs that AWS constrains. `[]` with a reason: nothing of ours to check. */
export const MAPPINGS: Record<string, Mapping[] | { none: string }> = {
  'aws:iam/role:Role': [
    { input: 'name', member: 'iam:CreateRole.RoleName', autoname: true },
    { input: 'description', member: 'iam:CreateRole.Description' },
    { input: 'path', member: 'iam:CreateRole.Path' },
    { input: 'assumeRolePolicy', member: 'iam:CreateRole.AssumeRolePolicyDocument' },
  ],
  'aws:iam/rolePolicy:RolePolicy': [
    { input: 'name', member: 'iam:PutRolePolicy.PolicyName', autoname: true },
    { input: 'policy', member: 'iam:PutRolePolicy.PolicyDocument' },
  ],
  'aws:iam/rolePolicyAttachment:RolePolicyAttachment': { none: 'only ARNs and a role name checked on the role' },
  'aws:lambda/function:Function': [
    { input: 'name', member: 'lambda:CreateFunction.FunctionName', autoname: true },
    { input: 'description', member: 'lambda:CreateFunction.Description' },
    { input: 'handler', member: 'lambda:CreateFunction.Handler' },
    { input: 'timeout', member: 'lambda:CreateFunction.Timeout' },
    { input: 'layers[]', member: 'lambda:CreateFunction.Layers[]' },
    { input: 'memorySize', member: 'lambda:CreateFunction.MemorySize' },
    { input: 'environment.variables{key}', member: 'lambda:CreateFunction.Environment.Variables{key}' },
  ],
  'aws:lambda/permission:Permission': [{ input: 'statementId', member: 'lambda:AddPermission.StatementId' }],
  'aws:lambda/eventSourceMapping:EventSourceMapping': { none: 'ARNs and numbers (checked in security.test.ts)' },
  'aws:lambda/invocation:Invocation': { none: 'a function name and its JSON input (the stream enabler checks it: handlers/streamEnabler.ts)' },
  'aws:cloudwatch/logGroup:LogGroup': [{ input: 'name', member: 'logs:CreateLogGroup.logGroupName', autoname: true }],
  'aws:sqs/queue:Queue': [{ input: 'name', member: 'sqs:CreateQueue.QueueName', autoname: true }],
  'aws:sns/topic:Topic': [{ input: 'name', member: 'sns:CreateTopic.Name', autoname: true }],
  'aws:sns/topicSubscription:TopicSubscription': { none: 'protocol and an e-mail address validated by config.ts' },
  'aws:appsync/graphQLApi:GraphQLApi': [{ input: 'name', member: 'appsync:CreateGraphqlApi.name' }],
  'aws:appsync/dataSource:DataSource': [
    { input: 'name', member: 'appsync:CreateDataSource.name' },
    { input: 'description', member: 'appsync:CreateDataSource.description' },
  ],
  'aws:appsync/function:Function': [
    { input: 'name', member: 'appsync:CreateFunction.name' },
    { input: 'description', member: 'appsync:CreateFunction.description' },
  ],
  'aws:appsync/resolver:Resolver': [
    { input: 'type', member: 'appsync:CreateResolver.typeName' },
    { input: 'field', member: 'appsync:CreateResolver.fieldName' },
    { input: 'code', member: 'appsync:CreateResolver.code' },
  ],
  'aws:appsync/apiKey:ApiKey': [{ input: 'description', member: 'appsync:CreateApiKey.description' }],
  'aws:apigateway/restApi:RestApi': [{ input: 'name', member: 'apigateway:CreateRestApi.name' }],
  'aws:apigateway/resource:Resource': [{ input: 'pathPart', member: 'apigateway:CreateResource.pathPart' }],
  'aws:apigateway/method:Method': { none: 'enumerations (HTTP method, authorization type)' },
  'aws:apigateway/integration:Integration': { none: 'enumerations and URIs' },
  'aws:apigateway/deployment:Deployment': [{ input: 'description', member: 'apigateway:CreateDeployment.description' }],
  'aws:apigateway/stage:Stage': [
    { input: 'stageName', member: 'apigateway:CreateStage.stageName' },
    { input: 'variables{key}', member: 'apigateway:CreateStage.variables{key}' },
    { input: 'variables{}', member: 'apigateway:CreateStage.variables{}' },
  ],
  'aws:apigateway/account:Account': { none: 'a role ARN' },
  'aws:apigateway/domainName:DomainName': [{ input: 'domainName', member: 'apigateway:CreateDomainName.domainName' }],
  'aws:apigateway/basePathMapping:BasePathMapping': { none: 'references only' },
  'aws:route53/healthCheck:HealthCheck': [
    { input: 'resourcePath', member: 'route53:CreateHealthCheck.HealthCheckConfig.ResourcePath' },
    { input: 'fqdn', member: 'route53:CreateHealthCheck.HealthCheckConfig.FullyQualifiedDomainName' },
    { input: 'tags{key}', member: 'route53:ChangeTagsForResource.AddTags[].Key' },
    { input: 'tags{}', member: 'route53:ChangeTagsForResource.AddTags[].Value' },
  ],
  'aws:route53/record:Record': [
    { input: 'name', member: 'route53:ChangeResourceRecordSets.ChangeBatch.Changes[].ResourceRecordSet.Name' },
    { input: 'setIdentifier', member: 'route53:ChangeResourceRecordSets.ChangeBatch.Changes[].ResourceRecordSet.SetIdentifier' },
    { input: 'ttl', member: 'route53:ChangeResourceRecordSets.ChangeBatch.Changes[].ResourceRecordSet.TTL' },
  ],
  'aws:cloudwatch/dashboard:Dashboard': {
    none: 'cloudwatch:PutDashboard is not among the extracted members yet; its name is <project>-<stack>, within PutDashboard\'s A-Z a-z 0-9 - _ (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html), and test/unit/dashboard.test.ts checks the body',
  },
  'aws:cloudwatch/metricAlarm:MetricAlarm': [
    { input: 'name', member: 'cloudwatch:PutMetricAlarm.AlarmName', autoname: true },
    { input: 'alarmDescription', member: 'cloudwatch:PutMetricAlarm.AlarmDescription' },
    { input: 'dimensions{}', member: 'cloudwatch:PutMetricAlarm.Dimensions[].Value' },
  ],
  'aws:acm/certificate:Certificate': [
    { input: 'domainName', member: 'acm:RequestCertificate.DomainName' },
    { input: 'subjectAlternativeNames[]', member: 'acm:RequestCertificate.DomainName' },
  ],
  'aws:acm/certificateValidation:CertificateValidation': { none: 'an ARN and record names' },
  'aws:dynamodb/table:Table': [{ input: 'name', member: 'dynamodb:CreateTable.TableName' }],
  'aws:dynamodb/tableItem:TableItem': { none: 'the item (DynamoDB JSON), checked in topology.test.ts' },
  // issue 11 drills
  'aws:fis/experimentTemplate:ExperimentTemplate': [
    { input: 'description', member: 'fis:CreateExperimentTemplate.description' },
    { input: 'actions[].name', member: 'fis:CreateExperimentTemplate.actions{key}' },
    { input: 'actions[].actionId', member: 'fis:CreateExperimentTemplate.actions{}.actionId' },
    { input: 'actions[].parameters[].value', member: 'fis:CreateExperimentTemplate.actions{}.parameters{}' },
    { input: 'targets[].name', member: 'fis:CreateExperimentTemplate.targets{key}' },
    { input: 'targets[].resourceType', member: 'fis:CreateExperimentTemplate.targets{}.resourceType' },
    { input: 'targets[].selectionMode', member: 'fis:CreateExperimentTemplate.targets{}.selectionMode' },
    { input: 'stopConditions[].source', member: 'fis:CreateExperimentTemplate.stopConditions[].source' },
    { input: 'stopConditions[].value', member: 'fis:CreateExperimentTemplate.stopConditions[].value' },
  ],
  'aws:s3/bucket:Bucket': [{ input: 'bucket', member: 's3:CreateBucket.Bucket', autoname: true }],
  'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock': { none: 'a bucket reference and four booleans' },
  'pulumi:providers:aws': { none: 'provider settings, not an AWS API request' },
  // issue 10: the shared API key, REST authorizers, stage throttling, WAF
  'random:index/randomPassword:RandomPassword': { none: 'generated locally by the random provider, not an AWS API request (its result is checked as the ApiKey value)' },
  'aws:apigateway/apiKey:ApiKey': [
    { input: 'value', member: 'apigateway:CreateApiKey.value' },
    { input: 'name', member: 'apigateway:CreateApiKey.name', autoname: true },
  ],
  'aws:apigateway/usagePlan:UsagePlan': [{ input: 'name', member: 'apigateway:CreateUsagePlan.name' }],
  'aws:apigateway/usagePlanKey:UsagePlanKey': { none: 'ids and the API_KEY enumeration' },
  'aws:apigateway/methodSettings:MethodSettings': { none: 'the `*/*` path and numbers validated by components/protectionConfig.ts' },
  'aws:apigateway/authorizer:Authorizer': [
    { input: 'name', member: 'apigateway:CreateAuthorizer.name' },
    { input: 'authorizerResultTtlInSeconds', member: 'apigateway:CreateAuthorizer.authorizerResultTtlInSeconds' },
  ],
  'aws:wafv2/webAcl:WebAcl': [
    { input: 'name', member: 'wafv2:CreateWebACL.Name' },
    { input: 'description', member: 'wafv2:CreateWebACL.Description' },
    { input: 'rules[].name', member: 'wafv2:CreateWebACL.Rules[].Name' },
    { input: 'rules[].statement.rateBasedStatement.limit', member: 'wafv2:CreateWebACL.Rules[].Statement.RateBasedStatement.Limit' },
    { input: 'rules[].statement.managedRuleGroupStatement.name', member: 'wafv2:CreateWebACL.Rules[].Statement.ManagedRuleGroupStatement.Name' },
    { input: 'rules[].visibilityConfig.metricName', member: 'wafv2:CreateWebACL.Rules[].VisibilityConfig.MetricName' },
    { input: 'visibilityConfig.metricName', member: 'wafv2:CreateWebACL.VisibilityConfig.MetricName' },
  ],
  'aws:wafv2/webAclAssociation:WebAclAssociation': { none: 'two ARNs' },
  'aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration': [
    { input: 'logDestinationConfigs[]', member: 'wafv2:PutLoggingConfiguration.LoggingConfiguration.LogDestinationConfigs[]' },
  ],
};

/** The values at an input path (none when absent). */
function valuesAt(inputs: Record<string, unknown>, p: InputPath): unknown[] {
  // secrets (the shared API key, stage variables) are checked as the plain values AWS receives
  let values: unknown[] = [reveal(inputs)];
  for (const part of p.split(/\.|(?=\[\])|(?=\{)/)) {
    const next: unknown[] = [];
    for (const v of values) {
      if (v === undefined || v === null) continue;
      if (part === '[]') next.push(...(Array.isArray(v) ? v : []));
      else if (part === '{key}') next.push(...Object.keys(v as object));
      else if (part === '{}') next.push(...Object.values(v as object));
      else next.push((v as Record<string, unknown>)[part]);
    }
    values = next.filter((x) => x !== undefined);
  }
  return values;
}

export const autoname = (logical: string): string => `${logical}-a1b2c3d`;
const full = (pattern: string): RegExp => new RegExp(`^(?:${pattern})$`);

/** One violation: resource, input, value, the rule and where the rule comes from. */
export interface Violation {
  resource: string;
  input: string;
  value: string;
  rule: string;
}

function check(value: unknown, c: { min?: number; max?: number; pattern?: string }, source: string): string | undefined {
  if (typeof value === 'number') {
    if (c.min !== undefined && value < c.min) return `at least ${c.min} (${source})`;
    if (c.max !== undefined && value > c.max) return `at most ${c.max} (${source})`;
    return undefined;
  }
  const s = String(value);
  if (c.min !== undefined && s.length < c.min) return `length ≥ ${c.min} (${source})`;
  if (c.max !== undefined && s.length > c.max) return `length ≤ ${c.max}, is ${s.length} (${source})`;
  if (c.pattern !== undefined && !full(c.pattern).test(s)) return `must match ${c.pattern} (${source})`;
  return undefined;
}

/** Every violation in a run; throws on a resource type with no mapping (so a new type cannot slip by). */
export function violations(resources: readonly Recorded[]): Violation[] {
  const out: Violation[] = [];
  for (const r of resources.filter((x) => x.custom)) {
    const mapping = MAPPINGS[r.type];
    if (!mapping) throw new Error(`no AWS constraint mapping for ${r.type} (${r.name}): add it to test/unit/awsConstraints.ts`);
    if (!Array.isArray(mapping)) continue;
    for (const m of mapping) {
      const model = CONSTRAINTS.members[m.member];
      if (!model) throw new Error(`${m.member} is not in components/aws-constraints.json: add it to scripts/extract-aws-constraints.py`);
      let values = valuesAt(r.inputs, m.input);
      if (values.length === 0 && m.autoname) values = [autoname(r.name)];
      for (const v of values) {
        const rules: Array<[ProseRule | MemberConstraint, string]> = [[model, `botocore ${CONSTRAINTS.botocore} ${model.service} ${model.operation} ${model.member}`]];
        if (PROSE[m.member]) rules.push([PROSE[m.member], PROSE[m.member].source]);
        for (const [rule, source] of rules) {
          const why = check(v, rule, source);
          if (why) out.push({ resource: r.name, input: m.input, value: String(v).slice(0, 120), rule: why });
        }
      }
    }
  }
  return out;
}
