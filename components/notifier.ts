/**
 * Notifier (one per region): this region's items stream → notifier λ → `publishItemChange` on this region's
 * AppSync API (SigV4, AWS_IAM), so this region's subscribers see every change of its replica exactly once.
 *
 * The event source mapping never blocks the shard: bisect on error, bounded retries and record age,
 * ReportBatchItemFailures, and ranges that still fail go (as metadata: shard + sequence numbers) to an SQS DLQ.
 * The function writes records that can never be published (unparseable, refused by AppSync) to the same queue
 * itself, whole (sqs:SendMessage, NOTIFIER_DLQ_URL), so they are not retried; `npm run replay-dlq` republishes both.
 * Sizing from config (config/notifier.ts): parallelizationFactor on the mapping, publish concurrency in
 * the environment, reserved concurrency on the function. Alarms on the DLQ depth,
 * the iterator age and the function's errors go to an SNS topic in this region (+ e-mail when configured).
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { type CodeSource, regionalLambda } from './lambda';
import { lambdaEnvironments } from './lambdaEnv';
import { DEFAULT_NOTIFIER_TUNING, type NotifierTuning } from '../config/notifier';
import { STREAM_MAPPING } from './streamMapping';

/** The event source mapping's settings live in ./streamMapping.ts (no @pulumi imports, so the local emulator can load them). */
export { STREAM_MAPPING };

/** The one AppSync field the notifier may call. */
export const publishFieldArn = (apiArn: pulumi.Input<string>): pulumi.Output<string> => pulumi.interpolate`${apiArn}/types/Mutation/fields/publishItemChange`;

export interface NotifierArgs {
  region: string;
  /** This region's items stream (its replica's `streamArn`). */
  streamArn: pulumi.Input<string>;
  apiArn: pulumi.Input<string>;
  graphqlUrl: pulumi.Input<string>;
  code: CodeSource;
  alarmEmail?: string;
  /** `consistency`: the notifier's CONSISTENCY (strongly consistent reads when the tables are MRSC) */
  consistency?: 'eventual' | 'strong';
  /**
   * Drills on: the AWS FIS Lambda extension as a layer, and the region's FIS config bucket it reads its
   * faults from (components/fisConfigBucket.ts; https://docs.aws.amazon.com/fis/latest/userguide/use-lambda-actions.html).
   */
  fis?: { layerArn: pulumi.Input<string>; bucketArn: pulumi.Input<string>; configLocation: pulumi.Input<string>; prefix: string };
  /** config `notifier` (config/notifier.ts); default DEFAULT_NOTIFIER_TUNING */
  tuning?: NotifierTuning;
  /** config `reservedConcurrency.notifier`; undefined: none */
  reservedConcurrency?: number;
}

export class Notifier extends pulumi.ComponentResource {
  readonly functionName: pulumi.Output<string>;
  /** the function's ARN (the FIS notifier-errors drill targets it) */
  readonly functionArn: pulumi.Output<string>;
  readonly dlqUrl: pulumi.Output<string>;
  /** the DLQ's name: its SQS metrics' QueueName (the dashboard shows its depth) */
  readonly dlqName: pulumi.Output<string>;
  readonly alarmTopicArn: pulumi.Output<string>;
  /** the DLQ's ARN */
  readonly dlqArn: pulumi.Output<string>;
  /** ARNs of the DLQ-depth and iterator-age alarms (the drills' stop conditions) */
  readonly alarmArns: { dlqDepth: pulumi.Output<string>; iteratorAge: pulumi.Output<string> };

  constructor(name: string, args: NotifierArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('global-appsync:index:Notifier', name, {}, opts);
    const child = { parent: this };

    const tuning = args.tuning ?? DEFAULT_NOTIFIER_TUNING;
    const dlq = new aws.sqs.Queue(`${name}-dlq`, { messageRetentionSeconds: 14 * 86_400, sqsManagedSseEnabled: true }, child);
    const fn = regionalLambda(
      name,
      {
        handler: 'notifier',
        code: args.code,
        description: `items stream to AppSync publishItemChange, ${args.region}`, // IAM descriptions are Latin-1 only (the role copies it)
        timeout: 60,
        environment: lambdaEnvironments<pulumi.Input<string>>({
          itemsTable: '',
          appConfigTable: '',
          primaryRegion: '',
          writeMode: '',
          graphqlUrl: args.graphqlUrl,
          consistency: args.consistency,
          notifierDlqUrl: dlq.url,
          notifierConcurrency: tuning.publishConcurrency,
          ...(args.fis ? { fisConfigLocation: args.fis.configLocation } : {}),
        }).notifier,
        reservedConcurrency: args.reservedConcurrency,
        ...(args.fis ? { layers: [args.fis.layerArn] } : {}),
        statements: [
          // drills: the FIS extension lists and reads its fault configs (use-lambda-actions.html, the extension's policy)
          ...(args.fis
            ? [
                { actions: ['s3:ListBucket'], resources: [args.fis.bucketArn] },
                { actions: ['s3:GetObject'], resources: [pulumi.interpolate`${args.fis.bucketArn}/${args.fis.prefix}/*`] },
              ]
            : []),
          { actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'], resources: [args.streamArn] },
          { actions: ['dynamodb:ListStreams'], resources: ['*'] },
          { actions: ['sqs:SendMessage'], resources: [dlq.arn] },
          { actions: ['appsync:GraphQL'], resources: [publishFieldArn(args.apiArn)] },
        ],
      },
      child,
    );
    new aws.lambda.EventSourceMapping(
      `${name}-stream`,
      {
        eventSourceArn: args.streamArn,
        functionName: fn.fn.arn,
        startingPosition: STREAM_MAPPING.startingPosition,
        batchSize: STREAM_MAPPING.batchSize,
        maximumBatchingWindowInSeconds: STREAM_MAPPING.maximumBatchingWindowInSeconds,
        bisectBatchOnFunctionError: STREAM_MAPPING.bisectBatchOnFunctionError,
        maximumRetryAttempts: STREAM_MAPPING.maximumRetryAttempts,
        maximumRecordAgeInSeconds: STREAM_MAPPING.maximumRecordAgeInSeconds,
        // concurrent batches per shard; per-id order still holds (handlers/notifier.ts, header)
        parallelizationFactor: tuning.parallelizationFactor,
        functionResponseTypes: [...STREAM_MAPPING.functionResponseTypes],
        destinationConfig: { onFailure: { destinationArn: dlq.arn } },
      },
      { ...child, dependsOn: [fn.policy] },
    );

    const topic = new aws.sns.Topic(`${name}-alarms`, {}, child);
    if (args.alarmEmail) new aws.sns.TopicSubscription(`${name}-alarms-email`, { topic: topic.arn, protocol: 'email', endpoint: args.alarmEmail }, child);
    const alarm = (key: string, a: Partial<aws.cloudwatch.MetricAlarmArgs>): aws.cloudwatch.MetricAlarm =>
      new aws.cloudwatch.MetricAlarm(
        `${name}-${key}`,
        { comparisonOperator: 'GreaterThanThreshold', evaluationPeriods: 1, period: 60, treatMissingData: 'notBreaching', alarmActions: [topic.arn], okActions: [topic.arn], ...a },
        child,
      );
    const dlqDepth = alarm('dlq-depth', {
      alarmDescription: `stream records the notifier gave up on (${args.region}); see the DLQ`,
      namespace: 'AWS/SQS',
      metricName: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: dlq.name },
      statistic: 'Maximum',
      threshold: 0,
    });
    const iteratorAge = alarm('iterator-age', {
      alarmDescription: `notifier is behind its stream by more than a minute (${args.region})`,
      namespace: 'AWS/Lambda',
      metricName: 'IteratorAge',
      dimensions: { FunctionName: fn.fn.name },
      statistic: 'Maximum',
      threshold: 60_000,
      evaluationPeriods: 5,
    });
    alarm('errors', {
      alarmDescription: `notifier invocation errors (${args.region})`,
      namespace: 'AWS/Lambda',
      metricName: 'Errors',
      dimensions: { FunctionName: fn.fn.name },
      statistic: 'Sum',
      threshold: 0,
    });

    this.functionName = fn.fn.name;
    this.functionArn = fn.fn.arn;
    this.dlqArn = dlq.arn;
    this.dlqUrl = dlq.url;
    this.dlqName = dlq.name;
    this.alarmTopicArn = topic.arn;
    this.alarmArns = { dlqDepth: dlqDepth.arn, iteratorAge: iteratorAge.arn };
    this.registerOutputs({ functionName: this.functionName, dlqUrl: this.dlqUrl, alarmTopicArn: this.alarmTopicArn });
  }
}
