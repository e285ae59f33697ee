/**
 * RegionReady (one per region): the gate between a region's deployment and its latency record.
 * `pulumi up` orders a region being added as: its replica of both tables → its APIs and functions → this gate → the
 * latency record (components/globalRouting.ts makes the record depend on `ready`).
 *
 * - Replica first. The tables' own resources (home region) carry every replica inline; adding a region is an update
 *   of both Table resources, and the Terraform provider under @pulumi/aws does not finish that update until the new
 *   replica is ACTIVE: createReplicas calls UpdateTable (ReplicaUpdates Create) and then waitReplicaActive, which polls
 *   DescribeTable until the region's ReplicaStatus is ACTIVE, for max(30 min, the resource's update timeout)
 *   (https://github.com/hashicorp/terraform-provider-aws/blob/main/internal/service/dynamodb/table.go, createReplicas;
 *   internal/service/dynamodb/wait.go, waitReplicaActive, replicaUpdateTimeout). The gate depends on both Table
 *   resources (the Invocation's dependsOn), so it starts only after that wait.
 * - Then the region itself: the stream-enabler pattern (components/replicaStream.ts) — a small function in the region,
 *   allowed DescribeTable on its own replicas only, run once by an aws.lambda.Invocation through the region's provider
 *   (https://www.pulumi.com/registry/packages/aws/api-docs/lambda/invocation/; lifecycle CREATE_ONLY: it runs when the
 *   region is added, and again only when its input changes). handlers/regionReady.ts waits for both replicas to be
 *   ACTIVE as seen from the region and for its deep /health to pass HEALTH_CHECK.failureThreshold times in a row.
 *   Route53 treats a new health check as healthy until it has data, so without the gate a new latency record could
 *   route users to a region that never passed /health.
 * A drained region's gate waits for the replicas only (its /health answers 503 on purpose, and it has no latency
 * record); `drained` is one of the Invocation's triggers, so undraining runs the gate again, health included, before
 * the latency record comes back. Without a domain there is no latency record, and `pulumi up` still finishes only
 * once every region is ready.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { HEALTH_CHECK } from './healthCheck';
import { type CodeSource, regionalLambda } from './lambda';

/** The gate's run-time limit: Lambda's longest (900 s); a slower region fails `pulumi up` with what it waited for. */
export const READY_TIMEOUT_SECONDS = 900;

export interface RegionReadyArgs {
  region: string;
  /** the tables' names (the same in every region: global tables) */
  tableNames: pulumi.Input<string>[];
  /** this region's replica ARNs of those tables (what the gate may describe) */
  replicaArns: pulumi.Input<string>[];
  /** the region's deep health check URL: `https://<execute-api host>/<stage>/health`, what Route53 polls */
  healthUrl: pulumi.Input<string>;
  /** a drained region: wait for the replicas only (see header) */
  drained: boolean;
  /** the Table resources holding the replicas: the gate runs after their update (the provider's replica wait) */
  tables: pulumi.Resource[];
  /** this region's provider */
  provider: aws.Provider;
  code: CodeSource;
}

export class RegionReady extends pulumi.ComponentResource {
  /** the gate's answer (JSON): what it saw; the latency record depends on this resource */
  readonly invocation: aws.lambda.Invocation;

  constructor(name: string, args: RegionReadyArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('global-appsync:index:RegionReady', name, {}, opts);
    const child = { parent: this, provider: args.provider };
    const gate = regionalLambda(
      `${name}-gate`,
      {
        handler: 'regionReady',
        code: args.code,
        description: `waits for the table replicas and /health before latency routing, ${args.region} (run by pulumi up)`,
        timeout: READY_TIMEOUT_SECONDS,
        environment: {},
        tracing: false,
        statements: [{ actions: ['dynamodb:DescribeTable'], resources: args.replicaArns }],
      },
      child,
    );
    const input = { tables: args.tableNames, healthUrl: args.healthUrl, passes: HEALTH_CHECK.failureThreshold, drained: args.drained };
    this.invocation = new aws.lambda.Invocation(
      `${name}-wait`,
      { functionName: gate.fn.name, input: pulumi.jsonStringify(input), triggers: { tables: pulumi.jsonStringify(args.tableNames), healthUrl: args.healthUrl, drained: String(args.drained) } },
      { ...child, dependsOn: [gate.policy, ...args.tables] },
    );
    this.registerOutputs({ result: this.invocation.result });
  }
}
