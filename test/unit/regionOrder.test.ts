/**
 * Routing waits for the data, proven from the dependency graph the program registers under Pulumi mocks: for every
 * region — the ones a stack starts with and one added to it — the Route53 latency record and the health check depend,
 * directly or transitively, on the resources holding that region's replica of both tables (the Table resources:
 * replicas are inline), and the latency record on the region's readiness gate, which describes both replicas IN that
 * region and polls that region's /health. Each dependency edge is what the mock monitor received (dependsOn plus
 * the resources the inputs came from), resolved by URN; nothing is inferred from names.
 */
import assert from 'node:assert/strict';
import { readStackFile } from '../../config';
import { HEALTH_CHECK } from '../../components/healthCheck';
import { cachedRun, ofType, type ProgramRun, type Recorded } from '../../scripts/mockCloud';
import { addedRegionOrder, diffPlans } from '../../scripts/planDiff';

const DOMAIN = JSON.stringify({ zoneName: 'example.com', name: 'api.example.com' });
const BASE = ['eu-west-1', 'ap-southeast-2'];
const ADDED = 'us-west-2';

/** A URN's (type, name): `urn:pulumi:<stack>::<project>::<parent types $>type::name`. */
function keyOfUrn(urn: string): string {
  const parts = urn.split('::');
  const name = parts[parts.length - 1];
  const types = parts[parts.length - 2].split('$');
  return `${types[types.length - 1]}::${name}`;
}
const keyOf = (r: Recorded): string => `${r.type}::${r.name}`;

/** Every resource `start` depends on, directly or through others (dependency URNs resolved to recorded resources). */
function dependencyClosure(run: ProgramRun, start: Recorded): Recorded[] {
  const byKey = new Map(run.resources.map((r) => [keyOf(r), r]));
  const seen = new Set<string>();
  const todo = [...start.dependencies];
  while (todo.length > 0) {
    const k = keyOfUrn(todo.pop() as string);
    if (seen.has(k)) continue;
    seen.add(k);
    const r = byKey.get(k);
    if (!r) throw new Error(`${start.name} depends on ${k}, which the run did not register`);
    todo.push(...r.dependencies);
  }
  return [...seen].map((k) => byKey.get(k) as Recorded);
}

function assertRoutingWaits(run: ProgramRun, region: string): void {
  const tables = ofType(run, 'aws:dynamodb/table:Table');
  assert.equal(tables.length, 2, 'the items and app-config tables');
  for (const t of tables) assert.ok(t.inputs.replicas.some((x: { regionName: string }) => x.regionName === region) || t.region === region, `${t.name} has a replica in ${region}`);
  const tableNames = tables.map((t) => t.inputs.name as string).sort();

  const record = ofType(run, 'aws:route53/record:Record').find((r) => r.inputs.setIdentifier === region && r.inputs.latencyRoutingPolicies);
  const check = ofType(run, 'aws:route53/healthCheck:HealthCheck').find((r) => r.region === region);
  assert.ok(record && check, `${region}: a latency record and a health check`);
  assert.equal(record.inputs.healthCheckId, `${check.name}-id`, `${region}: the record carries its health check`);

  const onRecord = dependencyClosure(run, record);
  const onCheck = dependencyClosure(run, check);
  for (const t of tables) {
    assert.ok(onRecord.includes(t), `${region}: the latency record does not depend on ${t.name} (its replica)`);
    assert.ok(onCheck.includes(t), `${region}: the health check does not depend on ${t.name} (its replica)`);
  }
  // the gate: an Invocation in this region (its provider), after both tables, describing both tables there and
  // polling the very path the health check polls
  const gates = onRecord.filter((r) => r.type === 'aws:lambda/invocation:Invocation');
  assert.equal(gates.length, 1, `${region}: one readiness gate before the latency record, got ${gates.map((g) => g.name).join(', ') || 'none'}`);
  const gate = gates[0];
  assert.equal(gate.region, region, `${region}: the gate runs in its own region`);
  for (const t of tables) assert.ok(dependencyClosure(run, gate).includes(t), `${region}: the gate does not wait for ${t.name}`);
  const input = JSON.parse(gate.inputs.input) as { tables: string[]; healthUrl: string; passes: number };
  assert.deepEqual([...input.tables].sort(), tableNames);
  assert.equal(input.healthUrl, `https://${check.inputs.fqdn}${check.inputs.resourcePath}`, `${region}: the gate polls what Route53 polls`);
  assert.equal(input.passes, HEALTH_CHECK.failureThreshold);
  assert.equal(JSON.parse(gate.state.result).region, region);
  // the gate's function may describe this region's replicas and nothing else
  const policy = ofType(run, 'aws:iam/rolePolicy:RolePolicy').find((p) => p.region === region && p.name.startsWith(`ready-${region}-`));
  assert.ok(policy, `${region}: the gate's policy`);
  const describe = (JSON.parse(policy.inputs.policy) as { Statement: { Action: string[]; Resource: string[] }[] }).Statement.find((s) => s.Action.includes('dynamodb:DescribeTable'));
  assert.deepEqual(describe?.Resource.slice().sort(), tableNames.map((n) => `arn:aws:dynamodb:${region}:123456789012:table/${n}`).sort());
}

describe('routing waits for the data (dependency graph under Pulumi mocks)', function () {
  this.timeout(120_000);
  const cfg = (regions: string[]): Record<string, string> => ({ regions: JSON.stringify(regions), domain: DOMAIN });

  it('every region of a stack: latency record and health check depend on its replica of both tables, the record on its gate', async () => {
    const run = await cachedRun(cfg(BASE));
    for (const region of BASE) assertRoutingWaits(run, region);
  });

  it('a region added to a running stack: the same order, and plan --diff says it in one line', async () => {
    const before = await cachedRun(cfg(BASE));
    const after = await cachedRun(cfg([...BASE, ADDED]));
    assertRoutingWaits(after, ADDED);
    const d = diffPlans(before, after);
    // the replicas come as an in-place update of both tables; the new region's gate and record are created
    for (const t of ['tables-items', 'tables-app-config']) assert.equal(d.regions[BASE[0]].find((c) => c.name === t)?.action, 'update');
    const created = d.regions[ADDED].filter((c) => c.action === 'create').map((c) => c.name);
    assert.ok(created.includes(`ready-${ADDED}-wait`) && created.includes(`routing-${ADDED}-latency`), created.join(', '));
    const line = addedRegionOrder(d, before, after);
    assert.equal(line.length, 1);
    assert.match(line[0], new RegExp(`^${ADDED}: replica of tables-items, tables-app-config first \\(filled and ACTIVE\\), then \\d+ API/function resources, then routing once healthy \\(ready-${ADDED}-wait, then routing-${ADDED}-latency\\)`));
    // nothing added: no line
    assert.deepEqual(addedRegionOrder(diffPlans(before, before), before, before), []);
  });

  it('the real prod stack: every region waits', async () => {
    const prod = readStackFile('prod');
    const run = await cachedRun(prod, 'prod');
    for (const region of JSON.parse(prod['global-appsync:regions'] ?? '[]') as string[]) assertRoutingWaits(run, region);
  });
});
