/**
 * Which input changes make `pulumi up` REPLACE a resource (delete it and create a new one) instead of updating it
 * in place, for every resource type this program registers, and what a replacement loses. `npm run plan -- --diff`
 * (scripts/planDiff.ts) reads these rules; they are the provider's "forces new resource" inputs that the program
 * sets or could set, not a copy of the whole schema.
 *
 * Sources: pulumi-aws is generated from terraform-provider-aws, and the argument reference of each resource
 * (https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/<name>, mirrored on
 * https://www.pulumi.com/registry/packages/aws/api-docs/) marks these arguments "Forces new resource"; where the
 * page does not say it, the resource's schema does (`ForceNew: true` in terraform-provider-aws
 * internal/service/<service>/<name>.go), named in the rule's `source`.
 *
 * Two rules hold for every type:
 * - a resource whose provider changes to one with other settings (here: another region's provider) is replaced,
 *   i.e. it moves to that region (pulumi/pulumi#2767, "Refine resource replacement logic for providers");
 * - a resource whose physical name the program sets (an explicit `name`) is deleted BEFORE its replacement is
 *   created, since two resources cannot share the name (pulumi/pulumi-terraform#465, "Set delete-before-replace for
 *   manually-named resources"; https://www.pulumi.com/docs/iac/concepts/resources/names/).
 */

export interface ReplaceRule {
  /** top-level inputs whose change replaces the resource */
  inputs: readonly string[];
  /** where the rule comes from */
  source: string;
  /**
   * What a replacement destroys, in words for the person about to run `pulumi up`; set for stateful resources.
   * `{name}` is filled with the resource's physical name (or its logical name when it has none).
   */
  loses?: string;
  /** a consequence worth reading that destroys no data (a new API key value, an unconfirmed subscription) */
  note?: string;
  /** `name` is the type's auto-named physical name: set explicitly, a replacement deletes the old one first */
  autoNamed?: boolean;
}

const tf = (name: string): string => `https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/${name}`;

export const PROVIDER_RULE_SOURCE = 'pulumi/pulumi#2767: a changed provider (another region) replaces the resource';
export const NAMED_DELETE_FIRST_SOURCE = 'pulumi/pulumi-terraform#465: a resource with an explicit name is deleted before its replacement is created';

export const REPLACE_RULES: Readonly<Record<string, ReplaceRule>> = {
  'aws:dynamodb/table:Table': {
    autoNamed: true,
    inputs: ['name', 'hashKey', 'rangeKey', 'localSecondaryIndexes'],
    source: `${tf('dynamodb_table')} (hash_key, range_key, local_secondary_index: "Forces new resource"; name: ForceNew in internal/service/dynamodb/table.go — a table cannot be renamed)`,
    loses: 'the DynamoDB table {name} with EVERY ITEM, in every region (its replicas are deleted with it); point-in-time recovery backups of a deleted table are not kept',
  },
  'aws:dynamodb/tableItem:TableItem': {
    inputs: ['tableName', 'hashKey', 'rangeKey'],
    source: `${tf('dynamodb_table_item')} (table_name, hash_key, range_key: ForceNew in internal/service/dynamodb/table_item.go)`,
    loses: 'the app state item: whatever state was set (fenced, failover) is replaced by the initial "active" item',
  },
  'aws:lambda/function:Function': {
    autoNamed: true,
    inputs: ['name', 'packageType'],
    source: `${tf('lambda_function')} (function_name, package_type: ForceNew)`,
  },
  'aws:lambda/permission:Permission': {
    inputs: ['action', 'function', 'principal', 'sourceArn', 'sourceAccount', 'statementId', 'statementIdPrefix', 'qualifier', 'eventSourceToken', 'principalOrgId', 'functionUrlAuthType'],
    source: `${tf('lambda_permission')} (every argument: the resource has no update)`,
  },
  'aws:lambda/eventSourceMapping:EventSourceMapping': {
    inputs: ['eventSourceArn', 'startingPosition', 'startingPositionTimestamp', 'topics', 'queues', 'selfManagedEventSource'],
    source: `${tf('lambda_event_source_mapping')} (event_source_arn, starting_position, starting_position_timestamp: "Forces new resource")`,
    loses: "the notifier's place in the stream: the new mapping starts at LATEST, so changes written while it is re-created are never published to subscribers",
  },
  'aws:appsync/graphQLApi:GraphQLApi': {
    inputs: ['apiType', 'visibility'],
    source: `${tf('appsync_graphql_api')} (api_type, visibility: "Forces new resource")`,
  },
  'aws:appsync/apiKey:ApiKey': {
    inputs: ['apiId'],
    source: `${tf('appsync_api_key')} (api_id: ForceNew)`,
    note: 'a new API key value: clients holding the old key are refused until they get the new one',
  },
  'aws:appsync/dataSource:DataSource': { inputs: ['apiId', 'name'], source: `${tf('appsync_datasource')} (api_id, name: ForceNew)` },
  'aws:appsync/function:Function': { inputs: ['apiId'], source: `${tf('appsync_function')} (api_id: ForceNew)` },
  'aws:appsync/resolver:Resolver': { inputs: ['apiId', 'type', 'field'], source: `${tf('appsync_resolver')} (api_id, type, field: ForceNew)` },
  'aws:apigateway/restApi:RestApi': { inputs: [], source: `${tf('api_gateway_rest_api')} (every argument the program sets updates in place)` },
  'aws:apigateway/resource:Resource': { inputs: ['restApi'], source: `${tf('api_gateway_resource')} (rest_api_id: ForceNew)` },
  'aws:apigateway/method:Method': { inputs: ['restApi', 'resourceId', 'httpMethod'], source: `${tf('api_gateway_method')} (rest_api_id, resource_id, http_method: ForceNew)` },
  'aws:apigateway/integration:Integration': { inputs: ['restApi', 'resourceId', 'httpMethod'], source: `${tf('api_gateway_integration')} (rest_api_id, resource_id, http_method: ForceNew)` },
  'aws:apigateway/deployment:Deployment': { inputs: ['restApi', 'triggers'], source: `${tf('api_gateway_deployment')} (rest_api_id, triggers: "Forces new resource")` },
  'aws:apigateway/stage:Stage': { inputs: ['restApi', 'stageName'], source: `${tf('api_gateway_stage')} (rest_api_id, stage_name: ForceNew)` },
  'aws:apigateway/account:Account': { inputs: [], source: `${tf('api_gateway_account')} (updates in place)` },
  'aws:apigateway/domainName:DomainName': {
    inputs: ['domainName'],
    source: `${tf('api_gateway_domain_name')} (domain_name: ForceNew)`,
    note: 'requests to the custom domain fail until the new one and its DNS alias are in place',
  },
  'aws:apigateway/basePathMapping:BasePathMapping': { inputs: ['domainName', 'domainNameId'], source: `${tf('api_gateway_base_path_mapping')} (domain_name, domain_name_id: ForceNew)` },
  'aws:acm/certificate:Certificate': {
    inputs: ['domainName', 'subjectAlternativeNames', 'keyAlgorithm', 'validationMethod', 'certificateAuthorityArn'],
    source: `${tf('acm_certificate')} (domain_name, subject_alternative_names, key_algorithm, validation_method: ForceNew)`,
  },
  'aws:acm/certificateValidation:CertificateValidation': {
    inputs: ['certificateArn', 'validationRecordFqdns'],
    source: `${tf('acm_certificate_validation')} (certificate_arn, validation_record_fqdns: "Forces new resource")`,
  },
  'aws:route53/record:Record': { inputs: ['zoneId', 'name'], source: `${tf('route53_record')} (zone_id, name: ForceNew)` },
  'aws:route53/healthCheck:HealthCheck': {
    inputs: ['type', 'requestInterval', 'measureLatency', 'referenceName', 'routingControlArn'],
    source: `${tf('route53_health_check')} (type, request_interval, measure_latency, reference_name: ForceNew)`,
  },
  'aws:cloudwatch/logGroup:LogGroup': {
    autoNamed: true,
    inputs: ['name', 'namePrefix', 'logGroupClass'],
    source: `${tf('cloudwatch_log_group')} (name, name_prefix, log_group_class: ForceNew)`,
    loses: 'the log group {name} with every log event in it',
  },
  'aws:cloudwatch/dashboard:Dashboard': { inputs: ['dashboardName'], source: `${tf('cloudwatch_dashboard')} (dashboard_name: ForceNew)` },
  'aws:cloudwatch/metricAlarm:MetricAlarm': { autoNamed: true, inputs: ['name'], source: `${tf('cloudwatch_metric_alarm')} (alarm_name: ForceNew)` },
  'aws:iam/role:Role': {
    autoNamed: true, inputs: ['name', 'namePrefix', 'path'], source: `${tf('iam_role')} (name, name_prefix, path: "Forces new resource")` },
  'aws:iam/rolePolicy:RolePolicy': { autoNamed: true, inputs: ['role', 'name', 'namePrefix'], source: `${tf('iam_role_policy')} (role, name, name_prefix: ForceNew)` },
  'aws:iam/rolePolicyAttachment:RolePolicyAttachment': { inputs: ['role', 'policyArn'], source: `${tf('iam_role_policy_attachment')} (role, policy_arn: ForceNew; no update)` },
  'aws:sqs/queue:Queue': {
    autoNamed: true,
    inputs: ['name', 'namePrefix', 'fifoQueue'],
    source: `${tf('sqs_queue')} (name, name_prefix, fifo_queue: "Forces new resource")`,
    loses: 'the queue {name} with every message in it (for the notifier DLQ: the changes that could not be published)',
  },
  'aws:sns/topic:Topic': {
    autoNamed: true, inputs: ['name', 'namePrefix', 'fifoTopic'], source: `${tf('sns_topic')} (name, name_prefix, fifo_topic: ForceNew)` },
  'aws:sns/topicSubscription:TopicSubscription': {
    inputs: ['topic', 'protocol', 'endpoint'],
    source: `${tf('sns_topic_subscription')} (topic_arn, protocol, endpoint: ForceNew)`,
    note: 'the address gets a new confirmation mail and receives no alarm until it is confirmed',
  },
  'pulumi:providers:aws': { inputs: [], source: 'a provider is updated in place; its resources follow the provider rule above' },
};

/** The inputs among `changed` that replace a resource of `type`; unknown types replace on any change (the safe guess). */
export function replacingInputs(type: string, changed: readonly string[]): string[] {
  const rule = REPLACE_RULES[type];
  if (!rule) return [...changed];
  return changed.filter((k) => rule.inputs.includes(k));
}

/** Whether replacing this resource deletes the old one first: its auto-named `name` is set explicitly. */
export function deletedFirst(type: string, inputs: Readonly<Record<string, unknown>>): boolean {
  return REPLACE_RULES[type]?.autoNamed === true && typeof inputs.name === 'string';
}

/** What else replacing or deleting this resource means, when it is worth a line. */
export function replaceNote(type: string): string | undefined {
  return REPLACE_RULES[type]?.note;
}

/** What replacing this resource destroys, or undefined when it holds nothing a person would miss. */
export function dataLoss(type: string, physicalName: string): string | undefined {
  return REPLACE_RULES[type]?.loses?.replace('{name}', physicalName);
}
