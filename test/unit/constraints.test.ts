/**
 * Every input the program registers, checked against what AWS's API accepts for it (test/unit/awsConstraints.ts:
 * botocore's service models + rules AWS documents in prose), for 1, 3 and all supported regions and for the
 * longest stack name config.ts accepts. A value AWS would refuse fails here instead of in a user's `pulumi up`.
 */
import assert from 'node:assert/strict';
import { ConfigError, parseConfig, SUPPORTED_REGIONS } from '../../config';
import { cachedRun, type ProgramRun } from '../../scripts/mockCloud';
import { CONSTRAINTS, MAPPINGS, violations } from './awsConstraints';

const DOMAIN = JSON.stringify({ zoneName: 'example.com', name: 'api.example.com' });

/** The longest stack name parseConfig accepts, found by asking it (not typed in). */
function longestStackName(): string {
  let ok = '';
  for (let n = 1; n <= 200; n += 1) {
    const name = 'p'.repeat(n);
    try {
      parseConfig({ regions: 'eu-west-1' }, { stack: name });
      ok = name;
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      break;
    }
  }
  return ok;
}

const report = (run: ProgramRun): string =>
  violations(run.resources)
    .map((v) => `${v.resource}.${v.input} = ${JSON.stringify(v.value)}: ${v.rule}`)
    .join('\n');

describe("AWS's documented input constraints", function () {
  this.timeout(300_000);

  it('the constraints file is botocore output for every mapped member', () => {
    assert.match(CONSTRAINTS.botocore, /^\d+\.\d+\.\d+$/);
    assert.match(CONSTRAINTS.extracted, /^\d{4}-\d\d-\d\d$/);
    // the rule from issue 8 item 1 (IAM descriptions: Latin-1 only) comes out of the model, not from us
    assert.equal(CONSTRAINTS.members['iam:CreateRole.Description'].pattern, '[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]*');
    assert.equal(CONSTRAINTS.members['iam:CreateRole.Description'].max, 1000);
    for (const m of Object.values(MAPPINGS)) if (Array.isArray(m)) for (const x of m) assert.ok(CONSTRAINTS.members[x.member], x.member);
  });

  it('catches what AWS refuses: a non-Latin-1 IAM description, a 65-character function name, an 81-character queue name', () => {
    const rec = (type: string, name: string, inputs: Record<string, unknown>) => ({ type, name, inputs, custom: true }) as never;
    const v = violations([
      rec('aws:iam/role:Role', 'r', { description: 'items stream → AppSync', assumeRolePolicy: '{}' }),
      rec('aws:lambda/function:Function', 'f', { name: 'f'.repeat(65) }),
      rec('aws:sqs/queue:Queue', 'q'.repeat(73), {}),
    ]);
    assert.deepEqual(v.map((x) => `${x.resource}.${x.input}`), ['r.description', 'f.name', `${'q'.repeat(73)}.name`]);
  });

  const stack = longestStackName();
  const LONGEST_REGIONS = ['us-east-1', ...[...SUPPORTED_REGIONS].filter((r) => r !== 'us-east-1').sort((a, b) => b.length - a.length || a.localeCompare(b)).slice(0, 6)];
  const configs: Array<[string, Record<string, string>, string]> = [
    ['1 region', { regions: 'eu-west-1' }, 'dev'],
    [
      '3 regions with a domain, primary mode, WAF and a quota, longest stack name',
      { regions: 'us-east-1,eu-west-1,ap-southeast-2', domain: DOMAIN, writeMode: 'primary', alarmEmail: 'ops@example.com', waf: 'true', throttle: '{"rateLimit":10,"burstLimit":10,"quotaPerDay":1}' },
      stack,
    ],
    ['3 regions of the US set, strong consistency, drills, longest stack name', { regions: 'us-east-1,us-east-2,us-west-2', consistency: 'strong', drills: '{"pauseMinutes":720}' }, stack],
    // Inputs vary by region only through the region's name (all of them [a-z0-9-]), so the longest names make the
    // longest inputs: the six longest supported names (14 characters, as ap-northeast-1) stand for all
    // (every supported region took 28 s of the suite's 3-minute budget; topology.test.ts covers counts for N regions).
    ['the six longest supported region names with a domain, longest stack name', { regions: JSON.stringify(LONGEST_REGIONS), homeRegion: 'us-east-1', domain: DOMAIN }, stack],
  ];
  for (const [what, config, stackName] of configs) {
    it(`${what}: no input AWS would refuse`, async () => {
      assert.ok(stack.length >= 20, `longest stack name: ${stack.length}`);
      const run = await cachedRun(config, stackName);
      assert.equal(report(run), '');
    });
  }
});
