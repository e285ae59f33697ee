/**
 * One region's REST side of RegionalApi (children of the RegionalApi component, so names and URNs are what they
 * were before the split): the items, health and state Lambdas and a regional API Gateway REST API —
 * /graphql → HTTP proxy to this region's AppSync; /items/{id} GET|PUT|DELETE → items λ; /health GET → health λ;
 * /state GET → state λ — with one stage, its access logs and the account-level logging role.
 *
 * Client auth (no anonymous path; `restAuth` below): every route but /health — /items/{id}, /state and
 * /graphql — takes the stack's credential, the same in every region: the shared API Gateway key (apiKey mode,
 * components/apiKeys.ts; /graphql then swaps it for this region's AppSync key server-side), or a JWT checked by a
 * REQUEST authorizer (token, oidc: the project's authorizer; lambda: the stack's authorizer function) or a
 * COGNITO_USER_POOLS authorizer (cognito). /health stays open: Route53's health checkers send no credential.
 * GET /state requires the credential too: it is operational detail (failover state, primary region) for clients
 * and operators who already hold one, and `npm run state` reads the table, not this route. The stage throttles
 * every method (`throttle` config).
 *
 * The deployment is re-created whenever ANY input of any Method or Integration changes (deploymentTrigger):
 * API Gateway serves a stage from a deployment snapshot, so a changed authorization, parameter or timeout that
 * does not make a new deployment never reaches clients.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { createHash } from 'node:crypto';
import type { RegionTable } from './globalTable';
import { APP_STATE_ID } from '../schema/rules';
import { ITEMS_TIMEOUT_S, type LambdaEnvironments } from './lambdaEnv';
import { assumeRolePolicy, type CodeSource, onlyItems, regionalLambda } from './lambda';
import type { ThrottleConfig } from '../config/protection';
import { restApiKey } from './apiKeys';
import { replicaArnIn } from './appsyncApi';

export const STAGE_NAME = 'live';

/**
 * AWS-managed policy for API Gateway's account-level CloudWatch role (AWS docs, "Permissions for CloudWatch
 * logging"): see the comment where the role is created.
 */
export const APIGW_CLOUDWATCH_POLICY_ARN = 'arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs';

/** JSON with object keys sorted at every level and undefined members dropped: equal inputs, equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/** One route as deployed: its key, and the full inputs of its Method and its Integration. */
export interface RouteInputs {
  key: string;
  method: Record<string, unknown>;
  integration: Record<string, unknown>;
}

/** The deployment's `triggers.redeployment`: a hash over every input of every route's Method and Integration. */
export function deploymentTrigger(routes: readonly RouteInputs[]): string {
  return createHash('sha256').update(canonicalJson([...routes].sort((a, b) => (a.key < b.key ? -1 : 1)))).digest('hex');
}

/** The stage variable holding this region's AppSync API key (apiKey mode: /graphql sends it to AppSync). */
export const APPSYNC_KEY_STAGE_VARIABLE = 'appsyncApiKey';

/**
 * How the REST API checks clients (everything but /health):
 * - apiKey: API Gateway key `value` (the one every region shares) in a usage plan; /graphql sends `appsyncKey`;
 * - request: a Lambda REQUEST authorizer reading the Authorization header, cached `ttlSeconds`
 *   (API Gateway allows 0–3600); `functionArn` gets the invoke permission for this API's authorizer;
 * - cognito: a COGNITO_USER_POOLS authorizer on the pool `userPoolArn`.
 */
export type RestAuth =
  | { kind: 'apiKey'; value: pulumi.Input<string>; appsyncKey: pulumi.Input<string> }
  | {
      kind: 'request';
      functionArn: pulumi.Input<string>;
      /** the region hosting the function: authorizerUri names it (not the API's region when they differ) */
      functionRegion: string;
      ttlSeconds: number;
      /**
       * create the invoke permission (false: the function is in a region outside the stack, its owner grants it);
       * through `grantProvider`, the function region's provider, when that differs from this API's
       */
      grant: boolean;
      grantProvider?: aws.Provider;
    }
  | { kind: 'cognito'; userPoolArn: pulumi.Input<string> };

/**
 * A REQUEST authorizer's URI: `arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/<function ARN>/invocations`,
 * where "{region} is the same as the region hosting the Lambda function"
 * (https://docs.aws.amazon.com/apigateway/latest/api/API_CreateAuthorizer.html, authorizerUri) — the function's region,
 * which for `auth.mode: lambda` may differ from the API's.
 */
export function authorizerUri(functionRegion: string, functionArn: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi.interpolate`arn:aws:apigateway:${functionRegion}:lambda:path/2015-03-31/functions/${functionArn}/invocations`;
}

/** The Authorization header: where REQUEST and Cognito authorizers read the client's token. */
export const TOKEN_SOURCE = 'method.request.header.Authorization';

export interface RestApiArgs {
  region: string;
  primaryRegion: string;
  project: string;
  stack: string;
  items: { local: RegionTable; primary: RegionTable };
  appConfig: { local: RegionTable };
  /** this region's Lambda environments (components/lambdaEnv.ts) */
  env: LambdaEnvironments<pulumi.Input<string>>;
  /** this region's AppSync GraphQL URL: /graphql proxies to it */
  graphqlUrl: pulumi.Input<string>;
  code: CodeSource;
  /** client auth of every route but /health */
  auth: RestAuth;
  throttle: ThrottleConfig;
  /** config `reservedConcurrency.items`; undefined: none */
  itemsReservedConcurrency?: number;
}

export interface RestApi {
  rest: aws.apigateway.RestApi;
  stage: aws.apigateway.Stage;
  deployment: aws.apigateway.Deployment;
  /** the Lambdas behind the routes (alarms watch items and health) */
  functions: { items: aws.lambda.Function; health: aws.lambda.Function };
  /** the REST authorizer (request and cognito auth) */
  authorizer?: aws.apigateway.Authorizer;
}

export function restApi(name: string, args: RestApiArgs, parent: pulumi.Resource): RestApi {
  const child = { parent };
  const { region } = args;
  const prefix = `${args.project}-${args.stack}`;

  // ---- Lambdas behind the REST API -------------------------------------------------------------------------
  const itemsTables = [args.items.local.tableArn, ...(args.primaryRegion === region ? [] : [args.items.primary.tableArn])];
  const appConfigTables = [args.appConfig.local.tableArn, ...(args.primaryRegion === region ? [] : [replicaArnIn(args.appConfig.local.tableArn, region, args.primaryRegion)])];
  const items = regionalLambda(
    `${name}-items`,
    {
      handler: 'items',
      code: args.code,
      description: `REST /items/{id}, ${region}`,
      // part of the write bound (schema/rules.ts writeBoundMs, computed in lambdaEnv.ts from the same constant)
      timeout: ITEMS_TIMEOUT_S,
      environment: args.env.items,
      reservedConcurrency: args.itemsReservedConcurrency,
      statements: [
        // the primary's replica too: writeMode primary writes there (read local, write global); every write is one
        // UpdateItem (no expected version), conditional PutItem or DeleteItem (handlers/lib/itemStore.ts), every read
        // a GetItem
        { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'], resources: itemsTables },
        // the write fence (handlers/items.ts): a strongly consistent GetItem of the app-state item, and of nothing else
        // in the table, in the replica written to (in writeMode primary the primary's, besides the local one)
        { actions: ['dynamodb:GetItem'], resources: appConfigTables, condition: onlyItems([APP_STATE_ID]) },
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
      environment: args.env.health,
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
      environment: args.env.state,
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

  // ---- client auth -------------------------------------------------------------------------------------------
  const auth = args.auth;
  let authorizer: aws.apigateway.Authorizer | undefined;
  if (auth.kind === 'request') {
    authorizer = new aws.apigateway.Authorizer(
      `${name}-rest-authorizer`,
      {
        restApi: rest.id,
        name: 'token',
        type: 'REQUEST',
        authorizerUri: authorizerUri(auth.functionRegion, auth.functionArn),
        identitySource: TOKEN_SOURCE,
        authorizerResultTtlInSeconds: auth.ttlSeconds,
      },
      child,
    );
    // API Gateway invokes the authorizer as apigateway.amazonaws.com, from <execution ARN>/authorizers/<id>
    // (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-use-lambda-authorizer.html): the API's
    // region and id in the source ARN, while the permission is a statement in the function's policy, so it is made in
    // the function's region (grantProvider when that is another region of the stack)
    if (auth.grant) {
      new aws.lambda.Permission(
        `${name}-rest-authorizer-permission`,
        { action: 'lambda:InvokeFunction', function: auth.functionArn, principal: 'apigateway.amazonaws.com', sourceArn: pulumi.interpolate`${rest.executionArn}/authorizers/${authorizer.id}` },
        auth.grantProvider ? { ...child, provider: auth.grantProvider } : child,
      );
    }
  } else if (auth.kind === 'cognito') {
    authorizer = new aws.apigateway.Authorizer(
      `${name}-rest-authorizer`,
      { restApi: rest.id, name: 'cognito', type: 'COGNITO_USER_POOLS', providerArns: [auth.userPoolArn], identitySource: TOKEN_SOURCE },
      child,
    );
  }
  /** A route's Method auth: open (/health) or the stack's credential. */
  const methodAuth = (open: boolean): Pick<aws.apigateway.MethodArgs, 'authorization' | 'authorizerId' | 'apiKeyRequired'> => {
    if (open) return { authorization: 'NONE' };
    if (auth.kind === 'apiKey') return { authorization: 'NONE', apiKeyRequired: true };
    return { authorization: auth.kind === 'cognito' ? 'COGNITO_USER_POOLS' : 'CUSTOM', authorizerId: authorizer!.id };
  };

  const routeParts: pulumi.Resource[] = [];
  const routes: pulumi.Output<RouteInputs>[] = [];
  const route = (
    key: string,
    res: aws.apigateway.Resource,
    httpMethod: string,
    integration: { type: string; uri: pulumi.Input<string>; requestParameters?: Record<string, string> },
    open = false,
  ): void => {
    // the inputs are built once and used both for the resources and for the deployment trigger, so every input
    // (present or added later) is covered
    const methodArgs: aws.apigateway.MethodArgs = { restApi: rest.id, resourceId: res.id, httpMethod, ...methodAuth(open) };
    const method = new aws.apigateway.Method(`${name}-${key}`, methodArgs, child);
    const integrationArgs: aws.apigateway.IntegrationArgs = {
      restApi: rest.id,
      resourceId: res.id,
      httpMethod: method.httpMethod,
      type: integration.type,
      integrationHttpMethod: 'POST',
      uri: integration.uri,
      ...(integration.requestParameters ? { requestParameters: integration.requestParameters } : {}),
    };
    const integ = new aws.apigateway.Integration(`${name}-${key}-integration`, integrationArgs, child);
    routeParts.push(method, integ);
    routes.push(pulumi.output({ key, method: methodArgs, integration: integrationArgs }) as unknown as pulumi.Output<RouteInputs>);
  };
  // AppSync authenticates too: JWT headers pass through the HTTP proxy unchanged; in apiKey mode the client's
  // x-api-key (the shared key API Gateway just checked) is replaced by this region's AppSync key from a stage
  // variable — parameter mapping works on proxy integrations' requests
  // (https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-parameter-mapping.html)
  route('graphql-post', graphqlRes, 'POST', {
    type: 'HTTP_PROXY',
    uri: args.graphqlUrl,
    ...(auth.kind === 'apiKey' ? { requestParameters: { 'integration.request.header.x-api-key': `stageVariables.${APPSYNC_KEY_STAGE_VARIABLE}` } } : {}),
  });
  const lambdaRoute = (key: string, res: aws.apigateway.Resource, httpMethod: string, fn: aws.lambda.Function, sourcePath: string, open = false): void => {
    route(key, res, httpMethod, { type: 'AWS_PROXY', uri: fn.invokeArn }, open);
    new aws.lambda.Permission(
      `${name}-${key}-permission`,
      { action: 'lambda:InvokeFunction', function: fn.name, principal: 'apigateway.amazonaws.com', sourceArn: pulumi.interpolate`${rest.executionArn}/${STAGE_NAME}/${httpMethod}${sourcePath}` },
      child,
    );
  };
  for (const m of ['GET', 'PUT', 'DELETE']) lambdaRoute(`item-${m.toLowerCase()}`, itemRes, m, items.fn, '/items/*');
  lambdaRoute('health-get', healthRes, 'GET', health.fn, '/health', true);
  lambdaRoute('state-get', stateRes, 'GET', state.fn, '/state');

  const deployment = new aws.apigateway.Deployment(
    `${name}-deployment`,
    {
      restApi: rest.id,
      description: `global-appsync ${region}`,
      // a new deployment whenever any input of any route's Method or Integration changes
      triggers: { redeployment: pulumi.all(routes).apply((r) => deploymentTrigger(r)) },
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
      ...(auth.kind === 'apiKey' ? { variables: { [APPSYNC_KEY_STAGE_VARIABLE]: pulumi.secret(auth.appsyncKey) } } : {}),
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
  // every method of the stage: the `throttle` config's steady rate and burst
  // (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html)
  new aws.apigateway.MethodSettings(
    `${name}-stage-throttle`,
    { restApi: rest.id, stageName: stage.stageName, methodPath: '*/*', settings: { throttlingRateLimit: args.throttle.rateLimit, throttlingBurstLimit: args.throttle.burstLimit } },
    child,
  );
  if (auth.kind === 'apiKey') {
    restApiKey(name, { region, prefix, restApiId: rest.id, stageName: stage.stageName, value: auth.value, throttle: args.throttle }, parent);
  }
  return { rest, stage, deployment, functions: { items: items.fn, health: health.fn }, ...(authorizer ? { authorizer } : {}) };
}
