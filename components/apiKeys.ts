/**
 * apiKey mode, made global: ONE API Gateway API key value that every region accepts, so a client
 * keeps working when latency routing or a failover moves it to another region.
 *
 * - SharedApiKey (once per stack): the value — `auth.key` from config (a Pulumi secret), else generated once by
 *   a random.RandomPassword (letters and digits, 40 characters; a secret in the state). API Gateway takes a
 *   given key value if it is "an alphanumeric string between 20 and 128 characters"
 *   (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-usage-plans.html);
 *   test/unit/awsConstraints.ts checks the deployed value against that rule.
 * - restApiKey (per region): that value as the region's aws.apigateway.ApiKey, in a usage plan on the region's
 *   stage with the `throttle` config's rate, burst and daily quota.
 *
 * AppSync cannot do the same (CreateApiKey takes no value), so the direct AppSync and realtime URLs keep their
 * per-region keys; through API Gateway, /graphql swaps the shared key for the region's AppSync key
 * (components/restApi.ts).
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import type { ThrottleConfig } from '../config/protection';

/** Length of a generated key (API Gateway: 20–128 alphanumeric characters). */
export const GENERATED_KEY_LENGTH = 40;
export const API_KEY_VALUE = /^[A-Za-z0-9]{20,128}$/;

export interface SharedApiKeyArgs {
  /** `auth.key`: the value to use; unset → generated */
  key?: string;
}

export class SharedApiKey extends pulumi.ComponentResource {
  /** The key value clients send as `x-api-key` to every region (secret). */
  readonly value: pulumi.Output<string>;

  constructor(name: string, args: SharedApiKeyArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('global-appsync:index:SharedApiKey', name, {}, opts);
    if (args.key !== undefined) {
      this.value = pulumi.secret(args.key);
    } else {
      // to rotate: pulumi up --replace <this password's URN> (docs/client-auth.md, "`auth.mode: apiKey` (the default)")
      const generated = new random.RandomPassword(`${name}-value`, { length: GENERATED_KEY_LENGTH, special: false, upper: true, lower: true, numeric: true }, { parent: this });
      this.value = pulumi.secret(generated.result);
    }
    this.registerOutputs({});
  }
}

export interface RestApiKeyArgs {
  region: string;
  /** `<project>-<stack>` */
  prefix: string;
  restApiId: pulumi.Input<string>;
  stageName: pulumi.Input<string>;
  value: pulumi.Input<string>;
  throttle: ThrottleConfig;
}

/** The region's API key (the shared value), its usage plan on the stage and the plan's key; children of `parent`. */
export function restApiKey(name: string, args: RestApiKeyArgs, parent: pulumi.Resource): { key: aws.apigateway.ApiKey; plan: aws.apigateway.UsagePlan } {
  const child = { parent };
  const key = new aws.apigateway.ApiKey(
    `${name}-rest-api-key`,
    { name: `${args.prefix}-${args.region}`, description: `client key shared by every region of ${args.prefix}`, value: pulumi.secret(args.value), enabled: true },
    { ...child, additionalSecretOutputs: ['value'] },
  );
  const plan = new aws.apigateway.UsagePlan(
    `${name}-usage-plan`,
    {
      name: `${args.prefix}-${args.region}`,
      description: `shared client key: throttle and quota, ${args.region}`,
      apiStages: [{ apiId: args.restApiId, stage: args.stageName }],
      throttleSettings: { rateLimit: args.throttle.rateLimit, burstLimit: args.throttle.burstLimit },
      ...(args.throttle.quotaPerDay !== undefined ? { quotaSettings: { limit: args.throttle.quotaPerDay, period: 'DAY' } } : {}),
    },
    child,
  );
  new aws.apigateway.UsagePlanKey(`${name}-usage-plan-key`, { keyId: key.id, keyType: 'API_KEY', usagePlanId: plan.id }, child);
  return { key, plan };
}
