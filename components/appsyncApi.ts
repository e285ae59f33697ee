/**
 * One region's AppSync side of RegionalApi (created as children of the RegionalApi component, so names and URNs
 * are what they were before the split):
 *
 * - the GraphQL API: the configured client auth as default, AWS_IAM as additional provider (the notifier signs
 *   `publishItemChange` with SigV4); schema from schema/schema.graphql; logs + X-Ray;
 * - data sources localItems / primaryItems / appConfig (DynamoDB, each with its own role scoped to exactly its
 *   table replica) and none (NONE); APPSYNC_JS functions and resolvers deployed FROM schema/resolvers/manifest.ts;
 * - an API key with an explicit expiry (apiKey mode only);
 * - token mode: AWS_LAMBDA auth with the project's authorizer function (components/authorizerFunction.ts) and its
 *   invoke permission for appsync.amazonaws.com, scoped to this API's ARN.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { AuthConfig } from '../config/auth';
import type { WriteMode } from '../schema/rules';
import { schemaSource } from '../schema/source';
import { FUNCTIONS, RESOLVERS, type DataSourceKey } from '../schema/resolvers/manifest';
import { bundleResolver, type ResolverSettings } from './bundle';
import type { RegionTable } from './globalTable';
import { assumeRolePolicy, onlyItems, policyDocument } from './lambda';
import { APP_STATE_ID } from '../schema/rules';

const DAY_MS = 86_400_000;

/**
 * What each DynamoDB data source's role may do: exactly the operations the resolvers and functions that the
 * manifest (schema/resolvers/manifest.ts) puts on it send, plus the reads AppSync makes on its own
 * (test/unit/security.test.ts derives the same sets from the deployed resolver code and compares):
 * - localItems:   Query.getItem → GetItem; Query.listItems → Scan; putItemLocal → UpdateItem (the put is a
 *                 conditional upsert, items.ts putRequest: no PutItem); deleteItemLocal → DeleteItem;
 *                 loadItemLocal / confirmItemLocal → GetItem (the item before a write, and after a failed one).
 * - primaryItems: putItemPrimary → UpdateItem; deleteItemPrimary → DeleteItem; loadItemPrimary / confirmItemPrimary
 *                 → GetItem, which AppSync needs anyway for conditional writes: when a write's condition fails,
 *                 the AppSync DynamoDB function reads the item to compare it with the request ("Condition
 *                 expressions", AppSync JS resolver reference for DynamoDB:
 *                 https://docs.aws.amazon.com/appsync/latest/devguide/js-aws-appsync-resolver-reference-dynamodb-condition-expressions.html
 *                 — "AWS AppSync … fetches the current value of the item from DynamoDB"), so without GetItem
 *                 every version conflict in `writeMode: primary` would surface as an access error.
 * - appConfig:    Query.appState and the writeGuard function → GetItem (consistent read of the app-state item);
 *                 writes go through the state updater λ, and nothing batches or queries it.
 * - primaryAppConfig: the targetGuard function → GetItem of the app-state item in the primary region's replica.
 * The two app-config roles may read the app-state item only (DATA_SOURCE_ITEM_KEYS: dynamodb:LeadingKeys). No
 * write includes another item (no transaction, so no ConditionCheckItem: the fence is the state read, see
 * schema/resolvers/items.ts). No table has a secondary index, so no Query anywhere.
 */
export const DATA_SOURCE_ACTIONS: Readonly<Record<Exclude<DataSourceKey, 'none'>, readonly string[]>> = {
  localItems: ['dynamodb:GetItem', 'dynamodb:Scan', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
  primaryItems: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
  appConfig: ['dynamodb:GetItem'],
  primaryAppConfig: ['dynamodb:GetItem'],
};

/** Data sources whose role may touch only these items (partition keys) of its table. */
export const DATA_SOURCE_ITEM_KEYS: Readonly<Partial<Record<Exclude<DataSourceKey, 'none'>, readonly string[]>>> = {
  appConfig: [APP_STATE_ID],
  primaryAppConfig: [APP_STATE_ID],
};

/**
 * The ARN of the same global table's replica in another region: replicas share name and account, so it is the
 * given replica's ARN with the region swapped (arn:aws:dynamodb:<region>:<account>:table/<name>).
 */
export function replicaArnIn(arn: pulumi.Input<string>, fromRegion: string, toRegion: string): pulumi.Output<string> {
  return pulumi.output(arn).apply((a) => a.replace(`:dynamodb:${fromRegion}:`, `:dynamodb:${toRegion}:`));
}

/**
 * The API key's expiry, deterministic within a UTC day: midnight UTC of `now` + `days` days (a 1-day key gets
 * 2 days, since AppSync wants at least 1 day from now). A `Date.now()`-based value would change on every run;
 * this one only changes at midnight, and the key also has `ignoreChanges: ['expires']`, so later `pulumi up`s
 * never churn it. To roll a key, replace it: `pulumi up --replace <key URN>` (README).
 */
export function apiKeyExpiry(now: Date, days: number): string {
  const midnight = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  const expires = midnight + Math.max(days, 2) * DAY_MS;
  return new Date(Math.min(expires, midnight + 365 * DAY_MS)).toISOString().replace('.000Z', 'Z');
}

const resolverCode = new Map<string, string>();
/** Bundles one resolver file for one region's settings, once per process. */
function resolverSource(file: string, settings: ResolverSettings): string {
  const key = `${file}|${JSON.stringify(settings)}`;
  let code = resolverCode.get(key);
  if (code === undefined) {
    code = bundleResolver(file, settings);
    resolverCode.set(key, code);
  }
  return code;
}

/**
 * What AppSync checks before it invokes the token authorizer: a JWT (three base64url parts, the signature may be
 * empty only to be refused by the authorizer), with or without "Bearer ". Anything else is refused without an
 * invocation (`identityValidationExpression`: https://docs.aws.amazon.com/appsync/latest/APIReference/API_LambdaAuthorizerConfig.html).
 */
export const TOKEN_SHAPE = '^(Bearer )?[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*$';

/** The GraphQL API's default auth, from config; `authorizerArn`: the project's authorizer (token mode). */
export function authSettings(
  auth: AuthConfig,
  authorizerArn?: pulumi.Input<string>,
): Pick<aws.appsync.GraphQLApiArgs, 'authenticationType' | 'lambdaAuthorizerConfig' | 'userPoolConfig' | 'openidConnectConfig'> {
  switch (auth.mode) {
    case 'apiKey':
      return { authenticationType: 'API_KEY' };
    case 'token':
      if (authorizerArn === undefined) throw new Error('auth.mode token needs the authorizer function (components/authorizerFunction.ts)');
      return {
        authenticationType: 'AWS_LAMBDA',
        lambdaAuthorizerConfig: { authorizerUri: authorizerArn, authorizerResultTtlInSeconds: auth.ttlSeconds, identityValidationExpression: TOKEN_SHAPE },
      };
    case 'lambda':
      return { authenticationType: 'AWS_LAMBDA', lambdaAuthorizerConfig: { authorizerUri: auth.authorizerArn, authorizerResultTtlInSeconds: auth.ttlSeconds } };
    case 'cognito':
      return {
        authenticationType: 'AMAZON_COGNITO_USER_POOLS',
        userPoolConfig: { userPoolId: auth.userPoolId, awsRegion: auth.awsRegion, defaultAction: 'ALLOW', ...(auth.appIdClientRegex ? { appIdClientRegex: auth.appIdClientRegex } : {}) },
      };
    case 'oidc':
      return { authenticationType: 'OPENID_CONNECT', openidConnectConfig: { issuer: auth.issuer, ...(auth.clientId ? { clientId: auth.clientId } : {}) } };
  }
}

export interface AppsyncApiArgs {
  region: string;
  primaryRegion: string;
  writeMode: WriteMode;
  auth: AuthConfig;
  /** `<project>-<stack>`: the API's name is `<prefix>-<region>` */
  prefix: string;
  items: { name: pulumi.Input<string>; local: RegionTable; primary: RegionTable };
  appConfig: { name: pulumi.Input<string>; local: RegionTable };
  now: Date;
  /** token mode: the project's authorizer function's ARN */
  authorizerArn?: pulumi.Input<string>;
  /** `consistency` (issue 11): the resolvers' __SETTINGS__.consistency */
  consistency?: 'eventual' | 'strong';
}

export interface AppsyncApi {
  api: aws.appsync.GraphQLApi;
  graphqlUrl: pulumi.Output<string>;
  realtimeUrl: pulumi.Output<string>;
  apiKey?: aws.appsync.ApiKey;
}

/** Creates the region's AppSync resources as children of `parent`, named `<name>-…` as they always were. */
export function appsyncApi(name: string, args: AppsyncApiArgs, parent: pulumi.Resource): AppsyncApi {
  const child = { parent };
  const { region } = args;

  // ---- AppSync API, its logs -------------------------------------------------------------------------------
  const logsRole = new aws.iam.Role(`${name}-appsync-logs-role`, { assumeRolePolicy: assumeRolePolicy('appsync.amazonaws.com'), description: `AppSync logging, ${region}` }, child);
  const api = new aws.appsync.GraphQLApi(
    `${name}-graphql`,
    {
      name: `${args.prefix}-${region}`,
      ...authSettings(args.auth, args.authorizerArn),
      additionalAuthenticationProviders: [{ authenticationType: 'AWS_IAM' }],
      // token mode is AppSync's AWS_LAMBDA: its directive is @aws_lambda
      schema: schemaSource(args.auth.mode === 'token' ? 'lambda' : args.auth.mode),
      logConfig: { cloudwatchLogsRoleArn: logsRole.arn, fieldLogLevel: 'ERROR', excludeVerboseContent: true },
      xrayEnabled: true,
    },
    child,
  );
  if (args.auth.mode === 'token' && args.authorizerArn !== undefined) {
    // "This Lambda function must have the following resource-based policy": principal appsync.amazonaws.com,
    // lambda:InvokeFunction (https://docs.aws.amazon.com/appsync/latest/APIReference/API_LambdaAuthorizerConfig.html);
    // the source ARN keeps any other AppSync API from invoking it
    new aws.lambda.Permission(
      `${name}-appsync-authorizer-permission`,
      { action: 'lambda:InvokeFunction', function: args.authorizerArn, principal: 'appsync.amazonaws.com', sourceArn: api.arn },
      child,
    );
  }
  // AppSync logs to /aws/appsync/apis/<apiId>: created here so it has a retention and the role a scope.
  const apiLogs = new aws.cloudwatch.LogGroup(`${name}-appsync-logs`, { name: pulumi.interpolate`/aws/appsync/apis/${api.id}`, retentionInDays: 30 }, child);
  new aws.iam.RolePolicy(
    `${name}-appsync-logs-policy`,
    { role: logsRole.id, policy: policyDocument([{ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [apiLogs.arn, pulumi.interpolate`${apiLogs.arn}:*`] }]) },
    child,
  );

  // ---- data sources: each DynamoDB one with a role scoped to exactly its table replica ----------------------
  const dynamoSource = (key: Exclude<DataSourceKey, 'none'>, tableName: pulumi.Input<string>, tableRegion: string, table: RegionTable): aws.appsync.DataSource => {
    const role = new aws.iam.Role(`${name}-ds-${key}-role`, { assumeRolePolicy: assumeRolePolicy('appsync.amazonaws.com', api.arn), description: `AppSync data source ${key}, ${region}` }, child);
    // The tables have no secondary indexes; if one is added, add `${tableArn}/index/<name>` here.
    const keys = DATA_SOURCE_ITEM_KEYS[key];
    const statements = [{ actions: [...DATA_SOURCE_ACTIONS[key]], resources: [table.tableArn], ...(keys ? { condition: onlyItems([...keys]) } : {}) }];
    const policy = new aws.iam.RolePolicy(`${name}-ds-${key}-policy`, { role: role.id, policy: policyDocument(statements) }, child);
    return new aws.appsync.DataSource(
      `${name}-ds-${key}`,
      { apiId: api.id, name: key, type: 'AMAZON_DYNAMODB', serviceRoleArn: role.arn, dynamodbConfig: { tableName, region: tableRegion } },
      { ...child, dependsOn: [policy] },
    );
  };
  const dataSources: Record<DataSourceKey, aws.appsync.DataSource> = {
    localItems: dynamoSource('localItems', args.items.name, region, args.items.local),
    primaryItems: dynamoSource('primaryItems', args.items.name, args.primaryRegion, args.items.primary),
    appConfig: dynamoSource('appConfig', args.appConfig.name, region, args.appConfig.local),
    primaryAppConfig: dynamoSource('primaryAppConfig', args.appConfig.name, args.primaryRegion, {
      ...args.appConfig.local,
      tableArn: replicaArnIn(args.appConfig.local.tableArn, region, args.primaryRegion),
    }),
    none: new aws.appsync.DataSource(`${name}-ds-none`, { apiId: api.id, name: 'none', type: 'NONE' }, child),
  };

  // ---- functions and resolvers, from the manifest -----------------------------------------------------------
  const settings: ResolverSettings = { region, primaryRegion: args.primaryRegion, writeMode: args.writeMode, consistency: args.consistency ?? 'eventual' };
  const code = (file: string): string => resolverSource(file, settings);
  const runtime = { name: 'APPSYNC_JS', runtimeVersion: '1.0.0' };
  const functions: Record<string, aws.appsync.Function> = {};
  for (const [fnName, spec] of Object.entries(FUNCTIONS)) {
    functions[fnName] = new aws.appsync.Function(
      `${name}-fn-${fnName}`,
      { apiId: api.id, name: fnName, dataSource: dataSources[spec.dataSource].name, runtime, code: code(spec.file) },
      child,
    );
  }
  for (const spec of RESOLVERS) {
    const common = { apiId: api.id, type: spec.typeName, field: spec.fieldName, runtime, code: code(spec.file) };
    if (spec.kind === 'unit') {
      new aws.appsync.Resolver(`${name}-resolver-${spec.typeName}-${spec.fieldName}`, { ...common, kind: 'UNIT', dataSource: dataSources[spec.dataSource].name }, child);
    } else {
      const fns = spec.functions.map((f) => {
        const fn = functions[f];
        if (!fn) throw new Error(`resolver ${spec.typeName}.${spec.fieldName} names unknown function ${f} (schema/resolvers/manifest.ts)`);
        return fn.functionId;
      });
      new aws.appsync.Resolver(`${name}-resolver-${spec.typeName}-${spec.fieldName}`, { ...common, kind: 'PIPELINE', pipelineConfig: { functions: fns } }, child);
    }
  }

  const apiKey =
    args.auth.mode === 'apiKey'
      ? new aws.appsync.ApiKey(
          `${name}-api-key`,
          { apiId: api.id, description: `client key, ${region}`, expires: apiKeyExpiry(args.now, args.auth.expiresInDays) },
          { ...child, ignoreChanges: ['expires'], additionalSecretOutputs: ['key'] },
        )
      : undefined;

  return { api, graphqlUrl: api.uris.apply((u) => u.GRAPHQL), realtimeUrl: api.uris.apply((u) => u.REALTIME), ...(apiKey ? { apiKey } : {}) };
}
