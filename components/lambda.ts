/**
 * The shared Lambda helper: an esbuild bundle (components/bundle.ts) → aws.lambda.Function (nodejs22.x, arm64)
 * with its own role, its own log group and one least-privilege inline policy.
 *
 * IAM policies are built with `policyDocument()`, which refuses `Resource: "*"` for every action that is not in
 * WILDCARD_RESOURCE_EXCEPTIONS — the ONE list of actions AWS only authorises on "*".
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { bundleHandler, type BundleName } from './bundle';

/**
 * Actions that have no resource-level permissions (Service Authorization Reference: "Resource types: none",
 * so the only valid Resource is "*"). Nothing else may use "*"; tests check every policy against this list.
 */
export const WILDCARD_RESOURCE_EXCEPTIONS: readonly string[] = [
  // Lambda active tracing: the function's role sends segments to X-Ray, which has no resource ARNs.
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  // Lambda's DynamoDB stream poller lists the table's streams before reading the one it was given.
  'dynamodb:ListStreams',
  // AWS FIS resolves experiment targets through the Resource Groups Tagging API (components/fisDrills.ts); GetResources
  // has no resource types (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsresourcegroupstaggingapi.html).
  'tag:GetResources',
];

export interface Statement {
  actions: string[];
  resources: pulumi.Input<string>[];
  /** An IAM Condition block, e.g. DynamoDB's item-level `dynamodb:LeadingKeys` (onlyItems below). */
  condition?: Record<string, Record<string, string[]>>;
}

/**
 * The Condition that limits DynamoDB item actions to items whose partition key is one of `keys` (fine-grained
 * access control: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html).
 */
export function onlyItems(keys: string[]): Statement['condition'] {
  return { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': keys } };
}

/** An IAM policy document (JSON) of Allow statements; throws on a "*" resource outside the exceptions. */
export function policyDocument(statements: Statement[]): pulumi.Output<string> {
  for (const s of statements) {
    if (s.resources.some((r) => r === '*')) {
      const bad = s.actions.filter((a) => !WILDCARD_RESOURCE_EXCEPTIONS.includes(a));
      if (bad.length > 0) throw new Error(`Resource "*" is not allowed for ${bad.join(', ')} (see WILDCARD_RESOURCE_EXCEPTIONS)`);
    }
  }
  return pulumi
    .output(statements.map((s) => ({ Effect: 'Allow', Action: s.actions, Resource: s.resources, ...(s.condition ? { Condition: s.condition } : {}) })))
    .apply((st) => JSON.stringify({ Version: '2012-10-17', Statement: st.map((s) => ({ ...s, Resource: [...new Set(s.Resource)] })) }));
}

/** Trust policy for a service principal. */
export function assumeRolePolicy(service: string, sourceArn?: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi.output(sourceArn).apply((arn) =>
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: service },
          Action: 'sts:AssumeRole',
          ...(arn ? { Condition: { ArnLike: { 'aws:SourceArn': arn } } } : {}),
        },
      ],
    }),
  );
}

/** Where a function's code comes from. The program bundles (bundledCode); tests may substitute. */
export type CodeSource = (handler: BundleName) => pulumi.asset.Archive;

const bundled = new Map<BundleName, string>();

/** Bundles each handler once per process (every region deploys the same bundle) and archives its folder. */
export const bundledCode: CodeSource = (handler) => {
  let dir = bundled.get(handler);
  if (!dir) {
    dir = bundleHandler(handler);
    bundled.set(handler, dir);
  }
  return new pulumi.asset.FileArchive(dir);
};

export interface LambdaArgs {
  handler: BundleName;
  code: CodeSource;
  environment: Record<string, pulumi.Input<string>>;
  /** What the function may do besides writing its own logs and traces. */
  statements: Statement[];
  description: string;
  /** A fixed physical name (Lambda names are per region, so every region may use the same one). */
  functionName?: string;
  timeout?: number;
  memorySize?: number;
  /**
   * Lambda reserved concurrency (config `reservedConcurrency`, validated in config/notifier.ts);
   * undefined: none (the function draws on the account's unreserved pool).
   */
  reservedConcurrency?: number;
  logRetentionDays?: number;
  /** X-Ray active tracing (default true); false leaves the role with its logs only (the token authorizer). */
  tracing?: boolean;
  /** Lambda layers (issue 11 drills: the AWS FIS extension on the notifier) */
  layers?: pulumi.Input<string>[];
}

export interface RegionalLambda {
  fn: aws.lambda.Function;
  role: aws.iam.Role;
  logGroup: aws.cloudwatch.LogGroup;
  policy: aws.iam.RolePolicy;
}

/**
 * Creates `<name>` (function), `<name>-role`, `<name>-logs` and `<name>-policy` as children of `parent`.
 * `opts.provider` is only needed when the parent does not carry its region's provider.
 */
export function regionalLambda(name: string, args: LambdaArgs, opts: { parent: pulumi.Resource; provider?: pulumi.ProviderResource }): RegionalLambda {
  const child = { parent: opts.parent, ...(opts.provider ? { provider: opts.provider } : {}) };
  const logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, { retentionInDays: args.logRetentionDays ?? 30 }, child);
  const role = new aws.iam.Role(`${name}-role`, { assumeRolePolicy: assumeRolePolicy('lambda.amazonaws.com'), description: `${args.description} (Lambda role)` }, child);
  const policy = new aws.iam.RolePolicy(
    `${name}-policy`,
    {
      role: role.id,
      policy: policyDocument([
        { actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [pulumi.interpolate`${logGroup.arn}:*`] },
        ...(args.tracing === false ? [] : [{ actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], resources: ['*'] }]),
        ...args.statements,
      ]),
    },
    child,
  );
  const fn = new aws.lambda.Function(
    name,
    {
      ...(args.functionName ? { name: args.functionName } : {}),
      description: args.description,
      runtime: 'nodejs22.x',
      architectures: ['arm64'],
      handler: 'index.handler',
      code: args.code(args.handler),
      role: role.arn,
      timeout: args.timeout ?? 10,
      memorySize: args.memorySize ?? 256,
      ...(args.reservedConcurrency !== undefined ? { reservedConcurrentExecutions: args.reservedConcurrency } : {}),
      environment: { variables: args.environment },
      loggingConfig: { logFormat: 'JSON', logGroup: logGroup.name },
      tracingConfig: { mode: args.tracing === false ? 'PassThrough' : 'Active' },
      ...(args.layers ? { layers: args.layers } : {}),
    },
    // The policy must be in place before the function can log or (for stream sources) be polled.
    { ...child, dependsOn: [policy] },
  );
  return { fn, role, logGroup, policy };
}
