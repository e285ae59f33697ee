/**
 * The regional alarms (components/alarms.ts) under Pulumi mocks: for every region, every alarm's
 * metric, namespace, dimensions (the real ids and names of the resources it watches), region (args.provider),
 * statistic, threshold (defaults and `alarms` config) and topic. The expected list is written out here from AWS's
 * documented metrics, not read back from alarmSpecs, so a wrong dimension or region in the component fails.
 */
import assert from 'node:assert/strict';
import { DEFAULT_ALARM_THRESHOLDS } from '../../config/alarms';
import { cachedRun, named, ofType, type ProgramRun, type Recorded } from '../../scripts/mockCloud';

// the same config as security.test.ts's 3-region run, so the run is shared when both files run in one process
const R = ['eu-west-1', 'ap-southeast-2', 'us-west-2'];
const run3 = (): Promise<ProgramRun> => cachedRun({ regions: JSON.stringify(R), domain: JSON.stringify({ zoneName: 'example.com', name: 'api.example.com' }), alarmEmail: 'ops@example.com' });

interface Expected {
  name: string;
  region: string;
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
  statistic: string;
  threshold: number;
}

/** What AWS documents for each alarm, filled with the values the run registered. */
function expected(run: ProgramRun, regions: string[], t = DEFAULT_ALARM_THRESHOLDS): Expected[] {
  const table = named(run, 'tables-items').inputs.name as string;
  const out: Expected[] = [];
  for (const r of regions) {
    for (const dest of regions.filter((d) => d !== r)) {
      // published in the SOURCE region, dimensioned by the receiving one
      const dims = { TableName: table, ReceivingRegion: dest };
      out.push({ name: `alarms-${r}-replication-${dest}-average`, region: r, namespace: 'AWS/DynamoDB', metricName: 'ReplicationLatency', dimensions: dims, statistic: 'Average', threshold: t.replicationLatencyAverageMs });
      out.push({ name: `alarms-${r}-replication-${dest}-maximum`, region: r, namespace: 'AWS/DynamoDB', metricName: 'ReplicationLatency', dimensions: dims, statistic: 'Maximum', threshold: t.replicationLatencyMaximumMs });
    }
    // the mock cloud gives every resource the id `<logical name>-id` (scripts/mockCloud.ts)
    const apiId = `${named(run, `api-${r}-graphql`).name}-id`;
    out.push({ name: `alarms-${r}-appsync-5xx`, region: r, namespace: 'AWS/AppSync', metricName: '5XXError', dimensions: { GraphQLAPIId: apiId }, statistic: 'Sum', threshold: t.appsync5xxPerMinute });
    out.push({ name: `alarms-${r}-appsync-latency-p99`, region: r, namespace: 'AWS/AppSync', metricName: 'Latency', dimensions: { GraphQLAPIId: apiId }, statistic: 'p99', threshold: t.appsyncLatencyP99Ms });
    const rest = { ApiName: named(run, `api-${r}-rest`).inputs.name as string, Stage: named(run, `api-${r}-stage`).inputs.stageName as string };
    out.push({ name: `alarms-${r}-rest-5xx`, region: r, namespace: 'AWS/ApiGateway', metricName: '5XXError', dimensions: rest, statistic: 'Sum', threshold: t.apiGateway5xxPerMinute });
    out.push({ name: `alarms-${r}-rest-latency-p99`, region: r, namespace: 'AWS/ApiGateway', metricName: 'Latency', dimensions: rest, statistic: 'p99', threshold: t.apiGatewayLatencyP99Ms });
    for (const [fn, logical] of [['items', `api-${r}-items`], ['health', `api-${r}-health`], ['notifier', `notifier-${r}`]]) {
      const dims = { FunctionName: named(run, logical).state.name as string };
      // the notifier's Errors alarm lives in the Notifier component (threshold 0: any error), not in RegionAlarms
      out.push({ name: fn === 'notifier' ? `notifier-${r}-errors` : `alarms-${r}-${fn}-errors`, region: r, namespace: 'AWS/Lambda', metricName: 'Errors', dimensions: dims, statistic: 'Sum', threshold: fn === 'notifier' ? 0 : t.functionErrorsPerMinute });
      out.push({ name: `alarms-${r}-${fn}-throttles`, region: r, namespace: 'AWS/Lambda', metricName: 'Throttles', dimensions: dims, statistic: 'Sum', threshold: t.functionThrottlesPerMinute });
    }
  }
  return out;
}

const statisticOf = (a: Recorded): string => a.inputs.extendedStatistic ?? a.inputs.statistic;

function check(run: ProgramRun, regions: string[], t = DEFAULT_ALARM_THRESHOLDS): void {
  const all = ofType(run, 'aws:cloudwatch/metricAlarm:MetricAlarm');
  const want = expected(run, regions, t);
  // every issue-11 alarm is expected, and nothing else is registered by the component
  assert.deepEqual(all.filter((a) => a.name.startsWith('alarms-')).map((a) => a.name).sort(), want.map((w) => w.name).filter((n) => n.startsWith('alarms-')).sort());
  for (const w of want) {
    const a = all.find((x) => x.name === w.name);
    assert.ok(a, `${w.name} missing`);
    assert.deepEqual(
      { region: a.region, namespace: a.inputs.namespace, metricName: a.inputs.metricName, dimensions: a.inputs.dimensions, statistic: statisticOf(a), threshold: a.inputs.threshold },
      { region: w.region, namespace: w.namespace, metricName: w.metricName, dimensions: w.dimensions, statistic: w.statistic, threshold: w.threshold },
      w.name,
    );
    // a percentile is an extended statistic: CloudWatch refuses both fields at once
    assert.ok(!(a.inputs.statistic && a.inputs.extendedStatistic), `${w.name}: statistic and extendedStatistic`);
    const topic = named(run, `notifier-${w.region}-alarms`).state.arn;
    assert.deepEqual([a.inputs.alarmActions, a.inputs.okActions], [[topic], [topic]], `${w.name} goes to ${w.region}'s topic`);
    assert.equal(a.inputs.comparisonOperator, 'GreaterThanThreshold', w.name);
  }
}

describe('alarms: a region going bad is seen first', function () {
  this.timeout(120_000);

  it('3 regions: replication latency for all 6 pairs (average, maximum) in the source region, API errors and p99, function errors and throttles, each to its region\'s topic', async () => {
    const run = await run3();
    check(run, R);
    const pairs = ofType(run, 'aws:cloudwatch/metricAlarm:MetricAlarm').filter((a) => a.inputs.metricName === 'ReplicationLatency');
    assert.equal(pairs.length, R.length * (R.length - 1) * 2);
    // the e-mail subscription of each region's topic covers the new alarms too
    for (const r of R) assert.equal(named(run, `notifier-${r}-alarms-email`).inputs.endpoint, 'ops@example.com');
  });

  it('1 region: no replication pairs, every other alarm', async () => {
    const run = await cachedRun({ regions: 'eu-west-1' });
    check(run, ['eu-west-1']);
    assert.equal(ofType(run, 'aws:cloudwatch/metricAlarm:MetricAlarm').filter((a) => a.inputs.metricName === 'ReplicationLatency').length, 0);
  });

  it('thresholds come from the `alarms` config; unset ones keep their defaults', async () => {
    const regions = ['eu-west-1', 'ap-southeast-2'];
    const set = { replicationLatencyAverageMs: 1_500, appsyncLatencyP99Ms: 750, functionThrottlesPerMinute: 3 };
    const run = await cachedRun({ regions: JSON.stringify(regions), alarms: JSON.stringify(set) });
    check(run, regions, { ...DEFAULT_ALARM_THRESHOLDS, ...set });
    assert.equal(named(run, 'alarms-eu-west-1-replication-ap-southeast-2-average').inputs.threshold, 1_500);
    assert.equal(named(run, 'alarms-ap-southeast-2-rest-latency-p99').inputs.threshold, DEFAULT_ALARM_THRESHOLDS.apiGatewayLatencyP99Ms);
  });
});
