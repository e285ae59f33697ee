/**
 * A stream ARN, or a clear failure naming the table, the region, where the ARN was read and what to run. An empty
 * ARN would silently give that region's notifier an event source mapping on nothing. Unknown during preview is fine
 * (not a string yet, so this is not called).
 *
 * Where an empty one comes from: the provider fills `replicas[].streamArn` best-effort (terraform-provider-aws
 * `enrichReplicas` copies DescribeTable's LatestStreamArn in the replica's region and ignores a failed call, leaving
 * ""): a refresh reads it again (REFRESH_ADVICE, the default). An MRSC replica has no stream unless
 * components/replicaStream.ts turned it on; there a refresh changes nothing, and the caller passes its own advice.
 */
export const REFRESH_ADVICE =
  'The provider reads replica streams best-effort and may leave it empty when DescribeTable in that region fails: run `pulumi refresh`, then `pulumi up` again.';

export function requireStreamArn(arn: string | undefined, tableName: string, region: string, field: string, advice: string = REFRESH_ADVICE): string {
  if (typeof arn === 'string' && arn.startsWith('arn:')) return arn;
  throw new Error(`table ${tableName}: ${field} is empty for ${region}, so ${region}'s notifier has no stream to read. ${advice}`);
}

/**
 * What to run when an MRSC replica has no stream although its stream enabler ran: the Invocation runs again only when
 * its input changes (lifecycle scope CREATE_ONLY, https://www.pulumi.com/registry/packages/aws/api-docs/lambda/invocation/)
 * and `pulumi refresh` does not re-run it (the stream may have been turned off since, or the invocation failed to
 * leave it on), so the way back is replacing that Invocation, which invokes the enabler again.
 */
export function enablerReplaceAdvice(invocationUrn: string): string {
  return (
    `The stream enabler turns it on when its Invocation is created and \`pulumi refresh\` does not run it again: ` +
    `run \`pulumi up --replace '${invocationUrn}'\` to invoke it once more (\`pulumi stack --show-urns\` lists the URN).`
  );
}
