/**
 * RegionAlarms: the alarms that see a region going bad before its users do, each to that
 * region's alarm topic (the notifier's, which already carries `alarmEmail`), through that region's provider:
 *
 * - DynamoDB `ReplicationLatency` of the items table for every source → destination pair, Average and Maximum.
 *   DynamoDB publishes it in the SOURCE region with dimensions TableName + ReceivingRegion (the destination), in
 *   milliseconds (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_monitoring.html,
 *   https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html): it is the one
 *   number that says how much a region's loss would lose.
 * - AppSync `5XXError` (Sum) and `Latency` (p99), dimension GraphQLAPIId, namespace AWS/AppSync
 *   (https://docs.aws.amazon.com/appsync/latest/devguide/monitoring.html).
 * - API Gateway `5XXError` (Sum) and `Latency` (p99), dimensions ApiName + Stage, namespace AWS/ApiGateway
 *   (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html).
 * - Lambda `Errors` and `Throttles` (Sum), dimension FunctionName, of the items, health and notifier functions
 *   (the notifier's `Errors` alarm already exists in components/notifier.ts and is not repeated here).
 *
 * `alarmSpecs` is pure (the dashboard and the tests read the same list); the component only registers it.
 * Thresholds come from the `alarms` stack config (config/alarms.ts has the defaults).
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { AlarmThresholds } from '../config/alarms';

/** What one region exposes to be watched; T is string in tests and pulumi.Input<string> in the program. */
export interface WatchedRegion<T> {
  region: string;
  graphqlApiId: T;
  restApiName: T;
  stageName: T;
  functions: { items: T; health: T; notifier: T };
}

export interface AlarmSpec<T> {
  /** unique within the region: the alarm's logical name is `<component>-<region>-<key>` */
  key: string;
  /** the region whose CloudWatch holds the metric (and the alarm, and its topic) */
  region: string;
  namespace: string;
  metricName: string;
  dimensions: Record<string, T>;
  /** a basic statistic, or `p99` (an extended statistic) */
  statistic: 'Sum' | 'Average' | 'Maximum' | 'p99';
  threshold: number;
  evaluationPeriods: number;
  /** how many of evaluationPeriods must breach */
  datapointsToAlarm: number;
  description: string;
}

/** 1-minute periods; latency alarms need 3 of 5 bad minutes (one slow minute is not a degraded region). */
export const PERIOD_SECONDS = 60;
const SUSTAINED = { evaluationPeriods: 5, datapointsToAlarm: 3 };
const AT_ONCE = { evaluationPeriods: 1, datapointsToAlarm: 1 };

/** Every alarm of every region, in a stable order. `tableName` is the items global table. */
export function alarmSpecs<T>(regions: readonly WatchedRegion<T>[], tableName: T, t: Readonly<AlarmThresholds>): AlarmSpec<T>[] {
  const out: AlarmSpec<T>[] = [];
  for (const w of regions) {
    const r = w.region;
    for (const dest of regions.filter((x) => x.region !== r)) {
      const pair = { region: r, namespace: 'AWS/DynamoDB', metricName: 'ReplicationLatency', dimensions: { TableName: tableName, ReceivingRegion: dest.region as T } };
      out.push({ ...pair, key: `replication-${dest.region}-average`, statistic: 'Average', threshold: t.replicationLatencyAverageMs, ...SUSTAINED, description: `items replication ${r} -> ${dest.region} averages over ${t.replicationLatencyAverageMs} ms: writes in ${r} reach ${dest.region} late (the data a loss of ${r} would lose)` });
      out.push({ ...pair, key: `replication-${dest.region}-maximum`, statistic: 'Maximum', threshold: t.replicationLatencyMaximumMs, ...AT_ONCE, description: `items replication ${r} -> ${dest.region} peaked over ${t.replicationLatencyMaximumMs} ms` });
    }
    const appsync = { region: r, namespace: 'AWS/AppSync', dimensions: { GraphQLAPIId: w.graphqlApiId } };
    out.push({ ...appsync, key: 'appsync-5xx', metricName: '5XXError', statistic: 'Sum', threshold: t.appsync5xxPerMinute, ...AT_ONCE, description: `AppSync server errors in ${r} above ${t.appsync5xxPerMinute} a minute` });
    out.push({ ...appsync, key: 'appsync-latency-p99', metricName: 'Latency', statistic: 'p99', threshold: t.appsyncLatencyP99Ms, ...SUSTAINED, description: `AppSync p99 latency in ${r} above ${t.appsyncLatencyP99Ms} ms` });
    const rest = { region: r, namespace: 'AWS/ApiGateway', dimensions: { ApiName: w.restApiName, Stage: w.stageName } };
    out.push({ ...rest, key: 'rest-5xx', metricName: '5XXError', statistic: 'Sum', threshold: t.apiGateway5xxPerMinute, ...AT_ONCE, description: `API Gateway server errors in ${r} above ${t.apiGateway5xxPerMinute} a minute` });
    out.push({ ...rest, key: 'rest-latency-p99', metricName: 'Latency', statistic: 'p99', threshold: t.apiGatewayLatencyP99Ms, ...SUSTAINED, description: `API Gateway p99 latency in ${r} above ${t.apiGatewayLatencyP99Ms} ms` });
    for (const fn of ['items', 'health', 'notifier'] as const) {
      const lambda = { region: r, namespace: 'AWS/Lambda', dimensions: { FunctionName: w.functions[fn] }, statistic: 'Sum' as const, ...AT_ONCE };
      if (fn !== 'notifier') out.push({ ...lambda, key: `${fn}-errors`, metricName: 'Errors', threshold: t.functionErrorsPerMinute, description: `${fn} function errors in ${r} above ${t.functionErrorsPerMinute} a minute` });
      out.push({ ...lambda, key: `${fn}-throttles`, metricName: 'Throttles', threshold: t.functionThrottlesPerMinute, description: `${fn} function throttled in ${r} above ${t.functionThrottlesPerMinute} a minute` });
    }
  }
  return out;
}

export interface RegionAlarmsArgs {
  regions: readonly (WatchedRegion<pulumi.Input<string>> & { provider: aws.Provider; topicArn: pulumi.Input<string> })[];
  tableName: pulumi.Input<string>;
  thresholds: Readonly<AlarmThresholds>;
}

/** One component for the stack; each alarm goes through its region's provider to its region's topic. */
export class RegionAlarms extends pulumi.ComponentResource {
  readonly alarmArns: Readonly<Record<string, pulumi.Output<string>>>;

  constructor(name: string, args: RegionAlarmsArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('global-appsync:index:RegionAlarms', name, {}, opts);
    const byRegion = new Map(args.regions.map((r) => [r.region, r] as const));
    const arns: Record<string, pulumi.Output<string>> = {};
    for (const spec of alarmSpecs(args.regions, args.tableName, args.thresholds)) {
      const where = byRegion.get(spec.region)!;
      const logical = `${name}-${spec.region}-${spec.key}`;
      const alarm = new aws.cloudwatch.MetricAlarm(
        logical,
        {
          alarmDescription: spec.description,
          namespace: spec.namespace,
          metricName: spec.metricName,
          dimensions: spec.dimensions,
          ...(spec.statistic === 'p99' ? { extendedStatistic: 'p99' } : { statistic: spec.statistic }),
          comparisonOperator: 'GreaterThanThreshold',
          threshold: spec.threshold,
          period: PERIOD_SECONDS,
          evaluationPeriods: spec.evaluationPeriods,
          datapointsToAlarm: spec.datapointsToAlarm,
          // no traffic, no datapoints: an idle region is not a bad one (its health check alarm covers "down")
          treatMissingData: 'notBreaching',
          alarmActions: [where.topicArn],
          okActions: [where.topicArn],
        },
        { parent: this, provider: where.provider },
      );
      arns[logical] = alarm.arn;
    }
    this.alarmArns = arns;
    this.registerOutputs({});
  }
}
