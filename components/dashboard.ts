/**
 * StackDashboard: one CloudWatch dashboard for the whole stack, in the home region, one row
 * per region with that region's metrics (a dashboard widget may read any region: each metric names its own):
 * Route53 health (us-east-1, where Route53 publishes it), items replication latency to every other region
 * (published in the source region), the notifier's iterator age and DLQ depth, AppSync and API Gateway 5XX
 * errors, and their p99 latency. Metric names and dimensions are the ones the alarms use (components/alarms.ts).
 *
 * `dashboardBody` is pure (the tests read the same JSON the program registers); the body's resource ids are
 * resolved with one pulumi.output(...).apply(JSON.stringify): an input, no resource is created inside apply.
 * Body format: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { WatchedRegion } from './alarms';

/** What a region's row shows: the alarms' resources plus the health check and the DLQ. */
export interface DashboardRegion<T> extends WatchedRegion<T> {
  healthCheckId: T;
  dlqName: T;
}

/** One metric line: namespace, name, dimension name/value pairs, then its rendering options. */
type MetricLine = (string | { stat: string; region: string; label: string; yAxis?: 'left' | 'right' })[];

export interface MetricWidget {
  type: 'metric';
  x: number;
  y: number;
  width: number;
  height: number;
  properties: { title: string; region: string; view: 'timeSeries'; stacked: false; period: number; metrics: MetricLine[] };
}

/** Route53 health-check metrics exist only in us-east-1. */
export const ROUTE53_METRICS_REGION = 'us-east-1';
const HEIGHT = 6;
/** health, replication, notifier, API errors, API latency: 24 grid columns */
const WIDTHS = [4, 5, 5, 5, 5] as const;

export function dashboardBody(regions: readonly DashboardRegion<string>[], tableName: string): { widgets: MetricWidget[] } {
  const widgets: MetricWidget[] = [];
  // rows and lines in region-name order, not config order: reordering `regions` must not change the dashboard
  const sorted = [...regions].sort((a, b) => a.region.localeCompare(b.region));
  sorted.forEach((w, row) => {
    const r = w.region;
    const line = (namespace: string, metric: string, dims: Record<string, string>, stat: string, label: string, region = r, yAxis?: 'left' | 'right'): MetricLine => [
      namespace,
      metric,
      ...Object.entries(dims).flat(),
      { stat, region, label, ...(yAxis ? { yAxis } : {}) },
    ];
    const cells: [string, string, MetricLine[]][] = [
      [`${r}: health (1 = healthy)`, ROUTE53_METRICS_REGION, [line('AWS/Route53', 'HealthCheckStatus', { HealthCheckId: w.healthCheckId }, 'Minimum', `${r} /health`, ROUTE53_METRICS_REGION)]],
      [
        `${r}: items replication latency to (ms)`,
        r,
        sorted.filter((d) => d.region !== r).flatMap((d) => [
          line('AWS/DynamoDB', 'ReplicationLatency', { TableName: tableName, ReceivingRegion: d.region }, 'Average', `${d.region} average`),
          line('AWS/DynamoDB', 'ReplicationLatency', { TableName: tableName, ReceivingRegion: d.region }, 'Maximum', `${d.region} maximum`),
        ]),
      ],
      [
        `${r}: notifier`,
        r,
        [
          line('AWS/Lambda', 'IteratorAge', { FunctionName: w.functions.notifier }, 'Maximum', 'iterator age (ms)'),
          line('AWS/SQS', 'ApproximateNumberOfMessagesVisible', { QueueName: w.dlqName }, 'Maximum', 'DLQ depth', r, 'right'),
        ],
      ],
      [
        `${r}: API 5XX errors`,
        r,
        [
          line('AWS/AppSync', '5XXError', { GraphQLAPIId: w.graphqlApiId }, 'Sum', 'AppSync'),
          line('AWS/ApiGateway', '5XXError', { ApiName: w.restApiName, Stage: w.stageName }, 'Sum', 'API Gateway'),
        ],
      ],
      [
        `${r}: API latency p99 (ms)`,
        r,
        [
          line('AWS/AppSync', 'Latency', { GraphQLAPIId: w.graphqlApiId }, 'p99', 'AppSync'),
          line('AWS/ApiGateway', 'Latency', { ApiName: w.restApiName, Stage: w.stageName }, 'p99', 'API Gateway'),
        ],
      ],
    ];
    let x = 0;
    cells.forEach(([title, region, metrics], i) => {
      // a one-region stack has no replication: its cell stays empty rather than showing an empty graph
      if (metrics.length > 0) widgets.push({ type: 'metric', x, y: row * HEIGHT, width: WIDTHS[i], height: HEIGHT, properties: { title, region, view: 'timeSeries', stacked: false, period: 60, metrics } });
      x += WIDTHS[i];
    });
  });
  return { widgets };
}

export interface StackDashboardArgs {
  /** `<project>-<stack>`: CloudWatch dashboard names are per account and region */
  dashboardName: string;
  regions: readonly DashboardRegion<pulumi.Input<string>>[];
  tableName: pulumi.Input<string>;
}

export class StackDashboard extends pulumi.ComponentResource {
  readonly dashboardName: pulumi.Output<string>;

  /** `opts.providers.aws`: the home region's provider. */
  constructor(name: string, args: StackDashboardArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('global-appsync:index:StackDashboard', name, {}, opts);
    const body = pulumi
      .output({ regions: args.regions, tableName: args.tableName })
      .apply(({ regions, tableName }) => JSON.stringify(dashboardBody(regions as DashboardRegion<string>[], tableName)));
    const dashboard = new aws.cloudwatch.Dashboard(name, { dashboardName: args.dashboardName, dashboardBody: body }, { parent: this });
    this.dashboardName = dashboard.dashboardName;
    this.registerOutputs({ dashboardName: this.dashboardName });
  }
}
