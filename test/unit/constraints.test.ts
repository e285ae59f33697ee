/**
 * Every input the program registers, checked against what AWS's API accepts for it (test/unit/awsConstraints.ts:
 * botocore's service models + rules AWS documents in prose), for 1, 3 and all supported regions and for the
 * longest stack name config/ accepts. A value AWS would refuse fails here instead of in a user's `pulumi up`.
 */
import assert from 'node:assert/strict';
import { ConfigError, parseConfig, SUPPORTED_REGIONS } from '../../config';
import { dashboardBody } from '../../components/dashboard';
import { cachedRun, ofType, runProgram, type ProgramRun } from '../../scripts/mockCloud';
import { CONSTRAINTS, DASHBOARD_LIMITS, dashboardBodyProblem, MAPPINGS, TAG_MEMBERS, violations } from './awsConstraints';
import { resourceSchema } from './providerSchema';

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
    // IAM descriptions are Latin-1 only: that rule comes out of the model, not from us
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

  const rec = (type: string, name: string, inputs: Record<string, unknown>, provider?: string) => ({ type, name, inputs, custom: true, ...(provider ? { provider } : {}) }) as never;
  const flagged = (v: ReturnType<typeof violations>): string[] => [...new Set(v.map((x) => `${x.resource}.${x.input}`))];

  it('S3 bucket names: the reserved prefixes and suffixes, adjacent periods, IP addresses, upper case', () => {
    const bad = ['xn--bucket', 'sthree-bucket', 'amzn-s3-demo-bucket', 'bucket-s3alias', 'bucket--ol-s3', 'bucket.mrap', 'bucket--x-s3', 'bucket--table-s3', 'my..bucket', '192.168.5.4', 'My-Bucket', 'ab'];
    const v = violations(bad.map((b) => rec('aws:s3/bucket:Bucket', b, { bucket: b })));
    assert.deepEqual(flagged(v), bad.map((b) => `${b}.bucket`));
    assert.match(v.find((x) => x.resource === 'xn--bucket')!.rule, /the prefix xn-- is reserved .*bucketnamingrules/);
    assert.match(v.find((x) => x.resource === 'my..bucket')!.rule, /two adjacent periods/);
    assert.deepEqual(violations([rec('aws:s3/bucket:Bucket', 'ok', { bucket: 'fis-config-ap-northeast-1-a1b2c3d' })]), []);
  });

  it('tags, by each service\'s rule: S3 (no comma), WAF and FIS (characters, lengths), Route53 (lengths), DynamoDB (no @), API Gateway (no aws: prefix)', () => {
    const v = violations([
      rec('aws:s3/bucket:Bucket', 'b', { bucket: 'b-bucket', tags: { purpose: 'AWS FIS fault configs, us-east-1' } }),
      rec('aws:wafv2/webAcl:WebAcl', 'w', { name: 'w', tags: { 'team#1': 'x' } }),
      rec('aws:fis/experimentTemplate:ExperimentTemplate', 'f', { description: 'd', tags: { Name: 'n'.repeat(257) } }),
      rec('aws:route53/healthCheck:HealthCheck', 'h', { tags: { ['k'.repeat(129)]: 'v' } }),
      rec('aws:dynamodb/table:Table', 't', { name: 'table', tags: { owner: 'ops@example.com' } }),
      rec('aws:apigateway/stage:Stage', 's', { stageName: 'live', tags: { 'aws:owner': 'me' } }),
      rec('aws:lambda/function:Function', 'ok', { name: 'fn', tags: { Name: 'notifier eu-west-1 /health +=.:_-@' } }),
    ]);
    assert.deepEqual(flagged(v), ['b.tags.purpose', 'w.tags{key}', 'f.tags.Name', 'h.tags{key}', 't.tags.owner', 's.tags{key}']);
    assert.ok(v.some((x) => x.resource === 'b' && x.rule.includes('s3control TagResource')), 'S3 Control\'s model rule');
    assert.ok(v.some((x) => x.resource === 'b' && x.rule.includes('API_control_S3Tag.html')), 'S3 Control\'s S3Tag rule, on the page that states it');
    assert.ok(v.some((x) => x.resource === 'f' && /length ≤ 256, is 257/.test(x.rule)));
    assert.ok(v.some((x) => x.resource === 't' && x.rule.includes('TaggingRestrictions')));
  });

  it('every taggable resource type the program registers has a tag rule (the provider\'s defaultTags reach each of them)', () => {
    for (const type of Object.keys(MAPPINGS)) {
      if (resourceSchema(type).props.tags) assert.ok(TAG_MEMBERS[type], `${type} takes tags`);
    }
    assert.throws(() => violations([rec('aws:cloudwatch/compositeAlarm:CompositeAlarm', 'c', {})]), /no AWS constraint mapping/);
  });

  it('usage plan throttle and quota ranges, Lambda\'s 4 KB environment, WAF evaluation windows, dashboard names and bodies', () => {
    const v = violations([
      rec('aws:apigateway/usagePlan:UsagePlan', 'p', { name: 'p', throttleSettings: { rateLimit: 20_000, burstLimit: 1.5 }, quotaSettings: { limit: -1, offset: -1, period: 'YEAR' } }),
      rec('aws:lambda/function:Function', 'f', { name: 'f', environment: { variables: { AB: 'x'.repeat(4089) } } }),
      rec('aws:wafv2/webAcl:WebAcl', 'w', { name: 'w', rules: [{ name: 'r', statement: { rateBasedStatement: { limit: 100, evaluationWindowSec: 180 } } }] }),
      rec('aws:cloudwatch/dashboard:Dashboard', 'd', { dashboardName: 'global appsync', dashboardBody: JSON.stringify({ widgets: Array.from({ length: 501 }, () => ({ properties: { metrics: [] } })) }) }),
    ]);
    assert.deepEqual(flagged(v), [
      'p.throttleSettings.rateLimit',
      'p.throttleSettings.burstLimit',
      'p.quotaSettings.limit',
      'p.quotaSettings.offset',
      'p.quotaSettings.period',
      'f.environment.variables',
      'w.rules[].statement.rateBasedStatement.evaluationWindowSec',
      'd.dashboardName',
      'd.dashboardBody',
    ]);
    assert.match(v.find((x) => x.input === 'environment.variables')!.rule, /at most 4096 bytes in all, is 4098/);
    assert.match(v.find((x) => x.input === 'quotaSettings.period')!.rule, /one of DAY, WEEK, MONTH/);
    // 10,000 rps is the account's default throttle quota (raised on request), not something the API refuses
    assert.equal(v.find((x) => x.input === 'throttleSettings.rateLimit')!.rule, "quota check, not an API limit: at most 10000, API Gateway's default throttle quota per account and region, which AWS raises on request (requests per second) (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html)");
    assert.match(v.find((x) => x.input === 'throttleSettings.burstLimit')!.rule, /^a whole number \(https:.*usageplan-throttlesettings/);
    assert.match(violations([rec('aws:apigateway/usagePlan:UsagePlan', 'q', { name: 'q', throttleSettings: { rateLimit: 1, burstLimit: 5_001 } })])[0].rule, /^quota check, not an API limit: at most 5000, .*\(burst\)/);
    assert.match(v.find((x) => x.input.endsWith('evaluationWindowSec'))!.rule, /one of 60, 120, 300, 600/);
  });

  it('the dashboard of every supported region at once stays within CloudWatch\'s widget and metric counts', () => {
    const regions = [...SUPPORTED_REGIONS].map((region) => ({
      region,
      graphqlApiId: 'a'.repeat(26),
      restApiName: `global-appsync-prod-${region}`,
      stageName: 'live',
      functions: { items: `api-${region}-items-a1b2c3d`, health: `api-${region}-health-a1b2c3d`, notifier: `notifier-${region}-a1b2c3d` },
      healthCheckId: 'h'.repeat(36),
      dlqName: `notifier-${region}-dlq-a1b2c3d`,
    }));
    const body = dashboardBody(regions, 'global-appsync-prod-items');
    assert.equal(dashboardBodyProblem(body), undefined, `${SUPPORTED_REGIONS.length} regions`);
    assert.ok(body.widgets.length <= DASHBOARD_LIMITS.widgets);
  });

  it("aws:defaultTags reach every taggable resource; a value DynamoDB refuses (an e-mail address: no @ in DynamoDB tags) is caught", async () => {
    const tags = (t: Record<string, string>) => JSON.stringify({ tags: t });
    const ok = await runProgram({ regions: 'eu-west-1', 'aws:defaultTags': tags({ project: 'global-appsync', owner: 'platform-team' }) });
    assert.equal(report(ok), '');
    // config/aws.ts refuses it before any resource exists, naming the tag...
    await assert.rejects(runProgram({ regions: 'eu-west-1', 'aws:defaultTags': tags({ owner: 'ops@example.com' }) }), (e: unknown) => e instanceof ConfigError && e.message.includes('  - aws:defaultTags.tags.owner: "ops@example.com" — this tag value has "@"'));
    // ...and were it to get through (a config parsed elsewhere), the per-service check still flags the tables
    const parsed = parseConfig({ regions: 'eu-west-1' }, { stack: 'dev' });
    const at = violations((await runProgram({ regions: 'eu-west-1' }, 'dev', { parsed: { ...parsed, providerSettings: { defaultTags: { tags: { owner: 'ops@example.com' } } } } })).resources);
    assert.deepEqual(flagged(at), ['tables-items.tags.owner', 'tables-app-config.tags.owner']);
    assert.ok(ofType(ok, 'pulumi:providers:aws').every((p) => String(p.inputs.defaultTags).includes('platform-team')), 'the tags are on every provider');
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
    [
      'the six longest supported region names with a domain, WAF and token auth, longest stack name',
      { regions: JSON.stringify(LONGEST_REGIONS), homeRegion: 'us-east-1', domain: DOMAIN, waf: 'true', auth: JSON.stringify({ mode: 'token', secret: 's'.repeat(48), issuer: 'https://issuer.example.com/', audience: 'global-appsync' }) },
      stack,
    ],
  ];
  for (const [what, config, stackName] of configs) {
    it(`${what}: no input AWS would refuse`, async () => {
      assert.ok(stack.length >= 20, `longest stack name: ${stack.length}`);
      const run = await cachedRun(config, stackName);
      assert.equal(report(run), '');
    });
  }
});
