/**
 * RegionalApi (one per region, through that region's provider): a thin component that owns one region's
 * AppSync API (components/appsyncApi.ts) and its REST API with the Lambdas behind it (components/restApi.ts).
 * Both are created as this component's children under the names they have always had, so splitting the code
 * changed no URN (test/unit/urns.test.ts holds the list).
 *
 * Client auth: the same credential in every region (components/restApi.ts, restAuth). In token and
 * oidc modes this component also owns the region's authorizer function (components/authorizerFunction.ts); with
 * `waf` on, a RegionalWaf (components/waf.ts) in front of the stage and the GraphQL API.
 *
 * A drained region (`drainRegions`) keeps every resource; only its health λ's DRAIN variable changes, so its
 * /health answers 503 and says why (GlobalRouting also drops its latency record).
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { AuthConfig } from '../config/auth';
import { AuthorizerFunction } from './authorizerFunction';
import { authorizerEnv, authorizerTtl, usesProjectAuthorizer } from './authorizerEnv';
import type { ThrottleConfig, WafConfig } from '../config/protection';
import { RegionalWaf } from './waf';
import type { WriteMode } from '../schema/rules';
import { appsyncApi } from './appsyncApi';
import type { RegionTable } from './globalTable';
import type { CodeSource } from './lambda';
import { lambdaEnvironments } from './lambdaEnv';
import { restApi, type RestAuth } from './restApi';

export { DATA_SOURCE_ACTIONS, apiKeyExpiry, authSettings } from './appsyncApi';
export { APIGW_CLOUDWATCH_POLICY_ARN, STAGE_NAME } from './restApi';

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
  /** This region is in `drainRegions`: its health answers 503 (DRAIN=true). */
  drain?: boolean;
  /** apiKey mode: the API Gateway key value every region shares (components/apiKeys.ts, SharedApiKey) */
  apiKeyValue?: pulumi.Input<string>;
  /** stage throttling (and the apiKey usage plan's) */
  throttle: ThrottleConfig;
  /** `waf` config; unset: no web ACL */
  waf?: WafConfig;
  /** `consistency`: resolver settings and every function's CONSISTENCY */
  consistency?: 'eventual' | 'strong';
  /** `stateCacheMs`: the items function's STATE_CACHE_MS (absent: its default) */
  stateCacheMs?: number;
  /** config `reservedConcurrency.items`; undefined: none */
  itemsReservedConcurrency?: number;
  /**
   * The stack's providers by region. `auth.mode: lambda` with the authorizer in another region of the stack: its
   * invoke permission for this API is made through that region's provider. Unset: only a same-region authorizer is granted.
   */
  stackProviders?: ReadonlyMap<string, aws.Provider>;
}

/** The Cognito user pool's ARN (the pool is in this stack's account). */
function userPoolArn(auth: Extract<AuthConfig, { mode: 'cognito' }>, parent: pulumi.Resource): pulumi.Output<string> {
  const account = aws.getCallerIdentityOutput({}, { parent }).accountId;
  return pulumi.interpolate`arn:aws:cognito-idp:${auth.awsRegion}:${account}:userpool/${auth.userPoolId}`;
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
  /** The REST API's name: API Gateway's metrics are dimensioned by it (ApiName), not by its id. */
  readonly restApiName: pulumi.Output<string>;
  /** The items and health Lambdas' function names (their metrics' FunctionName). */
  readonly itemsFunctionName: pulumi.Output<string>;
  readonly healthFunctionName: pulumi.Output<string>;
  /** The stage's ARN (what a WAF web ACL is associated with). */
  readonly stageArn: pulumi.Output<string>;
  /** token and oidc modes: the authorizer function's name */
  readonly authorizerFunctionName?: pulumi.Output<string>;
  /** with `waf` on: the web ACL's ARN */
  readonly webAclArn?: pulumi.Output<string>;

  constructor(name: string, args: RegionalApiArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('global-appsync:index:RegionalApi', name, {}, opts);
    const { region } = args;
    const prefix = `${args.project}-${args.stack}`;

    const authorizer = usesProjectAuthorizer(args.auth)
      ? new AuthorizerFunction(`${name}-authorizer`, { region, code: args.code, environment: authorizerEnv(args.auth, (s) => pulumi.secret(s)) }, { parent: this })
      : undefined;
    const gql = appsyncApi(
      name,
      {
        region,
        primaryRegion: args.primaryRegion,
        writeMode: args.writeMode,
        auth: args.auth,
        prefix,
        items: args.items,
        appConfig: args.appConfig,
        now: args.now,
        consistency: args.consistency,
        ...(authorizer ? { authorizerArn: authorizer.arn } : {}),
      },
      this,
    );
    if (gql.apiKey) {
      this.apiKey = pulumi.secret(gql.apiKey.key);
      // the provider's state (what AWS has), not our input: with ignoreChanges the two differ after day one
      this.apiKeyExpires = gql.apiKey.expires.apply((e) => e ?? '');
    }

    const env = lambdaEnvironments<pulumi.Input<string>>({
      itemsTable: args.items.name,
      appConfigTable: args.appConfig.name,
      primaryRegion: args.primaryRegion,
      writeMode: args.writeMode,
      graphqlUrl: gql.graphqlUrl,
      drain: args.drain === true,
      consistency: args.consistency,
      ...(args.stateCacheMs !== undefined ? { stateCacheMs: args.stateCacheMs } : {}),
    });
    let restAuth: RestAuth;
    if (args.auth.mode === 'apiKey') {
      if (args.apiKeyValue === undefined || !gql.apiKey) throw new Error('apiKey mode needs the shared API key value (components/apiKeys.ts)');
      restAuth = { kind: 'apiKey', value: args.apiKeyValue, appsyncKey: gql.apiKey.key };
    } else if (args.auth.mode === 'cognito') {
      restAuth = { kind: 'cognito', userPoolArn: userPoolArn(args.auth, this) };
    } else {
      // token, oidc: the project's authorizer; lambda: the stack's own authorizer function, which then answers
      // API Gateway REQUEST authorizer events too (README, "Client auth"); its invoke permission for this API is
      // created here when the function is in one of the stack's regions (through that region's provider), and left
      // to its owner when it is outside the stack
      const own = args.auth.mode === 'lambda' ? args.auth.authorizerArn : undefined;
      // arn:aws:lambda:<region>:<account>:function:<name> (config/auth.ts checked the shape); the project's own is here
      const functionRegion = own === undefined ? region : own.split(':')[3];
      const grantProvider = functionRegion === region ? undefined : args.stackProviders?.get(functionRegion);
      restAuth = {
        kind: 'request',
        functionArn: authorizer ? authorizer.arn : own!,
        functionRegion,
        ttlSeconds: authorizerTtl(args.auth),
        grant: functionRegion === region || grantProvider !== undefined,
        ...(grantProvider ? { grantProvider } : {}),
      };
    }
    const rest = restApi(
      name,
      {
        region,
        primaryRegion: args.primaryRegion,
        project: args.project,
        stack: args.stack,
        items: args.items,
        appConfig: args.appConfig,
        env,
        graphqlUrl: gql.graphqlUrl,
        code: args.code,
        auth: restAuth,
        throttle: args.throttle,
        itemsReservedConcurrency: args.itemsReservedConcurrency,
      },
      this,
    );
    if (args.waf) {
      const waf = new RegionalWaf(`${name}-waf`, { region, prefix, waf: args.waf, targets: { stage: rest.stage.arn, graphql: gql.api.arn } }, { parent: this });
      this.webAclArn = waf.webAclArn;
    }
    this.stageArn = rest.stage.arn;
    if (authorizer) this.authorizerFunctionName = authorizer.functionName;

    this.apiId = gql.api.id;
    this.apiArn = gql.api.arn;
    this.graphqlUrl = gql.graphqlUrl;
    this.realtimeUrl = gql.realtimeUrl;
    this.restApiId = rest.rest.id;
    this.stageName = rest.stage.stageName;
    this.restUrl = rest.stage.invokeUrl;
    this.executeApiHost = pulumi.interpolate`${rest.rest.id}.execute-api.${region}.amazonaws.com`;
    this.restApiName = rest.rest.name;
    this.itemsFunctionName = rest.functions.items.name;
    this.healthFunctionName = rest.functions.health.name;
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
