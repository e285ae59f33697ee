/**
 * ReplicaStream (consistency strong only; one per non-home region, for the items table): turns on DynamoDB Streams on
 * that region's MRSC replica and reads the stream's ARN back FROM THAT REGION.
 *
 * The Terraform provider under @pulumi/aws enables the stream of an MRSC table's home replica only
 * (https://github.com/hashicorp/terraform-provider-aws/issues/48213, open): every other replica gets none, and its
 * `replicas[].streamArn` is empty (the provider's enrichReplicas copies DescribeTable's LatestStreamArn in the replica's
 * region, "" when there is no stream). So, through the region's own provider (its credentials, account and region):
 *   1. the stream enabler (handlers/streamEnabler.ts), a small function in the region allowed DescribeTable and
 *      UpdateTable on this replica only, is invoked once by an aws.lambda.Invocation: UpdateTable with a
 *      StreamSpecification, as the issue proposes and Crossplane shipped in its fork
 *      (https://github.com/crossplane-contrib/provider-upjet-aws/pull/2185). It runs again only when its input changes
 *      (lifecycle scope CREATE_ONLY, the default: https://www.pulumi.com/registry/packages/aws/api-docs/lambda/invocation/).
 *   2. aws.dynamodb.getTableOutput in that region, after the invocation (dependsOn), reads `streamArn`: what
 *      DescribeTable there says, on every `up` — not the home table's view of its replicas.
 * Why a function and not a Pulumi dynamic resource: a dynamic provider runs with the ambient credentials of the
 * machine running `pulumi`, not the stack's aws.Provider settings (profile, assumeRoles, allowedAccountIds:
 * components/providers.ts forwards them to every provider), so it could update a table in another account; the
 * Invocation goes through the region's provider like every other resource.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { enablerReplaceAdvice, requireStreamArn } from './streamArn';
import { type CodeSource, regionalLambda } from './lambda';

export interface ReplicaStreamArgs {
  region: string;
  tableName: pulumi.Input<string>;
  /** the replica's ARN in this region (what the enabler may describe and update) */
  replicaArn: pulumi.Input<string>;
  streamViewType: string;
  /** this region's provider */
  provider: aws.Provider;
  code: CodeSource;
}

export class ReplicaStream extends pulumi.ComponentResource {
  /** the replica's stream ARN as DescribeTable in its region gives it (validated: an ARN, never "") */
  readonly streamArn: pulumi.Output<string>;

  constructor(name: string, args: ReplicaStreamArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('global-appsync:index:ReplicaStream', name, {}, opts);
    const child = { parent: this, provider: args.provider };
    const enabler = regionalLambda(
      `${name}-enabler`,
      {
        handler: 'streamEnabler',
        code: args.code,
        description: `turns on the MRSC replica's DynamoDB stream, ${args.region} (run by pulumi up)`,
        // DescribeTable while waiting for ACTIVE (up to a few minutes while a replica settles), then UpdateTable
        timeout: 300,
        environment: {},
        tracing: false,
        statements: [{ actions: ['dynamodb:DescribeTable', 'dynamodb:UpdateTable'], resources: [args.replicaArn] }],
      },
      child,
    );
    const invocation = new aws.lambda.Invocation(
      `${name}-enable`,
      {
        functionName: enabler.fn.name,
        input: pulumi.jsonStringify({ tableName: args.tableName, streamViewType: args.streamViewType }),
        // a new table name or view type invokes it again (CREATE_ONLY otherwise runs it once)
        triggers: { tableName: args.tableName, streamViewType: args.streamViewType },
      },
      { ...child, dependsOn: [enabler.policy] },
    );
    const table = aws.dynamodb.getTableOutput({ name: args.tableName }, { ...child, dependsOn: [invocation] });
    // empty: the enabler ran once (CREATE_ONLY) and the stream is off again; a refresh would not run it, a replace does
    this.streamArn = pulumi
      .all([table.streamArn, args.tableName, invocation.urn])
      .apply(([arn, tableName, urn]) => requireStreamArn(arn, tableName, args.region, `streamArn (DescribeTable in ${args.region}, after the stream enabler)`, enablerReplaceAdvice(urn)));
    this.registerOutputs({ streamArn: this.streamArn });
  }
}
