/**
 * Consistency and drills under Pulumi mocks: `consistency: strong` (both MRSC shapes: three regions of one set, two
 * plus a witness; the refused ones, with the set of each region named and nothing registered), CONSISTENCY in every
 * function and `consistency` in every resolver's settings, and the FIS drill templates per region with their role's
 * scope, targets, parameters and stop conditions (the real alarm ARNs the run registered).
 */
import assert from 'node:assert/strict';
import { ConfigError } from '../../config';
import { mrscProblems, regionSetOf } from '../../config/consistency';
import { isoMinutes } from '../../config/drills';
import { cachedRun, lastRun, named, ofType, type ProgramRun, type Recorded, runProgram } from '../../scripts/mockCloud';

const US3 = ['us-east-1', 'us-east-2', 'us-west-2'];
const EU2 = ['eu-west-1', 'eu-central-1'];

function tables(run: ProgramRun): Recorded[] {
  return ofType(run, 'aws:dynamodb/table:Table');
}

function policyOf(run: ProgramRun, name: string): { Action: string[]; Resource: string[] }[] {
  return JSON.parse(named(run, name).inputs.policy as string).Statement;
}

/** The stream enablers' invocations (the readiness gates', components/regionReady.ts, are every stack's). */
const enables = (run: ProgramRun): Recorded[] => ofType(run, 'aws:lambda/invocation:Invocation').filter((i) => i.name.startsWith('tables-items-stream-'));

describe('consistency strong (MRSC) under mocks', function () {
  this.timeout(60_000);

  it('three regions of the US set: every replica STRONG, no witness, streams on; CONSISTENCY=strong everywhere', async () => {
    const run = await runProgram({ regions: US3.join(','), consistency: 'strong' });
    assert.equal(tables(run).length, 2);
    for (const t of tables(run)) {
      assert.equal(t.region, 'us-east-1', 'the tables live in homeRegion');
      assert.deepEqual(t.inputs.replicas.map((r: { regionName: string; consistencyMode: string }) => [r.regionName, r.consistencyMode]), [['us-east-2', 'STRONG'], ['us-west-2', 'STRONG']]);
      assert.equal(t.inputs.globalTableWitness, undefined);
      assert.equal(t.inputs.streamEnabled, true);
      assert.equal(t.inputs.streamViewType, 'NEW_AND_OLD_IMAGES');
      assert.equal(t.inputs.ttl, undefined);
    }
    // the app's five functions per region, and a stream enabler in each replica region (no app environment); the
    // readiness gates (components/regionReady.ts, no app environment either) are not the app's
    const fns = ofType(run, 'aws:lambda/function:Function').filter((f) => !f.name.startsWith('ready-'));
    const enablers = fns.filter((f) => f.name.startsWith('tables-items-stream-'));
    assert.deepEqual(enablers.map((f) => f.region).sort(), ['us-east-2', 'us-west-2']);
    assert.equal(fns.length - enablers.length, 3 * 5);
    for (const f of fns.filter((x) => !enablers.includes(x))) assert.equal(f.inputs.environment.variables.CONSISTENCY, 'strong', f.name);
    assert.equal(run.outputs.consistency, 'strong');
  });

  it("every region's notifier reads its own replica's stream, from a source that exists under MRSC", async () => {
    const run = await cachedRun({ regions: US3.join(','), consistency: 'strong' });
    const items = named(run, 'tables-items');
    // the provider turns on the home replica's stream only (terraform-provider-aws#48213): the others' are empty
    assert.match(items.state.streamArn, /^arn:aws:dynamodb:us-east-1:.*\/stream\//);
    assert.deepEqual(items.state.replicas.map((r: { regionName: string; streamArn: string }) => [r.regionName, r.streamArn]), [['us-east-2', ''], ['us-west-2', '']]);
    const mapping = (r: string) => named(run, `notifier-${r}-stream`);
    assert.equal(mapping('us-east-1').inputs.eventSourceArn, items.state.streamArn);
    for (const r of ['us-east-2', 'us-west-2']) {
      const replicaArn = `arn:aws:dynamodb:${r}:123456789012:table/${items.inputs.name}`;
      assert.equal(mapping(r).inputs.eventSourceArn, `${replicaArn}/stream/2026-01-01T00:00:00.000`, `${r}: its own replica's stream`);
      assert.equal(mapping(r).region, r);
      // 1. the stream enabler, in r, through r's provider, may describe and update that replica only...
      const fn = named(run, `tables-items-stream-${r}-enabler`);
      assert.equal(fn.region, r);
      assert.deepEqual(policyOf(run, `tables-items-stream-${r}-enabler-policy`).filter((st) => st.Action.some((a) => a.startsWith('dynamodb:'))), [
        { Effect: 'Allow', Action: ['dynamodb:DescribeTable', 'dynamodb:UpdateTable'], Resource: [replicaArn] },
      ]);
      // ...and is invoked once by the deployment with the table and the view type
      const inv = named(run, `tables-items-stream-${r}-enable`);
      assert.equal(inv.region, r);
      assert.equal(inv.inputs.functionName, fn.state.name);
      assert.deepEqual(JSON.parse(inv.inputs.input), { tableName: items.inputs.name, streamViewType: 'NEW_AND_OLD_IMAGES' });
      // 2. the ARN is read back in r (DescribeTable there), after the enabler ran
      const reads = run.invokes.filter((i) => i.token === 'aws:dynamodb/getTable:getTable' && i.provider?.includes(`::aws-${r}::`));
      assert.deepEqual(reads.map((i) => i.inputs.name), [items.inputs.name]);
    }
    assert.equal(enables(run).length, 2, 'nothing for the home region, nothing for app-config');
  });

  it('a replica whose stream is off although its enabler ran: the error names the Invocation to replace (a refresh would not re-run it)', async () => {
    // DescribeTable in us-west-2 shows no stream after the enabler's Invocation (created once; CREATE_ONLY)
    const run = runProgram({ regions: US3.join(','), consistency: 'strong' }, 'dev', {
      invoke: (token, _inputs, result) => (token === 'aws:dynamodb/getTable:getTable' && result.region === 'us-west-2' ? { ...result, streamEnabled: false, streamArn: '', streamLabel: '' } : result),
    });
    const err = await run.then(
      () => assert.fail('the run succeeded'),
      (e: Error) => e,
    );
    // the Invocation's own URN (invocation.urn). Pulumi's mocks qualify a type by its parent's type only
    // (@pulumi/pulumi runtime/mocks.js newUrn); the engine prefixes every ancestor's (GlobalTable$ReplicaStream$...)
    const invocation = 'global-appsync:index:ReplicaStream$aws:lambda/invocation:Invocation::tables-items-stream-us-west-2-enable';
    assert.match(err.message, /table global-appsync-dev-items: streamArn \(DescribeTable in us-west-2, after the stream enabler\) is empty for us-west-2, so us-west-2's notifier has no stream to read\./);
    assert.ok(err.message.includes(`run \`pulumi up --replace 'urn:pulumi:dev::global-appsync::${invocation}'\``), err.message);
    assert.doesNotMatch(err.message, /pulumi refresh`, then/);
    // the URN named is the Invocation the run registered, in that region
    const inv = lastRun().resources.find((r) => r.name === 'tables-items-stream-us-west-2-enable');
    assert.equal(inv?.region, 'us-west-2');
  });

  it('two EU regions + witness: one STRONG replica and globalTableWitness', async () => {
    const run = await runProgram({ regions: EU2.join(','), consistency: 'strong', witnessRegion: 'eu-west-2' });
    for (const t of tables(run)) {
      assert.deepEqual(t.inputs.replicas.map((r: { regionName: string; consistencyMode: string }) => [r.regionName, r.consistencyMode]), [['eu-central-1', 'STRONG']]);
      assert.deepEqual(t.inputs.globalTableWitness, { regionName: 'eu-west-2' });
    }
    // the witness hosts nothing of ours: no provider, no function there
    assert.ok(!run.resources.some((r) => r.region === 'eu-west-2'));
    // the one replica region gets its stream turned on and read there
    assert.deepEqual(enables(run).map((i) => i.region), ['eu-central-1']);
    assert.match(named(run, 'notifier-eu-central-1-stream').inputs.eventSourceArn, /^arn:aws:dynamodb:eu-central-1:.*\/stream\//);
  });

  it('eventual (the default): no consistencyMode, no witness, CONSISTENCY=eventual', async () => {
    const run = await cachedRun({ regions: 'eu-west-1,ap-southeast-2' }); // shared with 'drills off' below
    for (const t of tables(run)) {
      assert.ok(t.inputs.replicas.every((r: { consistencyMode?: string }) => r.consistencyMode === undefined));
      assert.equal(t.inputs.globalTableWitness, undefined);
    }
    for (const f of ofType(run, 'aws:lambda/function:Function').filter((x) => !x.name.startsWith('ready-'))) assert.equal(f.inputs.environment.variables.CONSISTENCY, 'eventual');
    // MREC replicas carry the table's stream and the provider reports it: no enabler, replicas[].streamArn is used
    assert.equal(enables(run).length, 0);
    const items = named(run, 'tables-items');
    assert.equal(named(run, 'notifier-ap-southeast-2-stream').inputs.eventSourceArn, items.state.replicas[0].streamArn);
    assert.match(items.state.replicas[0].streamArn, /^arn:aws:dynamodb:ap-southeast-2:/);
  });

  const refused: Array<{ what: string; raw: Record<string, string>; key: string; says: RegExp }> = [
    { what: 'regions of two sets', raw: { regions: 'us-east-1,us-east-2,eu-west-1', consistency: 'strong' }, key: 'regions', says: /us-east-1 is in the US region set, us-east-2 is in the US region set, eu-west-1 is in the EU region set: an MRSC table cannot span region sets/ },
    { what: 'a region in no set', raw: { regions: 'eu-west-1,eu-west-2,ap-southeast-2', consistency: 'strong' }, key: 'regions[2]', says: /ap-southeast-2 is in no MRSC region set/ },
    { what: 'two regions without a witness', raw: { regions: 'eu-west-1,eu-west-2', consistency: 'strong' }, key: 'witnessRegion', says: /required with two regions .*the EU set that is not in regions \(eu-west-3, eu-central-1\)/ },
    { what: 'witness of another set', raw: { regions: 'eu-west-1,eu-west-2', consistency: 'strong', witnessRegion: 'us-east-1' }, key: 'witnessRegion', says: /us-east-1 is in the US region set, but eu-west-1 is in the EU region set, eu-west-2 is in the EU region set: the witness must be in the same region set/ },
    { what: 'witness that is one of the regions', raw: { regions: 'eu-west-1,eu-west-2', consistency: 'strong', witnessRegion: 'eu-west-2' }, key: 'witnessRegion', says: /must be a third region/ },
    { what: 'three regions and a witness', raw: { regions: US3.join(','), consistency: 'strong', witnessRegion: 'us-east-2' }, key: 'witnessRegion', says: /a witness is only for two regions/ },
    { what: 'four regions', raw: { regions: 'eu-west-1,eu-west-2,eu-west-3,eu-central-1', consistency: 'strong' }, key: 'regions', says: /4 regions .*exactly three regions of one MRSC region set, or two plus a witnessRegion/ },
    { what: 'one region', raw: { regions: 'us-east-1', consistency: 'strong' }, key: 'regions', says: /1 region \(us-east-1 is in the US region set\)/ },
    { what: 'a witness without strong', raw: { regions: 'eu-west-1,eu-west-2', witnessRegion: 'eu-west-3' }, key: 'witnessRegion', says: /only with consistency strong/ },
    { what: 'consistency misspelt', raw: { regions: US3.join(','), consistency: 'Strong' }, key: 'consistency', says: /did you mean "strong"\? one of eventual, strong/ },
  ];
  for (const c of refused) {
    it(`refuses ${c.what}, naming the sets, with zero resources`, async () => {
      await assert.rejects(runProgram(c.raw), (e: unknown) => {
        assert.ok(e instanceof ConfigError, String(e));
        const p = e.problems.find((x) => x.key === c.key);
        assert.ok(p, `no problem for ${c.key} in:\n${e.message}`);
        assert.match(p.allowed, c.says);
        return true;
      });
      assert.equal(lastRun().resources.length, 0);
    });
  }

  it('the region sets are the documented ones', () => {
    assert.deepEqual(['us-east-1', 'us-east-2', 'us-west-2', 'eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-central-1', 'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3'].map(regionSetOf), ['US', 'US', 'US', 'EU', 'EU', 'EU', 'EU', 'AP', 'AP', 'AP']);
    assert.equal(regionSetOf('us-west-1'), undefined);
    assert.deepEqual(mrscProblems('strong', ['ap-northeast-1', 'ap-northeast-3'], 'ap-northeast-2'), []);
  });
});

describe('drills (AWS FIS templates) under mocks', function () {
  this.timeout(60_000);
  const R = ['eu-west-1', 'ap-southeast-2'];
  let run: ProgramRun;
  before(async () => {
    run = await runProgram({ regions: R.join(','), drills: '{"pauseMinutes": 15}' });
  });

  it('per region: a pause-replication and a notifier-errors template, ids as stack outputs', () => {
    const templates = ofType(run, 'aws:fis/experimentTemplate:ExperimentTemplate');
    assert.deepEqual(templates.map((t) => `${t.region}:${t.name}`).sort(), R.flatMap((r) => [`${r}:drills-${r}-notifier-errors`, `${r}:drills-${r}-pause-replication`]).sort());
    for (const r of R) {
      assert.deepEqual(run.outputs.drillTemplates[r], { 'pause-replication': `drills-${r}-pause-replication-id`, 'notifier-errors': `drills-${r}-notifier-errors-id` });
    }
  });

  for (const r of R) {
    it(`${r}: pause-replication targets exactly its replicas of both tables for 15 min, stops on its API 5XX alarms`, () => {
      const t = named(run, `drills-${r}-pause-replication`);
      const replicaArns = ['items', 'app-config'].map((suffix) => `arn:aws:dynamodb:${r}:123456789012:table/${named(run, `tables-${suffix}`).inputs.name}`);
      assert.deepEqual(t.inputs.actions, [{ name: 'pause-replication', actionId: 'aws:dynamodb:global-table-pause-replication', parameters: [{ key: 'duration', value: 'PT15M' }], target: { key: 'Tables', value: 'replicas' } }]);
      assert.deepEqual(t.inputs.targets, [{ name: 'replicas', resourceType: 'aws:dynamodb:global-table', resourceArns: replicaArns, selectionMode: 'ALL' }]);
      const alarm = (key: string) => `arn:aws:cloudwatch:${r}:123456789012:alarm:alarms-${r}-${key}`;
      assert.deepEqual(t.inputs.stopConditions, [{ source: 'aws:cloudwatch:alarm', value: alarm('appsync-5xx') }, { source: 'aws:cloudwatch:alarm', value: alarm('rest-5xx') }]);
      assert.equal(t.inputs.roleArn, `arn:aws:iam::123456789012:role/drills-${r}-role`);
      // the role FIS assumes: exactly this region's replicas, notifier and config folder
      assert.equal(JSON.parse(named(run, `drills-${r}-role`).inputs.assumeRolePolicy).Statement[0].Principal.Service, 'fis.amazonaws.com');
      const bucket = named(run, `fis-config-${r}`).state.arn as string;
      assert.deepEqual(policyOf(run, `drills-${r}-policy`), [
        { Effect: 'Allow', Action: ['dynamodb:PutResourcePolicy', 'dynamodb:GetResourcePolicy', 'dynamodb:DeleteResourcePolicy', 'dynamodb:DescribeTable'], Resource: replicaArns },
        { Effect: 'Allow', Action: ['lambda:GetFunction'], Resource: [named(run, `notifier-${r}`).state.arn] },
        { Effect: 'Allow', Action: ['s3:PutObject', 's3:DeleteObject'], Resource: [`${bucket}/FisConfigs/*`] },
        // both actions list tag:GetResources (FIS actions reference), which takes "*" only
        { Effect: 'Allow', Action: ['tag:GetResources'], Resource: ['*'] },
      ]);
    });

    it(`${r}: notifier-errors fails every invocation of its notifier, which carries the FIS extension; stops on API 5XX only (not on the DLQ it fills)`, () => {
      const t = named(run, `drills-${r}-notifier-errors`);
      const fn = named(run, `notifier-${r}`);
      assert.deepEqual(t.inputs.actions[0].parameters, [{ key: 'duration', value: 'PT15M' }, { key: 'invocationPercentage', value: '100' }, { key: 'preventExecution', value: 'true' }]);
      assert.equal(t.inputs.actions[0].actionId, 'aws:lambda:invocation-error');
      assert.deepEqual(t.inputs.targets, [{ name: 'notifier', resourceType: 'aws:lambda:function', resourceArns: [fn.state.arn], selectionMode: 'ALL' }]);
      // records reaching the DLQ are this drill's expected outcome: its depth alarm (threshold 0) would stop every run
      assert.deepEqual(t.inputs.stopConditions.map((s: { value: string }) => s.value.split(':alarm:')[1]), [`alarms-${r}-appsync-5xx`, `alarms-${r}-rest-5xx`]);
      // the extension: layer from the region's public SSM parameter, wrapper + config location, read access to the folder
      assert.deepEqual(fn.inputs.layers, [`arn:aws:lambda:${r}:211125607513:layer:aws-fis-extension-arm64:9`]);
      const bucket = named(run, `fis-config-${r}`).state.arn as string;
      assert.equal(fn.inputs.environment.variables.AWS_FIS_CONFIGURATION_LOCATION, `${bucket}/FisConfigs/`);
      assert.equal(fn.inputs.environment.variables.AWS_LAMBDA_EXEC_WRAPPER, '/opt/aws-fis/bootstrap');
      const st = policyOf(run, `notifier-${r}-policy`);
      assert.ok(st.some((s) => s.Action.join() === 's3:ListBucket' && s.Resource.join() === bucket));
      assert.ok(st.some((s) => s.Action.join() === 's3:GetObject' && s.Resource.join() === `${bucket}/FisConfigs/*`));
      assert.ok(run.invokes.some((i) => i.token === 'aws:ssm/getParameter:getParameter' && i.inputs.name === '/aws/service/fis/lambda-extension/AWS-FIS-extension-arm64/1.x.x'));
    });
  }

  it('pause-replication says what it is: lag under eventual, a regional outage under strong (MRSC)', async () => {
    assert.equal(named(run, 'drills-eu-west-1-pause-replication').inputs.description, 'Pause global table replication into and out of eu-west-1 for 15 min (docs/drills.md)');
    const strong = await runProgram({ regions: US3.join(','), consistency: 'strong', drills: 'true' });
    for (const r of US3) {
      const d = named(strong, `drills-${r}-pause-replication`).inputs.description as string;
      assert.match(d, new RegExp(`regional outage, not lag .*${r} replica refuses writes and strongly consistent reads \\(AccessDeniedException\\).*/health fails and clients move`));
      assert.ok(d.length <= 512, `FIS description limit: ${d.length}`);
      assert.deepEqual(named(strong, `drills-${r}-notifier-errors`).inputs.stopConditions.length, 2);
    }
  });

  it('drills off (default): no templates, no bucket, no layer', async () => {
    const off = await cachedRun({ regions: R.join(',') });
    assert.equal(ofType(off, 'aws:fis/experimentTemplate:ExperimentTemplate').length, 0);
    assert.equal(ofType(off, 'aws:s3/bucket:Bucket').length, 0);
    for (const f of ofType(off, 'aws:lambda/function:Function')) assert.equal(f.inputs.layers, undefined);
    assert.equal(off.outputs.drillTemplates, undefined);
  });

  it('drills: true runs each drill for the default 10 minutes; durations are ISO 8601', async () => {
    const on = await cachedRun({ regions: R.join(','), drills: 'true' });
    for (const drill of ['pause-replication', 'notifier-errors']) assert.equal(named(on, `drills-eu-west-1-${drill}`).inputs.actions[0].parameters[0].value, 'PT10M');
    assert.deepEqual([1, 59, 60, 90, 720].map(isoMinutes), ['PT1M', 'PT59M', 'PT1H', 'PT1H30M', 'PT12H']);
  });

  it('one region: no pause-replication template (no replica to pause), the reason as a stack output; notifier-errors stays', async () => {
    const one = await runProgram({ regions: 'eu-west-1', drills: 'true' });
    assert.deepEqual(ofType(one, 'aws:fis/experimentTemplate:ExperimentTemplate').map((t) => t.name), ['drills-eu-west-1-notifier-errors']);
    assert.deepEqual(Object.keys(one.outputs.drillTemplates['eu-west-1']), ['notifier-errors']);
    assert.match(one.outputs.drillsSkipped['eu-west-1']['pause-replication'], /one-region stack has no replica/);
    // nothing on the table for a drill that does not exist
    assert.deepEqual(policyOf(one, 'drills-eu-west-1-policy').map((s) => s.Action[0]), ['lambda:GetFunction', 's3:PutObject', 'tag:GetResources']);
    assert.equal(run.outputs.drillsSkipped, undefined, 'two regions: nothing skipped');
  });
});
