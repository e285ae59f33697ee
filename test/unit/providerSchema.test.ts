/**
 * Every resource's inputs, as the program registers them under mocks, against the input schema the installed
 * @pulumi/aws (and @pulumi/random) ship (test/unit/providerSchema.ts: the generated declarations, read with the
 * TypeScript parser): input names, required inputs at every depth, value shapes and enum values. This is the
 * provider's own description of what it accepts; test/unit/awsConstraints.ts checks AWS's API rules on top.
 */
import assert from 'node:assert/strict';
import { runProgram, type Recorded } from '../../scripts/mockCloud';
import { AWS_VERSION, awsEnum, objectType, resourceSchema, schemaViolations, STRING_ENUMS, type TypeDesc } from './providerSchema';

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

  it("inputs declared as a plain string take only AWS's enumeration: botocore's model, or the API reference's list", () => {
    const { violations } = schemaViolations([
      rec('aws:dynamodb/table:Table', 't', { name: 't', hashKey: 'id', attributes: [{ name: 'id', type: 'STRING' }], billingMode: 'ON_DEMAND', streamEnabled: true, streamViewType: 'NEW', replicas: [{ regionName: 'eu-west-1', consistencyMode: 'strong' }] }),
      rec('aws:lambda/eventSourceMapping:EventSourceMapping', 'm', { functionName: 'f', eventSourceArn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/t/stream/x', startingPosition: 'EARLIEST', functionResponseTypes: ['ReportItemFailures'] }),
      rec('aws:apigateway/authorizer:Authorizer', 'a', { restApi: 'r', type: 'LAMBDA' }),
      rec('aws:apigateway/method:Method', 'x', { restApi: 'r', resourceId: 'i', httpMethod: 'GET', authorization: 'IAM' }),
      rec('aws:wafv2/webAcl:WebAcl', 'w', { scope: 'Regional', defaultAction: { allow: {} }, visibilityConfig: { cloudwatchMetricsEnabled: true, metricName: 'm', sampledRequestsEnabled: true } }),
    ]);
    assert.deepEqual(
      violations.map((v) => `${v.resource} ${v.path}`),
      ['t attributes[0].type', 't billingMode', 't streamViewType', 't replicas[0].consistencyMode', 'm startingPosition', 'm functionResponseTypes[0]', 'a type', 'x authorization', 'w scope'],
    );
    const problem = (path: string) => violations.find((v) => `${v.resource} ${v.path}` === path)!.problem;
    assert.match(problem('t streamViewType'), /^"NEW" is not one of dynamodb:CreateTable\.StreamSpecification\.StreamViewType \(botocore [\d.]+ dynamodb CreateTable StreamSpecification\.StreamViewType\): NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES, KEYS_ONLY$/);
    assert.match(problem('t billingMode'), /"ON_DEMAND" is not one of .*: PROVISIONED, PAY_PER_REQUEST$/);
    assert.match(problem('a type'), /"LAMBDA" is not one of apigateway:CreateAuthorizer\.type .*: TOKEN, REQUEST, COGNITO_USER_POOLS$/);
    assert.match(problem('w scope'), /"Regional" is not one of wafv2:CreateWebACL\.Scope .*: CLOUDFRONT, REGIONAL$/);
    // a list AWS documents only in prose names its page
    assert.match(problem('x authorization'), /"IAM" is not one of apigateway:PutMethod\.authorizationType \(https:\/\/docs\.aws\.amazon\.com\/apigateway\/latest\/api\/API_PutMethod\.html\): NONE, AWS_IAM, CUSTOM, COGNITO_USER_POOLS$/);
  });

  it('every STRING_ENUMS entry names a plain-string property the declarations have and an API member with a list', () => {
    const isEnum = (t: TypeDesc): boolean => t.kind === 'enum' || (t.kind === 'array' && t.of.kind === 'enum');
    let n = 0;
    for (const [where, props] of Object.entries(STRING_ENUMS)) {
      const declared = where.includes('/') ? resourceSchema(where).props : objectType(where);
      for (const [prop, member] of Object.entries(props)) {
        assert.ok(isEnum(declared[prop].type), `${where}.${prop}: ${JSON.stringify(declared[prop].type)}`);
        assert.ok(awsEnum(member).values.length > 0, member);
        n += 1;
      }
    }
    assert.ok(n >= 30, `${n} properties mapped`);
    assert.throws(() => awsEnum('dynamodb:CreateTable.TableName'), /botocore [\d.]+ has no enumeration for it; list its values in PROSE_ENUMS/);
    assert.throws(() => awsEnum('dynamodb:CreateTable.Nope'), /not in config\/aws-constraints\.json: add it to scripts\/extract-aws-constraints\.py/);
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
