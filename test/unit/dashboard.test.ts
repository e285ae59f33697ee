/**
 * The stack's CloudWatch dashboard under Pulumi mocks: one dashboard, in the home region, with a
 * row per region whose widgets show that region's health, replication latency to every other region, notifier
 * iterator age and DLQ depth, API 5XX errors and p99 latency — each metric with the real ids of the resources it
 * watches and the region CloudWatch publishes it in. Expected lines are written out here, not read from the module.
 */
import assert from 'node:assert/strict';
import { cachedRun, named, ofType, type ProgramRun } from '../../scripts/mockCloud';

// the same configs as alarms.test.ts / security.test.ts, so one process shares the runs
const R = ['eu-west-1', 'ap-southeast-2', 'us-west-2'];
const run3 = (): Promise<ProgramRun> => cachedRun({ regions: JSON.stringify(R), domain: JSON.stringify({ zoneName: 'example.com', name: 'api.example.com' }), alarmEmail: 'ops@example.com' });

interface Widget {
  type: string;
  x: number;
  y: number;
  width: number;
  height: number;
  properties: { title: string; region: string; metrics: unknown[][] };
}

const bodyOf = (run: ProgramRun): { widgets: Widget[] } => {
  const dashboards = ofType(run, 'aws:cloudwatch/dashboard:Dashboard');
  assert.equal(dashboards.length, 1, 'one dashboard for the stack');
  return JSON.parse(dashboards[0].inputs.dashboardBody);
};

/** The one widget of `region` whose title starts with `region: <what>`. */
const widget = (body: { widgets: Widget[] }, region: string, what: string): Widget => {
  const found = body.widgets.filter((w) => w.properties.title.startsWith(`${region}: ${what}`));
  assert.equal(found.length, 1, `${region}: ${what} (${body.widgets.map((w) => w.properties.title).join(' | ')})`);
  return found[0];
};

/** A metric line without its label: [namespace, name, ...dims, {stat, region}] as a comparable string. */
const lines = (w: Widget): string[] =>
  w.properties.metrics.map((m) => {
    const opts = m[m.length - 1] as { stat: string; region: string };
    return JSON.stringify([...m.slice(0, -1), opts.stat, opts.region]);
  });
const line = (...parts: string[]): string => JSON.stringify(parts);

describe('dashboard: one dashboard, a row per region', function () {
  this.timeout(120_000);

  it('3 regions: the dashboard is in the home region; each region\'s health, replication to the others, notifier, API errors and latency', async () => {
    const run = await run3();
    const dashboard = ofType(run, 'aws:cloudwatch/dashboard:Dashboard')[0];
    assert.equal(dashboard.region, R[0], 'home region (regions[0] by default)');
    assert.equal(dashboard.inputs.dashboardName, 'global-appsync-dev');
    const body = bodyOf(run);
    const table = named(run, 'tables-items').inputs.name as string;
    assert.equal(body.widgets.length, R.length * 5);
    for (const r of R) {
      const health = widget(body, r, 'health');
      assert.equal(health.properties.region, 'us-east-1', 'Route53 metrics live in us-east-1');
      assert.deepEqual(lines(health), [line('AWS/Route53', 'HealthCheckStatus', 'HealthCheckId', `${named(run, `routing-${r}-health`).name}-id`, 'Minimum', 'us-east-1')]);

      const replication = widget(body, r, 'items replication latency');
      assert.equal(replication.properties.region, r);
      const others = R.filter((d) => d !== r);
      assert.deepEqual(
        lines(replication).sort(),
        others.flatMap((d) => ['Average', 'Maximum'].map((stat) => line('AWS/DynamoDB', 'ReplicationLatency', 'TableName', table, 'ReceivingRegion', d, stat, r))).sort(),
      );

      const notifier = widget(body, r, 'notifier');
      assert.deepEqual(lines(notifier), [
        line('AWS/Lambda', 'IteratorAge', 'FunctionName', named(run, `notifier-${r}`).state.name, 'Maximum', r),
        line('AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', named(run, `notifier-${r}-dlq`).state.name, 'Maximum', r),
      ]);

      const apiId = `${named(run, `api-${r}-graphql`).name}-id`;
      const restDims = ['ApiName', named(run, `api-${r}-rest`).inputs.name, 'Stage', named(run, `api-${r}-stage`).inputs.stageName];
      assert.deepEqual(lines(widget(body, r, 'API 5XX')), [line('AWS/AppSync', '5XXError', 'GraphQLAPIId', apiId, 'Sum', r), line('AWS/ApiGateway', '5XXError', ...restDims, 'Sum', r)]);
      assert.deepEqual(lines(widget(body, r, 'API latency p99')), [line('AWS/AppSync', 'Latency', 'GraphQLAPIId', apiId, 'p99', r), line('AWS/ApiGateway', 'Latency', ...restDims, 'p99', r)]);
      for (const w of body.widgets.filter((x) => x.properties.title.startsWith(`${r}:`))) assert.ok(w.x + w.width <= 24, `${w.properties.title} fits the 24-column grid`);
    }
    // one row per region: widgets of two regions never share a row
    const rows = new Map(R.map((r) => [r, new Set(body.widgets.filter((w) => w.properties.title.startsWith(`${r}:`)).map((w) => w.y))]));
    for (const r of R) assert.equal(rows.get(r)!.size, 1, r);
    assert.equal(new Set(R.map((r) => [...rows.get(r)!][0])).size, R.length);
  });

  it('reordering regions does not change the dashboard; one region has no replication widget', async () => {
    const a = await cachedRun({ regions: JSON.stringify(R), homeRegion: R[0] });
    const b = await cachedRun({ regions: JSON.stringify([R[2], R[0], R[1]]), homeRegion: R[0] });
    const [before, after] = [a, b].map((run) => ofType(run, 'aws:cloudwatch/dashboard:Dashboard')[0].inputs.dashboardBody as string);
    assert.ok(before === after, 'the dashboard body changed when regions were reordered'); // (no 30 kB diff in the output)
    const one = bodyOf(await cachedRun({ regions: 'eu-west-1' }));
    assert.deepEqual(one.widgets.map((w) => w.properties.title.replace(/ \(.*\)$/, '')), ['eu-west-1: health', 'eu-west-1: notifier', 'eu-west-1: API 5XX errors', 'eu-west-1: API latency p99']);
  });
});
