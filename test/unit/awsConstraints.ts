/**
 * What AWS's API accepts for each resource input this program sets, and a checker over a recorded mock run.
 * Every Pulumi input is mapped to the API request member it becomes (operation named in `member`), whose
 * min/max/pattern come from botocore's copy of AWS's service models (config/aws-constraints.json, written by
 * scripts/extract-aws-constraints.py). Where the model has no pattern and AWS documents the rule only in prose,
 * the rule is written here with the API reference page it comes from.
 *
 * Pulumi auto-names most resources: the physical name is the logical name + '-' + 7 random hex characters
 * (pulumi-aws autonaming), so for inputs left unset the checked value is that name with a sample suffix.
 */
import fs from 'node:fs';
import path from 'node:path';
import { providerNameOf, reveal, type Recorded } from '../../scripts/mockCloud';
import { resourceSchema } from './providerSchema';

interface MemberConstraint {
  service: string;
  operation: string;
  member: string;
  min?: number;
  max?: number;
  pattern?: string;
  /** the model's enumeration of allowed values */
  enum?: readonly string[];
}
export const CONSTRAINTS = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'config', 'aws-constraints.json'), 'utf8')) as {
  botocore: string;
  extracted: string;
  members: Record<string, MemberConstraint>;
};

/**
 * A rule AWS documents only in prose, with the page that says so: a full-match pattern and length limits (strings),
 * a range (numbers; `integer` for whole numbers), the allowed values, names AWS reserves (`forbidden`: a full-match
 * pattern and why), or, for a value that is an object, the most bytes its JSON may take (`maxJsonBytes`). `quota`:
 * not a rule of the API but an account's default service quota the value should stay within (reported as such).
 */
interface ProseRule {
  source: string;
  min?: number;
  max?: number;
  pattern?: string;
  integer?: boolean;
  oneOf?: readonly (string | number)[];
  forbidden?: readonly { pattern: string; why: string }[];
  maxJsonBytes?: number;
  quota?: { max: number; what: string; source: string };
}

/** AWS's common tag rule: letters, numbers and spaces in UTF-8 plus + - = . _ : / @; keys 1–128, values ≤ 256; no aws: prefix. */
const TAGGING = 'https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html';
const AWS_PREFIX = [{ pattern: '[aA][wW][sS]:[\\s\\S]*', why: 'the aws: prefix is reserved for AWS' }];
const COMMON_TAG_KEY: ProseRule = { source: TAGGING, min: 1, max: 128, pattern: '[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+', forbidden: AWS_PREFIX };
const COMMON_TAG_VALUE: ProseRule = { source: TAGGING, max: 256, pattern: '[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*', forbidden: AWS_PREFIX };
/** S3: "^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$" for keys and values (no comma): S3 Control's S3Tag, as its model has it. */
const S3_TAGS = 'https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_S3Tag.html';
/** DynamoDB allows fewer characters than the common rule: no @. */
const DYNAMODB_TAGS = 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TaggingRestrictions.html';
/** API Gateway: keys up to 128, values up to 256, no aws: prefix, the common character set. */
const APIGATEWAY_TAGS = 'https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-tagging.html';
/** API Gateway usage plans: throttle and quota settings (CloudFormation's UsagePlan property pages give the ranges). */
const USAGE_PLAN_THROTTLE = 'https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-apigateway-usageplan-throttlesettings.html';
const USAGE_PLAN_QUOTA = 'https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-apigateway-usageplan-quotasettings.html';
/**
 * API Gateway's throttle quota per account and region: by default 10,000 requests per second with a 5,000-request
 * burst bucket (2,500 / 1,250 in some newer regions). A quota AWS raises on request, not an API limit: a plan above it
 * is accepted and cannot take effect while the account keeps the default.
 */
const ACCOUNT_THROTTLE = 'https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html';
const THROTTLE_QUOTA = "API Gateway's default throttle quota per account and region, which AWS raises on request";
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
  // "The value … is an alphanumeric string between 20 and 128 characters" (the shared key apiKey mode gives every region)
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
  // General purpose bucket naming rules (the model gives no pattern): 3 to 63 characters, only lowercase letters,
  // numbers, periods and hyphens, beginning and ending with a letter or number; no two adjacent periods; not an IP
  // address; and the prefixes and suffixes S3 reserves: xn--, sthree-, amzn-s3-demo-, -s3alias, --ol-s3, .mrap,
  // --x-s3, --table-s3.
  's3:CreateBucket.Bucket': {
    source: 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html',
    min: 3,
    max: 63,
    pattern: '[a-z0-9][a-z0-9.-]*[a-z0-9]',
    forbidden: [
      { pattern: '.*\\.\\..*', why: 'two adjacent periods' },
      { pattern: '\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}', why: 'formatted as an IP address' },
      ...['xn--', 'sthree-', 'amzn-s3-demo-'].map((p) => ({ pattern: `${p.replace(/[.-]/g, (c) => `\\${c}`)}.*`, why: `the prefix ${p} is reserved` })),
      ...['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'].map((x) => ({ pattern: `.*${x.replace(/[.-]/g, (c) => `\\${c}`)}`, why: `the suffix ${x} is reserved` })),
    ],
  },
  // tags: the services whose model has no pattern (or no rule at all) get the rule their documentation states
  's3control:TagResource.Tags[].Key': { source: S3_TAGS, min: 1, max: 128 },
  's3:PutBucketTagging.Tagging.TagSet[].Value': { source: S3_TAGS, max: 256, pattern: '[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*' },
  'dynamodb:CreateTable.Tags[].Key': { source: DYNAMODB_TAGS, min: 1, max: 128, pattern: '[\\p{L}\\p{Z}\\p{N}+\\-=._:/]+', forbidden: AWS_PREFIX },
  'dynamodb:CreateTable.Tags[].Value': { source: DYNAMODB_TAGS, max: 256, pattern: '[\\p{L}\\p{Z}\\p{N}+\\-=._:/]*' },
  'apigateway:CreateRestApi.tags{key}': { ...COMMON_TAG_KEY, source: APIGATEWAY_TAGS },
  'apigateway:CreateRestApi.tags{}': { ...COMMON_TAG_VALUE, source: APIGATEWAY_TAGS },
  // "Function environment variables: 4 KB, for all environment variables associated with the function, in aggregate"
  'lambda:CreateFunction.Environment.Variables': { source: 'https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html', maxJsonBytes: 4096 },
  // usage plans: rate and burst at least 0 (the API's rule) and within the account's default throttle quota (a quota
  // check, reported as one); quota limit and offset at least 0
  'apigateway:CreateUsagePlan.throttle.rateLimit': { source: USAGE_PLAN_THROTTLE, min: 0, quota: { max: 10_000, what: `${THROTTLE_QUOTA} (requests per second)`, source: ACCOUNT_THROTTLE } },
  'apigateway:CreateUsagePlan.throttle.burstLimit': { source: USAGE_PLAN_THROTTLE, min: 0, integer: true, quota: { max: 5_000, what: `${THROTTLE_QUOTA} (burst)`, source: ACCOUNT_THROTTLE } },
  'apigateway:CreateUsagePlan.quota.limit': { source: USAGE_PLAN_QUOTA, min: 0, integer: true },
  'apigateway:CreateUsagePlan.quota.offset': { source: USAGE_PLAN_QUOTA, min: 0, integer: true },
  // WAF rate-based rules: "EvaluationWindowSec … Valid settings are 60, 120, 300, and 600" (the model has no enumeration)
  'wafv2:CreateWebACL.Rules[].Statement.RateBasedStatement.EvaluationWindowSec': { source: 'https://docs.aws.amazon.com/waf/latest/APIReference/API_RateBasedStatement.html', oneOf: [60, 120, 300, 600] },
  // "The maximum length is 255, and valid characters are A-Z, a-z, 0-9, "-", and "_"" (the model has no pattern)
  'cloudwatch:PutDashboard.DashboardName': { source: 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html', min: 1, max: 255, pattern: '[A-Za-z0-9_-]+' },
};

/**
 * Tags, per resource type the program can tag (its Args have `tags`; the provider's `defaultTags` reach every one of
 * them): the API member each tag key and value becomes, so the service's model rule (and PROSE, where the service
 * documents more) applies, and AWS's common rule on top. A taggable type missing here fails the check.
 */
export const TAG_MEMBERS: Record<string, { key: string; value: string }> = {
  'aws:s3/bucket:Bucket': { key: 's3control:TagResource.Tags[].Key', value: 's3control:TagResource.Tags[].Value' },
  'aws:fis/experimentTemplate:ExperimentTemplate': { key: 'fis:CreateExperimentTemplate.tags{key}', value: 'fis:CreateExperimentTemplate.tags{}' },
  'aws:wafv2/webAcl:WebAcl': { key: 'wafv2:CreateWebACL.Tags[].Key', value: 'wafv2:CreateWebACL.Tags[].Value' },
  'aws:route53/healthCheck:HealthCheck': { key: 'route53:ChangeTagsForResource.AddTags[].Key', value: 'route53:ChangeTagsForResource.AddTags[].Value' },
  'aws:iam/role:Role': { key: 'iam:CreateRole.Tags[].Key', value: 'iam:CreateRole.Tags[].Value' },
  'aws:lambda/function:Function': { key: 'lambda:CreateFunction.Tags{key}', value: 'lambda:CreateFunction.Tags{}' },
  'aws:lambda/eventSourceMapping:EventSourceMapping': { key: 'lambda:CreateFunction.Tags{key}', value: 'lambda:CreateFunction.Tags{}' },
  'aws:sqs/queue:Queue': { key: 'sqs:CreateQueue.tags{key}', value: 'sqs:CreateQueue.tags{}' },
  'aws:sns/topic:Topic': { key: 'sns:CreateTopic.Tags[].Key', value: 'sns:CreateTopic.Tags[].Value' },
  'aws:cloudwatch/logGroup:LogGroup': { key: 'logs:CreateLogGroup.tags{key}', value: 'logs:CreateLogGroup.tags{}' },
  'aws:cloudwatch/metricAlarm:MetricAlarm': { key: 'cloudwatch:PutMetricAlarm.Tags[].Key', value: 'cloudwatch:PutMetricAlarm.Tags[].Value' },
  'aws:dynamodb/table:Table': { key: 'dynamodb:CreateTable.Tags[].Key', value: 'dynamodb:CreateTable.Tags[].Value' },
  'aws:appsync/graphQLApi:GraphQLApi': { key: 'appsync:CreateGraphqlApi.tags{key}', value: 'appsync:CreateGraphqlApi.tags{}' },
  'aws:acm/certificate:Certificate': { key: 'acm:RequestCertificate.Tags[].Key', value: 'acm:RequestCertificate.Tags[].Value' },
  ...Object.fromEntries(
    ['restApi:RestApi', 'apiKey:ApiKey', 'domainName:DomainName', 'stage:Stage', 'usagePlan:UsagePlan'].map((t) => [`aws:apigateway/${t}`, { key: 'apigateway:CreateRestApi.tags{key}', value: 'apigateway:CreateRestApi.tags{}' }]),
  ),
};
/**
 * S3 checks a bucket's tag values twice: S3 Control's model, and PutBucketTagging's TagSet (whose model has no
 * pattern) with the pattern S3Tag states — one rule, as the page gives it, applied to both APIs that tag a bucket.
 */
const EXTRA_TAG_RULES: Record<string, { key?: string; value?: string }> = {
  'aws:s3/bucket:Bucket': { value: 's3:PutBucketTagging.Tagging.TagSet[].Value' },
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
    { input: 'environment.variables', member: 'lambda:CreateFunction.Environment.Variables' },
  ],
  'aws:lambda/permission:Permission': [{ input: 'statementId', member: 'lambda:AddPermission.StatementId' }],
  'aws:lambda/eventSourceMapping:EventSourceMapping': { none: 'ARNs and numbers (checked in security.test.ts)' },
  'aws:lambda/invocation:Invocation': { none: 'a function name and its JSON input (the stream enabler checks it: handlers/streamEnabler.ts)' },
  'aws:cloudwatch/logGroup:LogGroup': [{ input: 'name', member: 'logs:CreateLogGroup.logGroupName', autoname: true }],
  'aws:sqs/queue:Queue': [{ input: 'name', member: 'sqs:CreateQueue.QueueName', autoname: true }],
  'aws:sns/topic:Topic': [{ input: 'name', member: 'sns:CreateTopic.Name', autoname: true }],
  'aws:sns/topicSubscription:TopicSubscription': { none: 'protocol and an e-mail address validated by config/' },
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
  ],
  'aws:route53/record:Record': [
    { input: 'name', member: 'route53:ChangeResourceRecordSets.ChangeBatch.Changes[].ResourceRecordSet.Name' },
    { input: 'setIdentifier', member: 'route53:ChangeResourceRecordSets.ChangeBatch.Changes[].ResourceRecordSet.SetIdentifier' },
    { input: 'ttl', member: 'route53:ChangeResourceRecordSets.ChangeBatch.Changes[].ResourceRecordSet.TTL' },
  ],
  // the body: dashboardBodyProblem (widget and metric counts)
  'aws:cloudwatch/dashboard:Dashboard': [{ input: 'dashboardName', member: 'cloudwatch:PutDashboard.DashboardName' }],
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
  // drills: the FIS experiment templates and their config bucket
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
  // client auth: the shared API key, REST authorizers, stage throttling, WAF
  'random:index/randomPassword:RandomPassword': { none: 'generated locally by the random provider, not an AWS API request (its result is checked as the ApiKey value)' },
  'aws:apigateway/apiKey:ApiKey': [
    { input: 'value', member: 'apigateway:CreateApiKey.value' },
    { input: 'name', member: 'apigateway:CreateApiKey.name', autoname: true },
  ],
  'aws:apigateway/usagePlan:UsagePlan': [
    { input: 'name', member: 'apigateway:CreateUsagePlan.name' },
    { input: 'throttleSettings.rateLimit', member: 'apigateway:CreateUsagePlan.throttle.rateLimit' },
    { input: 'throttleSettings.burstLimit', member: 'apigateway:CreateUsagePlan.throttle.burstLimit' },
    { input: 'quotaSettings.limit', member: 'apigateway:CreateUsagePlan.quota.limit' },
    { input: 'quotaSettings.offset', member: 'apigateway:CreateUsagePlan.quota.offset' },
    { input: 'quotaSettings.period', member: 'apigateway:CreateUsagePlan.quota.period' },
  ],
  'aws:apigateway/usagePlanKey:UsagePlanKey': { none: 'ids and the API_KEY enumeration' },
  'aws:apigateway/methodSettings:MethodSettings': { none: 'the `*/*` path and numbers validated by config/protection.ts' },
  'aws:apigateway/authorizer:Authorizer': [
    { input: 'name', member: 'apigateway:CreateAuthorizer.name' },
    { input: 'authorizerResultTtlInSeconds', member: 'apigateway:CreateAuthorizer.authorizerResultTtlInSeconds' },
  ],
  'aws:wafv2/webAcl:WebAcl': [
    { input: 'name', member: 'wafv2:CreateWebACL.Name' },
    { input: 'description', member: 'wafv2:CreateWebACL.Description' },
    { input: 'rules[].name', member: 'wafv2:CreateWebACL.Rules[].Name' },
    { input: 'rules[].statement.rateBasedStatement.limit', member: 'wafv2:CreateWebACL.Rules[].Statement.RateBasedStatement.Limit' },
    { input: 'rules[].statement.rateBasedStatement.evaluationWindowSec', member: 'wafv2:CreateWebACL.Rules[].Statement.RateBasedStatement.EvaluationWindowSec' },
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
/** A full-match RegExp; `\p{…}` classes (Unicode properties, as AWS's models write them) need the u flag. */
const full = (pattern: string): RegExp => new RegExp(`^(?:${pattern})$`, pattern.includes('\\p{') ? 'u' : '');

/** One violation: resource, input, value, the rule and where the rule comes from. */
export interface Violation {
  resource: string;
  input: string;
  value: string;
  rule: string;
}

type Rule = ProseRule | MemberConstraint;

function check(value: unknown, c: Rule, source: string): string | undefined {
  const oneOf = 'oneOf' in c && c.oneOf ? c.oneOf : 'enum' in c ? c.enum : undefined;
  if (value !== null && typeof value === 'object') {
    const bytes = Buffer.byteLength(JSON.stringify(value));
    if ('maxJsonBytes' in c && c.maxJsonBytes !== undefined && bytes > c.maxJsonBytes) return `at most ${c.maxJsonBytes} bytes in all, is ${bytes} (${source})`;
    return undefined;
  }
  if (typeof value === 'number') {
    if (c.min !== undefined && value < c.min) return `at least ${c.min} (${source})`;
    if (c.max !== undefined && value > c.max) return `at most ${c.max} (${source})`;
    if ('integer' in c && c.integer && !Number.isInteger(value)) return `a whole number (${source})`;
    if (oneOf && !oneOf.includes(value)) return `one of ${oneOf.join(', ')} (${source})`;
    if ('quota' in c && c.quota && value > c.quota.max) return `quota check, not an API limit: at most ${c.quota.max}, ${c.quota.what} (${c.quota.source})`;
    return undefined;
  }
  const s = String(value);
  if (c.min !== undefined && s.length < c.min) return `length ≥ ${c.min} (${source})`;
  if (c.max !== undefined && s.length > c.max) return `length ≤ ${c.max}, is ${s.length} (${source})`;
  if (c.pattern !== undefined && !full(c.pattern).test(s)) return `must match ${c.pattern} (${source})`;
  if (oneOf && !oneOf.includes(s)) return `one of ${oneOf.join(', ')} (${source})`;
  for (const f of ('forbidden' in c && c.forbidden) || []) if (full(f.pattern).test(s)) return `not allowed: ${f.why} (${source})`;
  return undefined;
}

/** The model's rule, PROSE's where the service documents one, and any extra rules (tags: AWS's common rule), with their sources. */
function rulesFor(member: string, extra: readonly [Rule, string][] = []): [Rule, string][] {
  const model = CONSTRAINTS.members[member];
  if (!model) throw new Error(`${member} is not in config/aws-constraints.json: add it to scripts/extract-aws-constraints.py`);
  const rules: [Rule, string][] = [[model, `botocore ${CONSTRAINTS.botocore} ${model.service} ${model.operation} ${model.member}`]];
  if (PROSE[member]) rules.push([PROSE[member], PROSE[member].source]);
  return [...rules, ...extra];
}

/**
 * CloudWatch dashboards: "Up to 500 widgets per dashboard. Up to 500 metrics per dashboard widget. Up to 2500 metrics
 * per dashboard, across all widgets" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html).
 * PutDashboard's model puts no size on DashboardBody; these counts are the limits AWS documents for a body.
 */
export const DASHBOARD_LIMITS = { widgets: 500, metricsPerWidget: 500, metrics: 2500, source: 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html' } as const;
export function dashboardBodyProblem(body: unknown): string | undefined {
  const parsed = (typeof body === 'string' ? JSON.parse(body) : body) as { widgets?: { properties?: { metrics?: unknown[] } }[] };
  const widgets = parsed.widgets ?? [];
  const perWidget = widgets.map((w) => w.properties?.metrics?.length ?? 0);
  const total = perWidget.reduce((a, b) => a + b, 0);
  if (widgets.length > DASHBOARD_LIMITS.widgets) return `at most ${DASHBOARD_LIMITS.widgets} widgets, has ${widgets.length} (${DASHBOARD_LIMITS.source})`;
  const most = Math.max(0, ...perWidget);
  if (most > DASHBOARD_LIMITS.metricsPerWidget) return `at most ${DASHBOARD_LIMITS.metricsPerWidget} metrics in a widget, one has ${most} (${DASHBOARD_LIMITS.source})`;
  if (total > DASHBOARD_LIMITS.metrics) return `at most ${DASHBOARD_LIMITS.metrics} metrics in all, has ${total} (${DASHBOARD_LIMITS.source})`;
  return undefined;
}

/** The provider's `defaultTags.tags` (recorded as JSON, as the SDK sends provider settings), by provider name. */
function defaultTagsByProvider(resources: readonly Recorded[]): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const p of resources.filter((r) => r.type === 'pulumi:providers:aws')) {
    const raw = reveal<unknown>(p.inputs.defaultTags);
    const parsed = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { tags?: Record<string, string> } | undefined;
    if (parsed?.tags) out.set(p.name, parsed.tags);
  }
  return out;
}

/** Every violation in a run; throws on a resource type with no mapping (so a new type cannot slip by). */
export function violations(resources: readonly Recorded[]): Violation[] {
  const out: Violation[] = [];
  const defaults = defaultTagsByProvider(resources);
  const report = (r: Recorded, input: string, v: unknown, rules: [Rule, string][]): void => {
    for (const [rule, source] of rules) {
      const why = check(v, rule, source);
      if (why) out.push({ resource: r.name, input, value: (typeof v === 'object' ? JSON.stringify(v) : String(v)).slice(0, 120), rule: why });
    }
  };
  for (const r of resources.filter((x) => x.custom)) {
    const mapping = MAPPINGS[r.type];
    if (!mapping) throw new Error(`no AWS constraint mapping for ${r.type} (${r.name}): add it to test/unit/awsConstraints.ts`);
    if (Array.isArray(mapping)) {
      for (const m of mapping) {
        let values = valuesAt(r.inputs, m.input);
        if (values.length === 0 && m.autoname) values = [autoname(r.name)];
        for (const v of values) report(r, m.input, v, rulesFor(m.member));
      }
    }
    if (r.type === 'aws:cloudwatch/dashboard:Dashboard') {
      const why = dashboardBodyProblem(r.inputs.dashboardBody);
      if (why) out.push({ resource: r.name, input: 'dashboardBody', value: String(r.inputs.dashboardBody).slice(0, 120), rule: why });
    }
    // tags: the resource's own and its provider's defaultTags, which the provider adds to every taggable resource
    if (!resourceSchema(r.type).props.tags) continue;
    const members = TAG_MEMBERS[r.type];
    if (!members) throw new Error(`${r.type} (${r.name}) takes tags but has no tag rule: add it to TAG_MEMBERS in test/unit/awsConstraints.ts`);
    const tags = { ...(defaults.get(providerNameOf(r.provider) ?? '') ?? {}), ...(reveal<Record<string, string> | undefined>(r.inputs.tags) ?? {}) };
    const extra = EXTRA_TAG_RULES[r.type] ?? {};
    for (const [k, v] of Object.entries(tags)) {
      report(r, `tags{key}`, k, rulesFor(members.key, [[COMMON_TAG_KEY, COMMON_TAG_KEY.source], ...(extra.key ? rulesFor(extra.key) : [])]));
      report(r, `tags.${k}`, v, rulesFor(members.value, [[COMMON_TAG_VALUE, COMMON_TAG_VALUE.source], ...(extra.value ? rulesFor(extra.value) : [])]));
    }
  }
  return out;
}
