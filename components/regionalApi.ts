/**
 * RegionalApi (one per region, through that region's provider):
 *
 * - AppSync GraphQL API: the configured client auth as default, AWS_IAM as additional provider (the notifier
 *   signs `publishItemChange` with SigV4); schema from schema/schema.graphql; logs + X-Ray.
 * - Data sources localItems / primaryItems / appConfig (DynamoDB, each with its own role scoped to exactly its
 *   table replica) and none (NONE); APPSYNC_JS functions and resolvers deployed FROM schema/resolvers/manifest.ts.
 * - An API key with an explicit expiry (apiKey mode only).
 * - A regional API Gateway REST API: /graphql → HTTP proxy to this region's AppSync; /items/{id} GET|PUT|DELETE →
 *   items λ; /health GET → health λ; /state GET → state λ; one stage with access logs.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { createHash } from 'node:crypto';
import type { AuthConfig } from '../config';
import type { WriteMode } from '../schema/rules';
import { schemaSource } from '../schema/source';
import { FUNCTIONS, RESOLVERS, type DataSourceKey } from '../schema/resolvers/manifest';
import { bundleResolver, type ResolverSettings } from './bundle';
import type { RegionTable } from './globalTable';
import { lambdaEnvironments } from './lambdaEnv';
import { assumeRolePolicy, type CodeSource, policyDocument, regionalLambda } from './lambda';

export const STAGE_NAME = 'live';
const DAY_MS = 86_400_000;

/**
 * What each DynamoDB data source's role may do: exactly the operations the resolvers and functions that the
 * manifest (schema/resolvers/manifest.ts) puts on it send, nothing "for later" (test/unit/security.test.ts
 * derives the same sets from the deployed resolver code and compares):
 * - localItems:   Query.getItem → GetItem; Query.listItems → Scan; putItemLocal → UpdateItem (the put is a
 *                 conditional upsert, items.ts putRequest: no PutItem); deleteItemLocal → DeleteItem.
 * - primaryItems: putItemPrimary → UpdateItem; deleteItemPrimary → DeleteItem (reads are always local).
 * - appConfig:    Query.appState and the writeGuard function → GetItem (consistent read of the app-state item);
 *                 writes go through the state updater λ, and nothing batches or queries it.
 * No table has a secondary index, so no Query anywhere.
 */
export const DATA_SOURCE_ACTIONS: Readonly<Record<Exclude<DataSourceKey, 'none'>, readonly string[]>> = {
  localItems: ['dynamodb:GetItem', 'dynamodb:Scan', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
  primaryItems: ['dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
  appConfig: ['dynamodb:GetItem'],
};

/**
 * AWS-managed policy for API Gateway's account-level CloudWatch role (AWS docs, "Permissions for CloudWatch
 * logging"): see the comment where the role is created.
 */
export const APIGW_CLOUDWATCH_POLICY_ARN = 'arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs';

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

/** The GraphQL API's default auth, from config. */
export function authSettings(auth: AuthConfig): Pick<aws.appsync.GraphQLApiArgs, 'authenticationType' | 'lambdaAuthorizerConfig' | 'userPoolConfig' | 'openidConnectConfig'> {
  switch (auth.mode) {
    case 'apiKey':
      return { authenticationType: 'API_KEY' };
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

export interface RegionalApiArgs {
  region: string;
  primaryRegion: string;
  writeMode: WriteMode;
  auth: AuthConfig;
  /** Project and stack: the few physical names this component sets (API names, access log group) use them. */
  project: string;
  stack: string;
  items: { name: pulumi.Input<string>; local: RegionTable; primary: RegionTable };
  appConfig: { name: pulumi.Input<string>; local: RegionTable };
  code: CodeSource;
  /** Deploy time (API key expiry); see apiKeyExpiry. */
  now: Date;
}

export class RegionalApi extends pulumi.ComponentResource {
  readonly apiId: pulumi.Output<string>;
  readonly apiArn: pulumi.Output<string>;
  readonly graphqlUrl: pulumi.Output<string>;
  readonly realtimeUrl: pulumi.Output<string>;
  /** Secret; only in apiKey mode. */
  readonly apiKey?: pulumi.Output<string>;
  /**
   * The key's expiry (ISO 8601) as deployed; only in apiKey mode. Not secret: `ignoreChanges: ['expires']` keeps
   * later `up`s from rolling the key, so it lapses unless someone replaces it — this output makes the date visible.
   */
  readonly apiKeyExpires?: pulumi.Output<string>;
  readonly restApiId: pulumi.Output<string>;
  readonly restUrl: pulumi.Output<string>;
  readonly stageName: pulumi.Output<string>;
  /** `<restApiId>.execute-api.<region>.amazonaws.com`: what the Route53 health check probes. */
  readonly executeApiHost: pulumi.Output<string>;

  constructor(name: string, args: RegionalApiArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('global-appsync:index:RegionalApi', name, {}, opts);
    const child = { parent: this };
    const { region } = args;
    const prefix = `${args.project}-${args.stack}`;

    // ---- AppSync API, its logs -------------------------------------------------------------------------------
    const logsRole = new aws.iam.Role(`${name}-appsync-logs-role`, { assumeRolePolicy: assumeRolePolicy('appsync.amazonaws.com'), description: `AppSync logging, ${region}` }, child);
    const api = new aws.appsync.GraphQLApi(
      `${name}-graphql`,
      {
        name: `${prefix}-${region}`,
        ...authSettings(args.auth),
        additionalAuthenticationProviders: [{ authenticationType: 'AWS_IAM' }],
        schema: schemaSource(args.auth.mode),
        logConfig: { cloudwatchLogsRoleArn: logsRole.arn, fieldLogLevel: 'ERROR', excludeVerboseContent: true },
        xrayEnabled: true,
      },
      child,
    );
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
      const policy = new aws.iam.RolePolicy(`${name}-ds-${key}-policy`, { role: role.id, policy: policyDocument([{ actions: [...DATA_SOURCE_ACTIONS[key]], resources: [table.tableArn] }]) }, child);
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
      none: new aws.appsync.DataSource(`${name}-ds-none`, { apiId: api.id, name: 'none', type: 'NONE' }, child),
    };

    // ---- functions and resolvers, from the manifest -----------------------------------------------------------
    const settings: ResolverSettings = { region, primaryRegion: args.primaryRegion, writeMode: args.writeMode };
    const runtime = { name: 'APPSYNC_JS', runtimeVersion: '1.0.0' };
    const functions: Record<string, aws.appsync.Function> = {};
    for (const [fnName, spec] of Object.entries(FUNCTIONS)) {
      functions[fnName] = new aws.appsync.Function(
        `${name}-fn-${fnName}`,
        { apiId: api.id, name: fnName, dataSource: dataSources[spec.dataSource].name, runtime, code: resolverSource(spec.file, settings) },
        child,
      );
    }
    for (const spec of RESOLVERS) {
      const common = { apiId: api.id, type: spec.typeName, field: spec.fieldName, runtime, code: resolverSource(spec.file, settings) };
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

    if (args.auth.mode === 'apiKey') {
      const key = new aws.appsync.ApiKey(
        `${name}-api-key`,
        { apiId: api.id, description: `client key, ${region}`, expires: apiKeyExpiry(args.now, args.auth.expiresInDays) },
        { ...child, ignoreChanges: ['expires'], additionalSecretOutputs: ['key'] },
      );
      this.apiKey = pulumi.secret(key.key);
      // the provider's state (what AWS has), not our input: with ignoreChanges the two differ after day one
      this.apiKeyExpires = key.expires.apply((e) => e ?? '');
    }

    // ---- Lambdas behind the REST API -------------------------------------------------------------------------
    const env = lambdaEnvironments<pulumi.Input<string>>({
      itemsTable: args.items.name,
      appConfigTable: args.appConfig.name,
      primaryRegion: args.primaryRegion,
      writeMode: args.writeMode,
      graphqlUrl: api.uris.apply((u) => u.GRAPHQL),
    });
    const itemsTables = [args.items.local.tableArn, ...(args.primaryRegion === region ? [] : [args.items.primary.tableArn])];
    const items = regionalLambda(
      `${name}-items`,
      {
        handler: 'items',
        code: args.code,
        description: `REST /items/{id}, ${region}`,
        environment: env.items,
        statements: [
          // the primary's replica too: writeMode primary writes there (read local, write global)
          { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'], resources: itemsTables },
          { actions: ['dynamodb:GetItem'], resources: [args.appConfig.local.tableArn] },
        ],
      },
      child,
    );
    const health = regionalLambda(
      `${name}-health`,
      {
        handler: 'health',
        code: args.code,
        description: `REST /health (Route53 probes it), ${region}`,
        timeout: 5,
        environment: env.health,
        statements: [{ actions: ['dynamodb:GetItem'], resources: [args.appConfig.local.tableArn] }],
      },
      child,
    );
    const state = regionalLambda(
      `${name}-state`,
      {
        handler: 'state',
        code: args.code,
        description: `REST GET /state, ${region}`,
        environment: env.state,
        statements: [{ actions: ['dynamodb:GetItem'], resources: [args.appConfig.local.tableArn] }],
      },
      child,
    );

    // ---- REST API ---------------------------------------------------------------------------------------------
    const rest = new aws.apigateway.RestApi(`${name}-rest`, { name: `${prefix}-${region}`, endpointConfiguration: { types: 'REGIONAL' } }, child);
    const resource = (key: string, parentId: pulumi.Input<string>, pathPart: string): aws.apigateway.Resource =>
      new aws.apigateway.Resource(`${name}-rest-${key}`, { restApi: rest.id, parentId, pathPart }, child);
    const graphqlRes = resource('graphql', rest.rootResourceId, 'graphql');
    const itemsRes = resource('items', rest.rootResourceId, 'items');
    const itemRes = resource('item', itemsRes.id, '{id}');
    const healthRes = resource('health', rest.rootResourceId, 'health');
    const stateRes = resource('state', rest.rootResourceId, 'state');

    const routeParts: pulumi.Resource[] = [];
    const fingerprints: pulumi.Input<string>[] = [];
    const route = (key: string, res: aws.apigateway.Resource, httpMethod: string, integration: { type: string; uri: pulumi.Input<string> }): void => {
      const method = new aws.apigateway.Method(`${name}-${key}`, { restApi: rest.id, resourceId: res.id, httpMethod, authorization: 'NONE' }, child);
      const integ = new aws.apigateway.Integration(
        `${name}-${key}-integration`,
        { restApi: rest.id, resourceId: res.id, httpMethod: method.httpMethod, type: integration.type, integrationHttpMethod: 'POST', uri: integration.uri },
        child,
      );
      routeParts.push(method, integ);
      fingerprints.push(pulumi.interpolate`${key} ${httpMethod} ${res.path} ${integration.type} ${integration.uri}`);
    };
    // AppSync authenticates (API key / JWT headers pass through the HTTP proxy unchanged).
    route('graphql-post', graphqlRes, 'POST', { type: 'HTTP_PROXY', uri: api.uris.apply((u) => u.GRAPHQL) });
    const lambdaRoute = (key: string, res: aws.apigateway.Resource, httpMethod: string, fn: aws.lambda.Function, sourcePath: string): void => {
      route(key, res, httpMethod, { type: 'AWS_PROXY', uri: fn.invokeArn });
      new aws.lambda.Permission(
        `${name}-${key}-permission`,
        { action: 'lambda:InvokeFunction', function: fn.name, principal: 'apigateway.amazonaws.com', sourceArn: pulumi.interpolate`${rest.executionArn}/${STAGE_NAME}/${httpMethod}${sourcePath}` },
        child,
      );
    };
    for (const m of ['GET', 'PUT', 'DELETE']) lambdaRoute(`item-${m.toLowerCase()}`, itemRes, m, items.fn, '/items/*');
    lambdaRoute('health-get', healthRes, 'GET', health.fn, '/health');
    lambdaRoute('state-get', stateRes, 'GET', state.fn, '/state');

    const deployment = new aws.apigateway.Deployment(
      `${name}-deployment`,
      {
        restApi: rest.id,
        description: `global-appsync ${region}`,
        // a new deployment whenever a route or its target changes
        triggers: { redeployment: pulumi.all(fingerprints).apply((f) => createHash('sha256').update(f.join('\n')).digest('hex')) },
      },
      { ...child, dependsOn: routeParts },
    );

    // API Gateway writes access logs through ONE CloudWatch role per account and region, set by
    // aws.apigateway.Account: a singleton that every stack of this project (dev, prod, ...) in that account and
    // region sets, and that other APIs in the account (not ours) rely on for their execution logs too. So:
    // - the role gets the AWS-managed AmazonAPIGatewayPushToCloudWatchLogs policy (the documented standard for
    //   this account-level role: any log group), not a document scoped to our log groups — a scoped role would
    //   break every other API's logging in this account/region as soon as our stack set it;
    // - the role, its attachment and the Account setting are `retainOnDelete`: destroying one stack never deletes
    //   the role the account setting (possibly written by another stack) points to, nor resets the setting.
    //   Two stacks in one account/region each set their own equivalent role; the last `up` wins, harmlessly.
    //   Retained roles are left for an operator to delete once no stack or API in that account/region uses them.
    const accessLogs = new aws.cloudwatch.LogGroup(`${name}-access-logs`, { name: `/aws/apigateway/${args.project}/${args.stack}`, retentionInDays: 30 }, child);
    const retained = { ...child, retainOnDelete: true };
    const apigwRole = new aws.iam.Role(
      `${name}-apigw-logs-role`,
      { assumeRolePolicy: assumeRolePolicy('apigateway.amazonaws.com'), description: `API Gateway CloudWatch logging (account-wide setting), ${region}` },
      retained,
    );
    const apigwPolicy = new aws.iam.RolePolicyAttachment(`${name}-apigw-logs-attachment`, { role: apigwRole.name, policyArn: APIGW_CLOUDWATCH_POLICY_ARN }, retained);
    const apigwAccount = new aws.apigateway.Account(`${name}-apigw-account`, { cloudwatchRoleArn: apigwRole.arn }, { ...retained, dependsOn: [apigwPolicy] });
    const stage = new aws.apigateway.Stage(
      `${name}-stage`,
      {
        restApi: rest.id,
        deployment: deployment.id,
        stageName: STAGE_NAME,
        xrayTracingEnabled: true,
        accessLogSettings: {
          destinationArn: accessLogs.arn,
          format: JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            httpMethod: '$context.httpMethod',
            resourcePath: '$context.resourcePath',
            status: '$context.status',
            responseLength: '$context.responseLength',
            integrationLatency: '$context.integrationLatency',
            integrationError: '$context.integration.error',
          }),
        },
      },
      { ...child, dependsOn: [apigwAccount] },
    );

    this.apiId = api.id;
    this.apiArn = api.arn;
    this.graphqlUrl = api.uris.apply((u) => u.GRAPHQL);
    this.realtimeUrl = api.uris.apply((u) => u.REALTIME);
    this.restApiId = rest.id;
    this.stageName = stage.stageName;
    this.restUrl = stage.invokeUrl;
    this.executeApiHost = pulumi.interpolate`${rest.id}.execute-api.${region}.amazonaws.com`;
    this.registerOutputs({
      apiId: this.apiId,
      graphqlUrl: this.graphqlUrl,
      realtimeUrl: this.realtimeUrl,
      restApiId: this.restApiId,
      restUrl: this.restUrl,
      stageName: this.stageName,
    });
  }
}
