/**
 * Failure drills as code (config `drills`): per region, two AWS FIS experiment templates and the one role FIS
 * runs them with, scoped to exactly this region's replicas and notifier.
 *
 * - `pause-replication`: aws:dynamodb:global-table-pause-replication on this region's replicas of both tables
 *   (target key `Tables`, resource type aws:dynamodb:global-table, parameter `duration`): replication into and out
 *   of this region stops for `drills.pauseMinutes`, then resumes from where it paused. Under `consistency: strong`
 *   (MRSC) that is not lag but a regional outage: while paused, the region's replica refuses writes and strongly
 *   consistent reads with AccessDeniedException
 *   (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2gt_IAM.html), so its writes fail, its /health
 *   fails and the global name moves its clients to the other regions. The template is kept under strong (that
 *   failover is worth rehearsing) and its description says what it does there.
 * - `notifier-errors`: aws:lambda:invocation-error on this region's notifier (target key `Functions`, resource type
 *   aws:lambda:function, parameters `duration`, `invocationPercentage` 100, `preventExecution` true): every
 *   invocation fails without running the handler, so the stream mapping retries, bisects and finally sends records
 *   to the DLQ — the failure the notifier's alarms exist for. It needs the AWS FIS Lambda extension on the function
 *   and the region's FIS config bucket (components/fisConfigBucket.ts, components/notifier.ts).
 *
 * Stop conditions: each template stops when one of the given CloudWatch alarms goes into ALARM — the alarms that
 * say users are hurt beyond what the drill is meant to cause (API 5XX in this region), the same for both drills.
 * Expected drill symptoms (replication latency, notifier errors, records in the notifier's DLQ) are deliberately not
 * stop conditions: the drill exists to make them fire. The DLQ-depth alarm in particular (threshold 0) fires on the
 * notifier drill's expected outcome — records reach the DLQ after the mapping's retries — so as a stop condition it
 * would end the drill within minutes, every time; drain or replay the DLQ after the drill (`npm run replay-dlq`).
 * https://docs.aws.amazon.com/fis/latest/userguide/stop-conditions.html
 *
 * IAM, from the FIS actions reference (https://docs.aws.amazon.com/fis/latest/userguide/fis-actions-reference.html,
 * sections "Amazon DynamoDB actions" and "AWS Lambda actions"): the pause action puts, reads and deletes a resource
 * policy on each targeted replica and describes it (dynamodb:PutResourcePolicy, GetResourcePolicy,
 * DeleteResourcePolicy, DescribeTable); the Lambda actions read the function's configuration (lambda:GetFunction) and
 * write/delete the fault config in the bucket (s3:PutObject, s3:DeleteObject —
 * https://docs.aws.amazon.com/fis/latest/userguide/use-lambda-actions.html). Both actions also list tag:GetResources:
 * FIS resolves an action's targets through the Resource Groups Tagging API, and the reference lists the permission
 * without an exception for targets given by ARN, so the role gets it. It has no resource-level permissions (the
 * Service Authorization Reference gives GetResources no resource type:
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsresourcegroupstaggingapi.html), so its
 * Resource is "*" (components/lambda.ts, WILDCARD_RESOURCE_EXCEPTIONS).
 *
 * A one-region stack gets no pause-replication template: its tables have no replica, so the action has nothing to
 * pause and an experiment could only fail. `skipped` says so (a stack output and a warning at `pulumi up`); the
 * notifier-errors drill works in one region and is kept.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { DRILLS, isoMinutes } from '../config/drills';
import { assumeRolePolicy, policyDocument } from './lambda';
import type { Consistency } from '../config/consistency';

export interface FisDrillsArgs {
  region: string;
  /** this region's replica ARNs of the global tables (items and app-config) */
  tableArns: pulumi.Input<string>[];
  /** this region's notifier function */
  notifierFunctionArn: pulumi.Input<string>;
  /** the region's FIS config bucket and the folder FIS writes faults to */
  configBucketArn: pulumi.Input<string>;
  configPrefix: string;
  /** how long each drill runs */
  pauseMinutes: number;
  /**
   * CloudWatch alarm ARNs that stop both drills: only alarms saying users are hurt (API 5XX), never one the drill
   * is expected to fire (DLQ depth, replication latency, notifier errors). At least one: FIS runs a template
   * without any otherwise.
   */
  stopAlarms: pulumi.Input<string>[];
  /** the tables' consistency mode: under strong, pausing replication takes the region's replica out (see above) */
  consistency: Consistency;
  /** how many regions hold a replica of the tables (the stack's regions): with one there is no replication to pause */
  replicaRegions: number;
}

/** Why a drill is left out for this stack (drill name → reason), or nothing when both apply. */
export function skippedDrills(replicaRegions: number): Readonly<Record<string, string>> {
  if (replicaRegions > 1) return {};
  return {
    [DRILLS.pauseReplication.name]:
      'not created: a one-region stack has no replica, so there is no replication to pause (aws:dynamodb:global-table-pause-replication targets global table replicas); add a region to rehearse it',
  };
}

export class FisDrills extends pulumi.ComponentResource {
  /** drill name (config/drills.ts) → experiment template id, for the drills this stack can run */
  readonly templateIds: Readonly<Record<string, pulumi.Output<string>>>;
  /** drill name → why it was not created (skippedDrills) */
  readonly skipped: Readonly<Record<string, string>>;
  readonly roleArn: pulumi.Output<string>;

  constructor(name: string, args: FisDrillsArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('global-appsync:index:FisDrills', name, {}, opts);
    const child = { parent: this };
    if (args.stopAlarms.length === 0) throw new Error(`FisDrills ${name}: no stop condition alarm`);
    this.skipped = skippedDrills(args.replicaRegions);
    const pausing = !this.skipped[DRILLS.pauseReplication.name];
    const role = new aws.iam.Role(`${name}-role`, { assumeRolePolicy: assumeRolePolicy('fis.amazonaws.com'), description: `AWS FIS drills, ${args.region}` }, child);
    const policy = new aws.iam.RolePolicy(
      `${name}-policy`,
      {
        role: role.id,
        policy: policyDocument([
          ...(pausing ? [{ actions: ['dynamodb:PutResourcePolicy', 'dynamodb:GetResourcePolicy', 'dynamodb:DeleteResourcePolicy', 'dynamodb:DescribeTable'], resources: args.tableArns }] : []),
          { actions: ['lambda:GetFunction'], resources: [args.notifierFunctionArn] },
          { actions: ['s3:PutObject', 's3:DeleteObject'], resources: [pulumi.interpolate`${args.configBucketArn}/${args.configPrefix}/*`] },
          // target resolution (see the header): no resource-level permissions, "*" only
          { actions: ['tag:GetResources'], resources: ['*'] },
        ]),
      },
      child,
    );
    const duration = isoMinutes(args.pauseMinutes);
    const stopConditions = args.stopAlarms.map((value) => ({ source: 'aws:cloudwatch:alarm', value }));
    const tags = (drill: string) => ({ Name: `${drill}-${args.region}`, drill });

    const templateIds: Record<string, pulumi.Output<string>> = {};
    for (const [drill, why] of Object.entries(this.skipped)) pulumi.log.warn(`drill ${drill} in ${args.region}: ${why}`, this);
    if (pausing) {
      const pause = new aws.fis.ExperimentTemplate(
        `${name}-${DRILLS.pauseReplication.name}`,
        {
          description: pauseDescription(args.region, args.pauseMinutes, args.consistency),
          roleArn: role.arn,
          stopConditions,
          actions: [
            {
              name: 'pause-replication',
              actionId: DRILLS.pauseReplication.actionId,
              parameters: [{ key: 'duration', value: duration }],
              target: { key: 'Tables', value: 'replicas' },
            },
          ],
          targets: [{ name: 'replicas', resourceType: 'aws:dynamodb:global-table', resourceArns: args.tableArns, selectionMode: 'ALL' }],
          tags: tags(DRILLS.pauseReplication.name),
        },
        { ...child, dependsOn: [policy] },
      );
      templateIds[DRILLS.pauseReplication.name] = pause.id;
    }
    const errors = new aws.fis.ExperimentTemplate(
      `${name}-${DRILLS.notifierErrors.name}`,
      {
        description: `Fail every notifier invocation in ${args.region} for ${args.pauseMinutes} min (docs/drills.md)`,
        roleArn: role.arn,
        stopConditions,
        actions: [
          {
            name: 'notifier-errors',
            actionId: DRILLS.notifierErrors.actionId,
            parameters: [
              { key: 'duration', value: duration },
              { key: 'invocationPercentage', value: '100' },
              { key: 'preventExecution', value: 'true' },
            ],
            target: { key: 'Functions', value: 'notifier' },
          },
        ],
        targets: [{ name: 'notifier', resourceType: 'aws:lambda:function', resourceArns: [args.notifierFunctionArn], selectionMode: 'ALL' }],
        tags: tags(DRILLS.notifierErrors.name),
      },
      { ...child, dependsOn: [policy] },
    );
    templateIds[DRILLS.notifierErrors.name] = errors.id;
    this.templateIds = templateIds;
    this.roleArn = role.arn;
    this.registerOutputs({ templateIds: this.templateIds, roleArn: this.roleArn });
  }
}

/** The pause template's description (FIS: at most 512 characters): under strong it says it is a regional outage. */
export function pauseDescription(region: string, minutes: number, consistency: Consistency): string {
  const what = `Pause global table replication into and out of ${region} for ${minutes} min`;
  if (consistency !== 'strong') return `${what} (docs/drills.md)`;
  return (
    `${what}. Consistency strong (MRSC): a regional outage, not lag - while paused the ${region} replica refuses writes and ` +
    `strongly consistent reads (AccessDeniedException), so ${region}'s writes fail, its /health fails and clients move to the other regions (docs/drills.md)`
  );
}
