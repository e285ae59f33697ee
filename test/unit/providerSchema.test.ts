/**
 * Every resource's inputs, as the program registers them under mocks, against the input schema the installed
 * @pulumi/aws (and @pulumi/random) ship (test/unit/providerSchema.ts: the generated declarations, read with the
 * TypeScript parser): input names, required inputs at every depth, value shapes and enum values. This is the
 * provider's own description of what it accepts; test/unit/awsConstraints.ts checks AWS's API rules on top.
 */
import assert from 'node:assert/strict';
import { runProgram, type Recorded } from '../../scripts/mockCloud';
import { AWS_VERSION, objectType, resourceSchema, schemaViolations } from './providerSchema';

const DOMAIN = JSON.stringify({ zoneName: 'example.com', name: 'api.example.com' });
const rec = (type: string, name: string, inputs: Record<string, unknown>): Recorded => ({ type, name, inputs, custom: true }) as never;

describe(`inputs against the provider's schema (@pulumi/aws ${AWS_VERSION} declarations)`, function () {
  this.timeout(120_000);

  it('reads the schema the package ships: Args per resource token, nested input types, enums', () => {
    const fn = resourceSchema('aws:lambda/function:Function');
    assert.equal(fn.file, '@pulumi/aws/lambda/function.d.ts');
    assert.equal(fn.props.role.required, true);
    assert.equal(fn.props.runtime.required, false);
    assert.equal(fn.props.runtime.type.kind, 'enum');
    assert.ok((fn.props.runtime.type as { values: readonly unknown[] }).values.includes('nodejs22.x'));
    assert.deepEqual(fn.props.environment.type, { kind: 'object', name: 'aws:lambda.FunctionEnvironment' });
    assert.deepEqual(Object.keys(objectType('aws:lambda.FunctionEnvironment')), ['variables']);
    // nested required inputs: a WAF rule needs its name, priority, statement and visibility config
    const rule = objectType('aws:wafv2.WebAclRule');
    assert.deepEqual(['name', 'priority', 'statement', 'visibilityConfig'].map((k) => rule[k].required), [true, true, true, true]);
    assert.equal(resourceSchema('pulumi:providers:aws').args, 'ProviderArgs');
    assert.equal(resourceSchema('random:index/randomPassword:RandomPassword').props.length.required, true);
    assert.throws(() => resourceSchema('aws:lambda/function:Lambda'), /does not register it/);
  });

  it('catches what the provider refuses: an unknown input, a missing nested one, a value outside the enum, a wrong shape', () => {
    const { violations } = schemaViolations([
      rec('aws:lambda/function:Function', 'f', { role: 'arn:aws:iam::123456789012:role/r', runtime: 'nodejs99.x', memorySize: '256', timeoutSeconds: 10, environment: { variables: { A: 1 } } }),
      rec('aws:wafv2/webAcl:WebAcl', 'w', {
        scope: 'REGIONAL',
        defaultAction: { allow: {} },
        visibilityConfig: { cloudwatchMetricsEnabled: true, metricName: 'm', sampledRequestsEnabled: true },
        rules: [{ name: 'r', priority: 0, action: { block: {} }, statement: { rateBasedStatement: { limit: 10, aggregateKeyType: 'IP', evaluationWindowSecs: 300 } } }],
      }),
    ]);
    assert.deepEqual(
      violations.map((v) => `${v.resource} ${v.path}`),
      ['f runtime', 'f memorySize', 'f timeoutSeconds', 'f environment.variables.A', 'w rules[0].statement.rateBasedStatement.evaluationWindowSecs', 'w rules[0].visibilityConfig'],
    );
    assert.match(violations[0].problem, /"nodejs99\.x" is not one of enums\.lambda\.Runtime: .*nodejs22\.x/);
    assert.match(violations[2].problem, /not an input of FunctionArgs/);
    assert.match(violations[5].problem, /required by aws:wafv2\.WebAclRule, missing/);
  });

  const configs: Array<[string, Record<string, string>]> = [
    ['strong consistency, drills, alarm e-mail, reserved concurrency', { regions: 'us-east-1,us-east-2,us-west-2', consistency: 'strong', drills: 'true', alarmEmail: 'ops@example.com', reservedConcurrency: '{"items": 20, "notifier": 8}' }],
    ['a domain, primary write mode, WAF, API keys with a quota', { regions: 'us-east-1,eu-west-1', domain: DOMAIN, writeMode: 'primary', waf: 'true', throttle: '{"rateLimit":10,"burstLimit":10,"quotaPerDay":1}' }],
    ['token auth, WAF without managed rules', { regions: 'eu-west-1,ap-southeast-2', waf: '{"managedRules":false}', auth: JSON.stringify({ mode: 'token', secret: 's'.repeat(40), issuer: 'https://issuer.example.com', audience: 'global-appsync' }) }],
    ['a Lambda authorizer in another region', { regions: 'us-east-1,eu-west-1', auth: JSON.stringify({ mode: 'lambda', authorizerArn: 'arn:aws:lambda:eu-west-1:123456789012:function:auth' }) }],
    ['cognito', { regions: 'eu-west-1', auth: JSON.stringify({ mode: 'cognito', userPoolId: 'eu-west-1_abcdefghi', awsRegion: 'eu-west-1' }) }],
  ];
  for (const [what, config] of configs) {
    it(`${what}: every input is one the provider declares, in the declared shape`, async () => {
      const run = await runProgram(config);
      const { violations, checked } = schemaViolations(run.resources);
      assert.equal(checked, run.resources.filter((r) => r.custom).length, 'every custom resource was checked');
      assert.equal(violations.map((v) => `${v.resource} ${v.path}: ${v.problem}`).join('\n'), '');
    });
  }
});
