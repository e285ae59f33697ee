/**
 * Under Pulumi mocks: the deployed client auth, WAF and throttling. For every auth mode, every REST
 * Method's authorization (only /health open), the AppSync default and additional auth, the authorizers and their
 * invoke permissions; apiKey mode's one key value in every region's usage plan and /graphql's server-side AppSync
 * key; the WAF web ACLs (stage: rate rule + managed rules; AppSync: managed rules only); stage throttling. Token mode's config is
 * parsed by another part of the program, so its run takes an already parsed config (runProgram's `parsed`).
 */
import assert from 'node:assert/strict';
import { type AuthConfig, parseConfig } from '../../config';
import { APPSYNC_KEY_STAGE_VARIABLE, TOKEN_SOURCE } from '../../components/restApi';
import { MANAGED_RULE_GROUPS, WAF_LOG_PREFIX } from '../../components/waf';
import { ACCOUNT, cachedRun, lastRun, ofType, reveal, runProgram, type ProgramRun, type Recorded } from '../../scripts/mockCloud';
import { authorizerCode } from './authorizerCode';
import { violations } from './awsConstraints';

const TWO = ['eu-west-1', 'ap-southeast-2'];
const ROUTES = ['item-get', 'item-put', 'item-delete', 'state-get', 'graphql-post'];
const idOf = (r: Recorded): string => `${r.name}-id`;
const inRegion = (run: ProgramRun, type: string, region: string): Recorded[] => ofType(run, type).filter((r) => r.region === region);
const one = (run: ProgramRun, type: string, region: string): Recorded => {
  const found = inRegion(run, type, region);
  assert.equal(found.length, 1, `${type} in ${region}: ${found.map((r) => r.name).join(', ')}`);
  return found[0];
};
const method = (run: ProgramRun, region: string, route: string): Recorded => {
  const m = ofType(run, 'aws:apigateway/method:Method').find((r) => r.name === `api-${region}-${route}`);
  assert.ok(m, `method ${route} in ${region}`);
  return m;
};
const noViolations = (run: ProgramRun): void =>
  assert.equal(
    violations(run.resources)
      .map((v) => `${v.resource}.${v.input} = ${v.value}: ${v.rule}`)
      .join('\n'),
    '',
  );

/** A run with `auth` as parsed config (modes and fields the stack config parser may not know yet). */
const withAuth = (regions: string[], auth: AuthConfig): Promise<ProgramRun> => {
  const raw = { regions: regions.join(',') };
  return runProgram(raw, 'dev', { code: authorizerCode, parsed: { ...parseConfig(raw, { stack: 'dev' }), auth } });
};

describe('client auth, WAF and throttling (Pulumi mocks)', function () {
  this.timeout(120_000);

  describe('apiKey mode (the default): one API Gateway key for every region', () => {
    const run = (): Promise<ProgramRun> =>
      cachedRun({ regions: TWO.join(','), waf: '{"rateLimitPer5Min":500}', throttle: '{"rateLimit":50,"burstLimit":80,"quotaPerDay":10000}' });

    it('every items, state and graphql Method requires the API key; /health is open', async () => {
      const r = await run();
      for (const region of TWO) {
        for (const route of ROUTES) {
          const m = method(r, region, route);
          assert.equal(m.inputs.authorization, 'NONE', `${region} ${route}`);
          assert.equal(m.inputs.apiKeyRequired, true, `${region} ${route}`);
        }
        const health = method(r, region, 'health-get');
        assert.equal(health.inputs.authorization, 'NONE');
        assert.notEqual(health.inputs.apiKeyRequired, true);
      }
      assert.equal(ofType(r, 'aws:apigateway/method:Method').length, TWO.length * (ROUTES.length + 1), 'no route left unchecked');
    });

    it('each region has an API key with THE SAME generated secret value, in a usage plan on its own stage with the throttle and quota', async () => {
      const r = await run();
      const passwords = ofType(r, 'random:index/randomPassword:RandomPassword');
      assert.equal(passwords.length, 1, 'one generated value for the stack');
      assert.equal(passwords[0].inputs.special, false);
      const generated = passwords[0].state.result as string;
      assert.match(generated, /^[A-Za-z0-9]{40}$/);
      for (const region of TWO) {
        const key = one(r, 'aws:apigateway/apiKey:ApiKey', region);
        assert.equal(reveal(key.inputs.value), generated, `${region} key value`);
        assert.ok(key.secretInputs.includes('value'), 'the key value is passed as a secret');
        const plan = one(r, 'aws:apigateway/usagePlan:UsagePlan', region);
        const rest = one(r, 'aws:apigateway/restApi:RestApi', region);
        const stage = one(r, 'aws:apigateway/stage:Stage', region);
        assert.deepEqual(plan.inputs.apiStages, [{ apiId: idOf(rest), stage: stage.inputs.stageName }]);
        assert.deepEqual(plan.inputs.throttleSettings, { rateLimit: 50, burstLimit: 80 });
        assert.deepEqual(plan.inputs.quotaSettings, { limit: 10000, period: 'DAY' });
        const link = one(r, 'aws:apigateway/usagePlanKey:UsagePlanKey', region);
        assert.deepEqual([link.inputs.keyId, link.inputs.usagePlanId, link.inputs.keyType], [idOf(key), idOf(plan), 'API_KEY']);
      }
      assert.equal(r.outputs.apiKey, generated);
      assert.equal(r.secret.apiKey, true, 'the apiKey output is secret');
    });

    it("/graphql swaps the shared key for the region's own AppSync key, from a stage variable", async () => {
      const r = await run();
      const appsyncKeys = TWO.map((region) => one(r, 'aws:appsync/apiKey:ApiKey', region).state.key as string);
      assert.notEqual(appsyncKeys[0], appsyncKeys[1], 'AppSync keys differ per region');
      TWO.forEach((region, i) => {
        const integration = ofType(r, 'aws:apigateway/integration:Integration').find((x) => x.name === `api-${region}-graphql-post-integration`)!;
        assert.deepEqual(integration.inputs.requestParameters, { 'integration.request.header.x-api-key': `stageVariables.${APPSYNC_KEY_STAGE_VARIABLE}` });
        const stage = one(r, 'aws:apigateway/stage:Stage', region);
        assert.equal(reveal(stage.inputs.variables)[APPSYNC_KEY_STAGE_VARIABLE], appsyncKeys[i]);
        assert.ok(stage.secretInputs.includes('variables'), 'the AppSync key is passed as a secret');
        // the deployment snapshot changes with the mapping (deploymentTrigger covers integration inputs)
        assert.ok(one(r, 'aws:apigateway/deployment:Deployment', region).inputs.triggers.redeployment);
      });
    });

    it('stage throttling on every method of every stage', async () => {
      const r = await run();
      for (const region of TWO) {
        const s = one(r, 'aws:apigateway/methodSettings:MethodSettings', region);
        assert.equal(s.inputs.methodPath, '*/*');
        assert.equal(s.inputs.restApi, idOf(one(r, 'aws:apigateway/restApi:RestApi', region)));
        assert.deepEqual(s.inputs.settings, { throttlingRateLimit: 50, throttlingBurstLimit: 80 });
      }
    });

    it('WAF: per region the stage\'s web ACL (rate rule + managed rules) and AppSync\'s own (managed rules only), each logging to aws-waf-logs-*', async () => {
      const r = await run();
      const associated = ofType(r, 'aws:wafv2/webAclAssociation:WebAclAssociation');
      const expected = TWO.flatMap((region) => [one(r, 'aws:apigateway/stage:Stage', region).state.arn, one(r, 'aws:appsync/graphQLApi:GraphQLApi', region).state.arn]);
      assert.deepEqual(associated.map((a) => a.inputs.resourceArn).sort(), [...expected].sort());
      type Rule = { name: string; priority: number; statement: { managedRuleGroupStatement: { vendorName: string; name: string; ruleActionOverrides?: unknown } } };
      const managed = (rules: Rule[]): string[] => rules.map((x) => `${x.statement.managedRuleGroupStatement.vendorName}/${x.statement.managedRuleGroupStatement.name}`);
      // SizeRestrictions_BODY (bodies over 8 KB) counts instead of blocking: values go up to 16,384 characters
      const overrides = (rules: Rule[]): unknown[] => rules.map((x) => x.statement.managedRuleGroupStatement.ruleActionOverrides);
      const expectedOverrides = [[{ name: 'SizeRestrictions_BODY', actionToUse: { count: {} } }], undefined];
      for (const region of TWO) {
        const acls = inRegion(r, 'aws:wafv2/webAcl:WebAcl', region);
        assert.equal(acls.length, 2, `two web ACLs in ${region}`);
        const stageAcl = acls.find((x) => x.name === `api-${region}-waf-acl`)!;
        const graphqlAcl = acls.find((x) => x.name === `api-${region}-waf-graphql-acl`)!;
        assert.ok(stageAcl && graphqlAcl, acls.map((x) => x.name).join(', '));
        for (const acl of acls) {
          assert.equal(acl.inputs.scope, 'REGIONAL');
          assert.deepEqual(acl.inputs.defaultAction, { allow: {} });
        }
        assert.equal(graphqlAcl.inputs.name, `${stageAcl.inputs.name}-graphql`);
        assert.equal(stageAcl.inputs.description, `rate limit and AWS managed rules for ${stageAcl.inputs.name}`);
        // the stage: the per-IP rate rule (clients' own addresses), no exemption (nothing to spoof), then the managed groups
        assert.deepEqual(stageAcl.inputs.rules[0].statement.rateBasedStatement, { limit: 500, aggregateKeyType: 'IP', evaluationWindowSec: 300 });
        assert.deepEqual(stageAcl.inputs.rules[0].action, { block: {} });
        assert.deepEqual(managed(stageAcl.inputs.rules.slice(1)), MANAGED_RULE_GROUPS.map((g) => `AWS/${g}`));
        assert.deepEqual(overrides(stageAcl.inputs.rules.slice(1)), expectedOverrides);
        // AppSync: no rate rule (it sees API Gateway's and Lambda's shared addresses), the managed groups only
        assert.equal(graphqlAcl.inputs.rules.filter((x: { statement: { rateBasedStatement?: unknown } }) => x.statement.rateBasedStatement).length, 0);
        assert.deepEqual(managed(graphqlAcl.inputs.rules), MANAGED_RULE_GROUPS.map((g) => `AWS/${g}`));
        assert.deepEqual(overrides(graphqlAcl.inputs.rules), expectedOverrides);
        // each target goes to its own ACL in its own region
        const inThis = associated.filter((x) => x.region === region);
        assert.equal(inThis.length, 2);
        assert.equal(inThis.find((a) => a.inputs.resourceArn === one(r, 'aws:apigateway/stage:Stage', region).state.arn)!.inputs.webAclArn, stageAcl.state.arn);
        assert.equal(inThis.find((a) => a.inputs.resourceArn === one(r, 'aws:appsync/graphQLApi:GraphQLApi', region).state.arn)!.inputs.webAclArn, graphqlAcl.state.arn);
        const loggings = inRegion(r, 'aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration', region);
        assert.deepEqual(loggings.map((l) => l.inputs.resourceArn).sort(), [stageAcl.state.arn, graphqlAcl.state.arn].sort());
        for (const acl of acls) {
          const logs = inRegion(r, 'aws:cloudwatch/logGroup:LogGroup', region).find((l) => l.inputs.name === `${WAF_LOG_PREFIX}${acl.inputs.name}`);
          assert.ok(logs, `WAF log group of ${acl.inputs.name}`);
          const logging = loggings.find((l) => l.inputs.resourceArn === acl.state.arn)!;
          assert.deepEqual(logging.inputs.logDestinationConfigs, [logs.state.arn]);
          assert.deepEqual(logging.inputs.redactedFields, [{ singleHeader: { name: 'authorization' } }, { singleHeader: { name: 'x-api-key' } }], 'credentials never reach the logs');
          assert.equal(logging.inputs.loggingFilter.defaultBehavior, 'DROP', 'allowed requests are not logged');
        }
      }
    });

    it('AWS accepts every input (key value, stage variables, WAF names and limits)', async () => {
      noViolations(await run());
    });
  });

  it('apiKey mode with auth.key: every region takes that value; nothing is generated; a 19-character key is refused by the constraints check', async () => {
    const key = 'Shared0Key0For0Every0Region';
    const r = await withAuth(['eu-west-1'], { mode: 'apiKey', expiresInDays: 30, key });
    assert.equal(ofType(r, 'random:index/randomPassword:RandomPassword').length, 0);
    assert.equal(reveal(one(r, 'aws:apigateway/apiKey:ApiKey', 'eu-west-1').inputs.value), key);
    assert.equal(r.outputs.apiKey, key);
    // WAF is off outside prod unless asked for; no WAF resource at all
    assert.equal(r.resources.filter((x) => x.type.startsWith('aws:wafv2/')).length, 0);
    const short = violations([{ ...one(r, 'aws:apigateway/apiKey:ApiKey', 'eu-west-1'), inputs: { value: 'x'.repeat(19) } }]);
    assert.deepEqual(short.map((v) => v.input), ['value']);
  });

  it('waf without managed rules: the stage\'s web ACL with the rate rule only; AppSync gets no web ACL (it would have no rule)', async () => {
    const r = await runProgram({ regions: 'eu-west-1', waf: '{"managedRules":false}' }, 'dev');
    const acl = one(r, 'aws:wafv2/webAcl:WebAcl', 'eu-west-1');
    assert.deepEqual(acl.inputs.rules.map((x: { name: string }) => x.name), ['rate-limit-per-ip']);
    // the description says what the rules are: no managed rule groups here
    assert.equal(acl.inputs.description, `rate limit for ${acl.inputs.name}`);
    assert.deepEqual(ofType(r, 'aws:wafv2/webAclAssociation:WebAclAssociation').map((a) => [a.inputs.resourceArn, a.inputs.webAclArn]), [[one(r, 'aws:apigateway/stage:Stage', 'eu-west-1').state.arn, acl.state.arn]]);
    assert.equal(ofType(r, 'aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration').length, 1);
  });

  describe('token mode: the project authorizer in every region', () => {
    const token: AuthConfig = { mode: 'token', secret: 's'.repeat(40), issuer: 'https://issuer.example.com', audience: 'global-appsync', ttlSeconds: 120 };
    let r: ProgramRun;
    before(async () => {
      r = await withAuth(TWO, token);
    });

    it('each region has its authorizer function: AUTH_* settings, the secret kept secret, a role that may only write its logs', () => {
      for (const region of TWO) {
        const fn = inRegion(r, 'aws:lambda/function:Function', region).find((f) => f.name === `api-${region}-authorizer`)!;
        assert.ok(fn, `authorizer function in ${region}`);
        assert.deepEqual(reveal(fn.inputs.environment).variables, { AUTH_ISSUER: token.issuer, AUTH_AUDIENCE: token.audience, AUTH_SECRET: token.secret, AUTH_CACHE_TTL: '120' });
        assert.ok(fn.secretInputs.includes('environment'), 'AUTH_SECRET is passed as a secret');
        const policy = JSON.parse(inRegion(r, 'aws:iam/rolePolicy:RolePolicy', region).find((p) => p.name === `api-${region}-authorizer-policy`)!.inputs.policy);
        assert.deepEqual(policy.Statement.flatMap((s: { Action: string[] }) => s.Action).sort(), ['logs:CreateLogStream', 'logs:PutLogEvents']);
      }
    });

    it('REST: a REQUEST authorizer on the Authorization header guards every route but /health, with an invoke permission scoped to it', () => {
      for (const region of TWO) {
        const authorizer = one(r, 'aws:apigateway/authorizer:Authorizer', region);
        const fn = inRegion(r, 'aws:lambda/function:Function', region).find((f) => f.name === `api-${region}-authorizer`)!;
        assert.equal(authorizer.inputs.type, 'REQUEST');
        assert.equal(authorizer.inputs.identitySource, TOKEN_SOURCE);
        assert.equal(authorizer.inputs.authorizerResultTtlInSeconds, 120);
        assert.equal(authorizer.inputs.authorizerUri, `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${fn.state.arn}/invocations`);
        for (const route of ROUTES) {
          const m = method(r, region, route);
          assert.deepEqual([m.inputs.authorization, m.inputs.authorizerId, m.inputs.apiKeyRequired], ['CUSTOM', idOf(authorizer), undefined], `${region} ${route}`);
        }
        assert.equal(method(r, region, 'health-get').inputs.authorization, 'NONE');
        const rest = one(r, 'aws:apigateway/restApi:RestApi', region);
        const perm = inRegion(r, 'aws:lambda/permission:Permission', region).find((p) => p.inputs.principal === 'apigateway.amazonaws.com' && p.inputs.function === fn.state.arn);
        assert.ok(perm, `API Gateway may invoke the authorizer in ${region}`);
        assert.equal(perm.inputs.sourceArn, `${rest.state.executionArn}/authorizers/${idOf(authorizer)}`);
      }
      assert.equal(ofType(r, 'aws:apigateway/apiKey:ApiKey').length + ofType(r, 'aws:appsync/apiKey:ApiKey').length, 0, 'no API key in token mode');
    });

    it('AppSync: AWS_LAMBDA with the same function (TTL, token shape), AWS_IAM for the notifier, and AppSync may invoke it only from this API', () => {
      for (const region of TWO) {
        const api = one(r, 'aws:appsync/graphQLApi:GraphQLApi', region);
        const fn = inRegion(r, 'aws:lambda/function:Function', region).find((f) => f.name === `api-${region}-authorizer`)!;
        assert.equal(api.inputs.authenticationType, 'AWS_LAMBDA');
        assert.equal(api.inputs.lambdaAuthorizerConfig.authorizerUri, fn.state.arn);
        assert.equal(api.inputs.lambdaAuthorizerConfig.authorizerResultTtlInSeconds, 120);
        const shape = new RegExp(api.inputs.lambdaAuthorizerConfig.identityValidationExpression);
        assert.ok(shape.test('Bearer aaa.bbb.ccc') && shape.test('aaa.bbb.ccc') && !shape.test('Bearer') && !shape.test('aaa.bbb'), 'refuses what is not a JWT');
        assert.deepEqual(api.inputs.additionalAuthenticationProviders, [{ authenticationType: 'AWS_IAM' }]);
        assert.match(api.inputs.schema, /@aws_lambda/);
        assert.doesNotMatch(api.inputs.schema, /@aws_api_key/);
        const perm = inRegion(r, 'aws:lambda/permission:Permission', region).find((p) => p.inputs.principal === 'appsync.amazonaws.com');
        assert.ok(perm, `AppSync may invoke the authorizer in ${region}`);
        assert.deepEqual([perm.inputs.function, perm.inputs.sourceArn, perm.inputs.action], [fn.state.arn, api.state.arn, 'lambda:InvokeFunction']);
      }
    });

    it('AWS accepts every input', () => noViolations(r));
  });

  describe('cognito, oidc and lambda modes: REST gets the same credential check as AppSync', () => {
    it('cognito: a COGNITO_USER_POOLS authorizer on the pool guards every route but /health', async () => {
      const r = await runProgram({ regions: 'eu-west-1', auth: '{"mode":"cognito","userPoolId":"eu-west-1_AbC123"}' });
      const authorizer = one(r, 'aws:apigateway/authorizer:Authorizer', 'eu-west-1');
      assert.equal(authorizer.inputs.type, 'COGNITO_USER_POOLS');
      assert.deepEqual(authorizer.inputs.providerArns, [`arn:aws:cognito-idp:eu-west-1:${ACCOUNT}:userpool/eu-west-1_AbC123`]);
      for (const route of ROUTES) assert.deepEqual([method(r, 'eu-west-1', route).inputs.authorization, method(r, 'eu-west-1', route).inputs.authorizerId], ['COGNITO_USER_POOLS', idOf(authorizer)], route);
      assert.equal(method(r, 'eu-west-1', 'health-get').inputs.authorization, 'NONE');
      const api = one(r, 'aws:appsync/graphQLApi:GraphQLApi', 'eu-west-1');
      assert.equal(api.inputs.authenticationType, 'AMAZON_COGNITO_USER_POOLS');
      assert.deepEqual(api.inputs.additionalAuthenticationProviders, [{ authenticationType: 'AWS_IAM' }]);
      assert.equal(ofType(r, 'aws:lambda/permission:Permission').filter((p) => p.inputs.principal !== 'apigateway.amazonaws.com' || String(p.inputs.sourceArn).includes('/authorizers/')).length, 0, 'no authorizer function, no authorizer permission');
    });

    it("oidc: the project authorizer checks the issuer's JWKS for REST; AppSync stays OPENID_CONNECT", async () => {
      const r = await withAuth(['eu-west-1'], { mode: 'oidc', issuer: 'https://id.example.com/', clientId: 'client-1' });
      const fn = inRegion(r, 'aws:lambda/function:Function', 'eu-west-1').find((f) => f.name === 'api-eu-west-1-authorizer')!;
      assert.deepEqual(fn.inputs.environment.variables, { AUTH_ISSUER: 'https://id.example.com/', AUTH_AUDIENCE: 'client-1', AUTH_JWKS_URL: 'https://id.example.com/.well-known/jwks.json', AUTH_CACHE_TTL: '300' });
      const authorizer = one(r, 'aws:apigateway/authorizer:Authorizer', 'eu-west-1');
      assert.equal(authorizer.inputs.type, 'REQUEST');
      for (const route of ROUTES) assert.equal(method(r, 'eu-west-1', route).inputs.authorizerId, idOf(authorizer), route);
      const api = one(r, 'aws:appsync/graphQLApi:GraphQLApi', 'eu-west-1');
      assert.equal(api.inputs.authenticationType, 'OPENID_CONNECT');
      const perms = ofType(r, 'aws:lambda/permission:Permission').filter((p) => p.inputs.function === fn.state.arn);
      assert.deepEqual(perms.map((p) => p.inputs.principal), ['apigateway.amazonaws.com'], 'only API Gateway calls it: AppSync checks OIDC itself');
    });

    it("lambda: the stack's authorizer function guards REST in every region; each API's invoke permission is made in the function's region", async () => {
      const arn = 'arn:aws:lambda:eu-west-1:123456789012:function:auth';
      const r = await runProgram({ regions: TWO.join(','), auth: JSON.stringify({ mode: 'lambda', authorizerArn: arn, ttlSeconds: 60 }) });
      for (const region of TWO) {
        const authorizer = one(r, 'aws:apigateway/authorizer:Authorizer', region);
        // {region} is the function's (eu-west-1), also for the ap-southeast-2 API (CreateAuthorizer, authorizerUri)
        assert.equal(authorizer.inputs.authorizerUri, `arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/${arn}/invocations`);
        assert.equal(authorizer.inputs.authorizerResultTtlInSeconds, 60);
        for (const route of ROUTES) assert.equal(method(r, region, route).inputs.authorization, 'CUSTOM', `${region} ${route}`);
        assert.equal(one(r, 'aws:appsync/graphQLApi:GraphQLApi', region).inputs.lambdaAuthorizerConfig.authorizerUri, arn);
      }
      const perms = ofType(r, 'aws:lambda/permission:Permission').filter((p) => p.inputs.function === arn);
      assert.deepEqual(perms.map((p) => p.name).sort(), TWO.map((region) => `api-${region}-rest-authorizer-permission`).sort());
      for (const region of TWO) {
        const perm = perms.find((p) => p.name === `api-${region}-rest-authorizer-permission`)!;
        const rest = one(r, 'aws:apigateway/restApi:RestApi', region);
        const authorizer = one(r, 'aws:apigateway/authorizer:Authorizer', region);
        // a statement in the function's policy: through eu-west-1's provider, for the ap-southeast-2 API too
        assert.equal(perm.region, 'eu-west-1', region);
        assert.match(String(perm.provider), /::aws-eu-west-1::/);
        // the API's own execution ARN (its region) and authorizer id: only that API's authorizer may invoke it
        assert.equal(rest.state.executionArn, `arn:aws:execute-api:${region}:${ACCOUNT}:${idOf(rest)}`);
        assert.deepEqual([perm.inputs.principal, perm.inputs.action, perm.inputs.sourceArn], ['apigateway.amazonaws.com', 'lambda:InvokeFunction', `${rest.state.executionArn}/authorizers/${idOf(authorizer)}`]);
        // owned by the API's component (replaced and deleted with it)
        assert.match(perm.parent, new RegExp(`RegionalApi::api-${region}$`));
      }
      noViolations(r);
    });

    it('lambda: an authorizer outside the stack\'s regions gets no permission from the stack (its owner grants it, README)', async () => {
      const arn = 'arn:aws:lambda:us-east-1:123456789012:function:auth';
      const r = await runProgram({ regions: TWO.join(','), auth: JSON.stringify({ mode: 'lambda', authorizerArn: arn }) });
      assert.equal(ofType(r, 'aws:apigateway/authorizer:Authorizer').length, TWO.length);
      assert.deepEqual(ofType(r, 'aws:lambda/permission:Permission').filter((p) => p.inputs.function === arn), []);
      assert.deepEqual(inRegion(r, 'aws:lambda/permission:Permission', 'us-east-1'), [], 'nothing granted in the function\'s region');
    });
  });

  it('waf is on by default for prod (protect) and off for dev; waf: false turns it off, waf: true on', () => {
    const raw = { regions: 'eu-west-1' };
    assert.deepEqual(parseConfig(raw, { stack: 'prod' }).waf, { rateLimitPer5Min: 2000, managedRules: true });
    assert.equal(parseConfig(raw, { stack: 'dev' }).waf, undefined);
    assert.equal(parseConfig({ ...raw, waf: 'false' }, { stack: 'prod' }).waf, undefined);
    assert.deepEqual(parseConfig({ ...raw, waf: 'true' }, { stack: 'dev' }).waf, { rateLimitPer5Min: 2000, managedRules: true });
    assert.deepEqual(parseConfig({ ...raw, waf: '{"managedRules":false}' }, { stack: 'dev' }).waf, { rateLimitPer5Min: 2000, managedRules: false });
    assert.deepEqual(parseConfig({ ...raw, throttle: '{"rateLimit":10,"burstLimit":20}' }, { stack: 'dev' }).throttle, { rateLimit: 10, burstLimit: 20 });
  });

  it('a bad waf or throttle value registers no resource', async () => {
    await assert.rejects(runProgram({ regions: 'eu-west-1', waf: '{"rateLimitPer5Min":5}', throttle: '{"burstLimit":0}' }), /waf\.rateLimitPer5Min: 5 — [\s\S]*throttle\.burstLimit: 0 — /);
    assert.equal(lastRun().resources.length, 0);
  });
});
