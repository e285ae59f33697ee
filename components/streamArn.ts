/**
 * A stream ARN, or a clear failure naming the table, the region and where the ARN was read. An empty ARN would
 * silently give that region's notifier an event source mapping on nothing. Unknown during preview is fine (not a
 * string yet, so this is not called).
 *
 * Where an empty one comes from: the provider fills `replicas[].streamArn` best-effort (terraform-provider-aws
 * `enrichReplicas` copies DescribeTable's LatestStreamArn in the replica's region and ignores a failed call, leaving
 * ""); and an MRSC replica has no stream unless components/replicaStream.ts turned it on.
 */
export function requireStreamArn(arn: string | undefined, tableName: string, region: string, field: string): string {
  if (typeof arn === 'string' && arn.startsWith('arn:')) return arn;
  throw new Error(
    `table ${tableName}: ${field} is empty for ${region}, so ${region}'s notifier has no stream to read. The provider reads replica ` +
      'streams best-effort and may leave it empty when DescribeTable in that region fails: run `pulumi refresh`, then `pulumi up` again.',
  );
}
