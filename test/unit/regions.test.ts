/**
 * Region lifecycle and the failures AWS can hand back: draining (drainRegions), regions where a service is
 * missing, the home region's error, an empty replica stream ARN, ACM validation records per certificate.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { AWS_REGIONS, ConfigError, OPT_IN_REGIONS, parseConfig, SUPPORTED_REGIONS } from '../../config';
import { missingServices } from '../../config/regions';
import { validationRecordFor } from '../../components/globalRouting';
import { cachedRun, diffRuns, named, ofType, runProgram } from '../../scripts/mockCloud';

const R = ['eu-west-1', 'ap-southeast-2', 'us-west-2'];
const DOMAIN = JSON.stringify({ zoneName: 'example.com', name: 'api.example.com' });
const problems = (raw: Record<string, string>): ConfigError => {
  try {
    parseConfig(raw, { stack: 'dev' });
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  assert.fail(`accepted ${JSON.stringify(raw)}`);
};

describe('regions: drain, availability, failures', function () {
  this.timeout(120_000);

  it('opt-in regions: one list, all AWS regions, and the prerequisites in docs/deploying.md name exactly those', () => {
    assert.deepEqual(OPT_IN_REGIONS.filter((r) => !AWS_REGIONS.includes(r)), []);
    const doc = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'deploying.md'), 'utf8');
    const listed = /\*\*Opt-in regions\*\* \(([^:]+):/.exec(doc)?.[1];
    assert.ok(listed, 'docs/deploying.md has the opt-in list');
    assert.deepEqual(listed.split(',').map((r) => r.trim()), [...OPT_IN_REGIONS]);
  });

  it('drainRegions: the region stays deployed, its health λ gets DRAIN=true and only its latency record goes', async () => {
    const base = { regions: JSON.stringify(R), homeRegion: R[0], domain: DOMAIN };
    const before = await cachedRun(base);
    const after = await cachedRun({ ...base, drainRegions: JSON.stringify([R[1]]) });
    const d = diffRuns(before, after);
    assert.deepEqual(d.added, []);
    assert.deepEqual(d.removed, [`routing-${R[1]}-latency`]);
    // its readiness gate stops waiting for /health; `drained` is a trigger, so undraining runs the gate again first
    assert.deepEqual(d.changed, { [`api-${R[1]}-health`]: ['environment'], [`routing-${R[1]}-health-alarm`]: ['actionsEnabled'], [`ready-${R[1]}-wait`]: ['input', 'triggers'] });
    assert.equal(JSON.parse(named(after, `ready-${R[1]}-wait`).inputs.input).drained, true);
    assert.equal(named(after, `routing-${R[1]}-health-alarm`).inputs.actionsEnabled, false, 'a planned drain pages nobody');
    assert.equal(named(after, `routing-${R[0]}-health-alarm`).inputs.actionsEnabled, true);
    assert.equal(named(after, `api-${R[1]}-health`).inputs.environment.variables.DRAIN, 'true');
    for (const r of [R[0], R[2]]) assert.equal(named(after, `api-${r}-health`).inputs.environment.variables.DRAIN, 'false');
    assert.deepEqual(after.outputs.drainedRegions, [R[1]]);
  });

  it('drainRegions must name deployed regions and leave one routed; the error gives the removal procedure', () => {
    const e = problems({ regions: R.join(','), drainRegions: 'eu-central-1' });
    assert.match(e.message, /drainRegions\[0\]: "eu-central-1" — must be one of regions .*add it to drainRegions, pulumi up, then remove it/);
    assert.match(problems({ regions: 'eu-west-1,ap-southeast-2', drainRegions: 'eu-west-1,ap-southeast-2' }).message, /at least one region must stay routed/);
  });

  it('a region of the aws partition without AppSync is refused, naming the missing service and the source', () => {
    const lacking = AWS_REGIONS.filter((r) => !SUPPORTED_REGIONS.includes(r));
    assert.ok(lacking.length > 0 && SUPPORTED_REGIONS.length > 25, `${lacking.length} lacking, ${SUPPORTED_REGIONS.length} supported`);
    assert.ok(SUPPORTED_REGIONS.includes('eu-west-1') && SUPPORTED_REGIONS.includes('ap-southeast-2'));
    for (const region of lacking) {
      const e = problems({ regions: `eu-west-1,${region}` });
      const line = e.message.split('\n').find((l) => l.startsWith('  - regions[1]: '))!;
      assert.ok(line.includes(`${missingServices(region).join(', ')} not available in ${region}`), line);
      assert.match(line, /botocore [\d.]+ endpoints\.json, extracted \d{4}-\d\d-\d\d/);
    }
    assert.ok(missingServices('mx-central-1').includes('AppSync'));
  });

  it('homeRegion outside regions points at the state-surgery procedure, not at a config edit', () => {
    const line = problems({ regions: 'eu-west-1,ap-southeast-2', homeRegion: 'us-east-1' }).message.split('\n').find((l) => l.includes('homeRegion'))!;
    assert.match(line, /Retiring the home region" in docs\/operations\.md, section "The home region".*pulumi state delete.*pulumi import/);
  });

  it('an empty replicas[].streamArn fails the program with a clear message instead of mapping an empty ARN', async () => {
    await assert.rejects(
      runProgram({ regions: R.join(',') }, 'dev', {
        state: (type, _name, state) =>
          type === 'aws:dynamodb/table:Table' ? { ...state, replicas: state.replicas.map((r: { regionName: string }) => (r.regionName === R[2] ? { ...r, streamArn: '' } : r)) } : state,
      }),
      /replicas\[us-west-2\]\.streamArn is empty for us-west-2.*pulumi refresh/,
    );
  });

  it('ACM: each validation record comes from the certificates that ask for it, once per name', async () => {
    const run = await cachedRun({ regions: JSON.stringify(R), homeRegion: R[0], domain: DOMAIN });
    const records = ofType(run, 'aws:route53/record:Record').filter((r) => r.name.endsWith('cert-validation'));
    assert.equal(records.length, R.length + 1);
    for (const region of R) {
      const opts = named(run, `routing-${region}-cert`).state.domainValidationOptions as Array<{ domainName: string; resourceRecordName: string; resourceRecordValue: string }>;
      for (const o of opts) {
        const rec = o.domainName === 'api.example.com' ? named(run, 'routing-cert-validation') : named(run, `routing-${region}-cert-validation`);
        assert.deepEqual([rec.inputs.name, rec.inputs.records], [o.resourceRecordName, [o.resourceRecordValue]], `${region} ${o.domainName}`);
      }
    }
  });

  it('ACM: certificates that disagree on a record, or ask for an unknown name, fail the program loudly', async () => {
    await assert.rejects(
      runProgram({ regions: R.join(','), homeRegion: R[0], domain: DOMAIN }, 'dev', {
        state: (type, name, state) =>
          type === 'aws:acm/certificate:Certificate' && name === `routing-${R[2]}-cert`
            ? { ...state, domainValidationOptions: state.domainValidationOptions.map((o: { resourceRecordValue: string }) => ({ ...o, resourceRecordValue: `_other.${o.resourceRecordValue}` })) }
            : state,
      }),
      /ACM asks for 2 different validation records for api\.example\.com.*\(us-west-2\)/,
    );
    const dvo = (domainName: string) => ({ domainName, resourceRecordName: `_x.${domainName}.`, resourceRecordType: 'CNAME', resourceRecordValue: '_y.acm-validations.aws.' });
    assert.throws(() => validationRecordFor('a.example.com', ['a.example.com'], { 'eu-west-1': [dvo('a.example.com'), dvo('b.example.com')] }), /asks to validate b\.example\.com/);
    assert.deepEqual(validationRecordFor('a.example.com', ['a.example.com'], { 'eu-west-1': [dvo('a.example.com')], 'us-west-2': [dvo('a.example.com')] }), {
      name: '_x.a.example.com.',
      type: 'CNAME',
      value: '_y.acm-validations.aws.',
    });
  });
});
