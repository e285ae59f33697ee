/**
 * AuthorizerFunction (one per region, in `token` and `oidc` modes): the project's token authorizer
 * (handlers/authorizer.ts, the 'authorizer' bundle) as a Lambda function whose role may write its own logs and
 * nothing else — it reads no table; a JWKS URL is fetched over the internet, which needs no IAM. Its callers add
 * their own invoke permissions, scoped to themselves: API Gateway's REQUEST authorizer (components/restApi.ts,
 * source ARN `<rest execution ARN>/authorizers/<id>`) and AppSync's AWS_LAMBDA auth (components/appsyncApi.ts,
 * source ARN the GraphQL API's ARN).
 */
import * as pulumi from '@pulumi/pulumi';
import type { HandlerName } from './bundle';
import { type CodeSource, regionalLambda } from './lambda';

/** The handler's bundle name (handlers/authorizer.ts). */
export const AUTHORIZER_HANDLER = 'authorizer' as HandlerName;

export interface AuthorizerFunctionArgs {
  region: string;
  code: CodeSource;
  /** AUTH_* variables (components/authorizerEnv.ts); AUTH_SECRET, when present, a Pulumi secret */
  environment: Record<string, pulumi.Input<string>>;
}

export class AuthorizerFunction extends pulumi.ComponentResource {
  readonly functionName: pulumi.Output<string>;
  readonly arn: pulumi.Output<string>;
  /** What an API Gateway authorizer's authorizerUri takes. */
  readonly invokeArn: pulumi.Output<string>;

  constructor(name: string, args: AuthorizerFunctionArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('global-appsync:index:AuthorizerFunction', name, {}, opts);
    const { fn } = regionalLambda(
      name,
      {
        handler: AUTHORIZER_HANDLER,
        code: args.code,
        description: `token authorizer (AppSync AWS_LAMBDA and API Gateway REQUEST), ${args.region}`,
        // a JWKS fetch on a cold start plus verification: well under API Gateway's 10 s authorizer limit
        timeout: 5,
        environment: args.environment,
        statements: [],
        tracing: false,
      },
      { parent: this },
    );
    this.functionName = fn.name;
    this.arn = fn.arn;
    this.invokeArn = fn.invokeArn;
    this.registerOutputs({ functionName: this.functionName, arn: this.arn });
  }
}
