/**
 * What each config change does to the resources, diffed resource by resource (type + name → inputs, provider,
 * protect), the way `pulumi preview` would see it: each key changes exactly what it should and nothing else.
 */
import assert from 'node:assert/strict';
import { ConfigError } from '../../config';
import { FUNCTIONS, RESOLVERS } from '../../schema/resolvers/manifest';
import { AUTH_DIRECTIVE } from '../../schema/source';
import { cachedRun, diffRuns, lastRun, named, ofType, runProgram, type ProgramRun } from '../../scripts/mockCloud';
import { authorizerCode } from './authorizerCode';

const R = ['eu-west-1', 'ap-southeast-2'];
const BASE = { regions: JSON.stringify(R) };
const base = (): Promise<ProgramRun> => cachedRun(BASE);
const variant = (extra: Record<string, string>): Promise<ProgramRun> => cachedRun({ ...BASE, ...extra });
const resolverNames = (region: string): string[] => [
  ...RESOLVERS.map((s) => `api-${region}-resolver-${s.typeName}-${s.fieldName}`),
  ...Object.keys(FUNCTIONS).map((f) => `api-${region}-fn-${f}`),
];

describe('config changes (diff of two runs)', function () {
  this.timeout(120_000);

  it('writeMode: only the Lambdas\' WRITE_MODE and resolver code change, in every region', async () => {
    const d = diffRuns(await base(), await variant({ writeMode: 'primary' }));
    assert.deepEqual([d.added, d.removed], [[], []]);
    const lambdas = R.flatMap((r) => [`api-${r}-items`, `api-${r}-state`, `app-state-${r}-updater`]);
    for (const name of lambdas) assert.deepEqual(d.changed[name], ['environment'], name);
    const allowed = new Set([...lambdas, ...R.flatMap(resolverNames)]);
    for (const [name, keys] of Object.entries(d.changed)) {
      assert.ok(allowed.has(name), `${name} changed (${keys})`);
      if (!lambdas.includes(name)) assert.deepEqual(keys, ['code'], name);
    }
    assert.ok(R.every((r) => Object.keys(d.changed).some((n) => n.startsWith(`api-${r}-`) && resolverNames(r).includes(n))), 'some resolver code of each region carries the write mode');
    const run = await variant({ writeMode: 'primary' });
    assert.equal(named(run, `api-${R[1]}-items`).inputs.environment.variables.WRITE_MODE, 'primary');
  });

  const AUTH: Record<string, { auth: object; type: string; key: string }> = {
    lambda: { auth: { mode: 'lambda', authorizerArn: 'arn:aws:lambda:eu-west-1:123456789012:function:authz', ttlSeconds: 60 }, type: 'AWS_LAMBDA', key: 'lambdaAuthorizerConfig' },
    cognito: { auth: { mode: 'cognito', userPoolId: 'eu-west-1_AbC123' }, type: 'AMAZON_COGNITO_USER_POOLS', key: 'userPoolConfig' },
    oidc: { auth: { mode: 'oidc', issuer: 'https://login.example.com', clientId: 'abc' }, type: 'OPENID_CONNECT', key: 'openidConnectConfig' },
  };
  it('auth apiKey (default): API_KEY + AWS_IAM, one key per region with an explicit expiry', async () => {
    const run = await base();
    for (const r of R) {
      const api = named(run, `api-${r}-graphql`);
      assert.equal(api.inputs.authenticationType, 'API_KEY');
      assert.deepEqual(api.inputs.additionalAuthenticationProviders, [{ authenticationType: 'AWS_IAM' }]);
      assert.ok(api.inputs.schema.includes(AUTH_DIRECTIVE.apiKey));
      const key = named(run, `api-${r}-api-key`);
      assert.match(key.inputs.expires, /^\d{4}-\d\d-\d\dT00:00:00Z$/);
      assert.deepEqual(key.ignoreChanges, ['expires']);
    }
  });
  // REST takes each mode's credential too: the shared API key, its usage plans and /graphql's key swap go,
  // a REST authorizer comes (oidc: with the project's authorizer function), and the protected Methods change
  const REST_ADDED: Record<string, (r: string) => string[]> = {
    // the function is in eu-west-1, a stack region: every region's API gets its invoke permission (made there)
    lambda: (r) => [`api-${r}-rest-authorizer`, `api-${r}-rest-authorizer-permission`],
    cognito: (r) => [`api-${r}-rest-authorizer`],
    oidc: (r) => ['', '-role', '-logs', '-policy'].map((s) => `api-${r}-authorizer${s}`).concat(`api-${r}-authorizer`, `api-${r}-rest-authorizer`, `api-${r}-rest-authorizer-permission`),
  };
  const PROTECTED_ROUTES = ['item-get', 'item-put', 'item-delete', 'state-get', 'graphql-post'];
  for (const [mode, { auth, type, key }] of Object.entries(AUTH)) {
    it(`auth ${mode}: the GraphQL APIs change (auth type, its config, the schema's directive), the API keys go, REST takes the same credential`, async () => {
      const run = mode === 'oidc' ? await runProgram({ ...BASE, auth: JSON.stringify(auth) }, 'dev', { code: authorizerCode }) : await variant({ auth: JSON.stringify(auth) });
      const d = diffRuns(await base(), run);
      assert.deepEqual(d.added.sort(), R.flatMap(REST_ADDED[mode]).sort());
      assert.deepEqual(d.removed.sort(), ['api-key', 'api-key-value', ...R.flatMap((r) => ['api-key', 'rest-api-key', 'usage-plan', 'usage-plan-key'].map((k) => `api-${r}-${k}`))].sort());
      const rest = (r: string): string[] => [...PROTECTED_ROUTES.map((k) => `api-${r}-${k}`), `api-${r}-graphql-post-integration`, `api-${r}-stage`, `api-${r}-deployment`];
      assert.deepEqual(Object.keys(d.changed).sort(), R.flatMap((r) => [`api-${r}-graphql`, ...rest(r)]).sort());
      for (const r of R) {
        for (const k of PROTECTED_ROUTES) assert.deepEqual(d.changed[`api-${r}-${k}`], ['apiKeyRequired', 'authorization', 'authorizerId'], `${r} ${k}`);
        assert.deepEqual([d.changed[`api-${r}-graphql-post-integration`], d.changed[`api-${r}-stage`]], [['requestParameters'], ['variables']]);
        assert.deepEqual(d.changed[`api-${r}-graphql`], ['authenticationType', key, 'schema'].sort());
        const api = named(run, `api-${r}-graphql`);
        assert.equal(api.inputs.authenticationType, type);
        assert.deepEqual(api.inputs.additionalAuthenticationProviders, [{ authenticationType: 'AWS_IAM' }]);
        assert.ok(api.inputs.schema.includes(AUTH_DIRECTIVE[mode as keyof typeof AUTH_DIRECTIVE]));
        assert.ok(!api.inputs.schema.includes(AUTH_DIRECTIVE.apiKey));
      }
      assert.equal(run.outputs.apiKeys, undefined);
    });
  }

  it('protect: the two tables change (protect option + deletion protection on table and replicas) and the WAF comes (its default follows protect)', async () => {
    const run = await variant({ protect: 'true' });
    const d = diffRuns(await base(), run);
    const waf = R.flatMap((r) => ['', '-acl', '-logs', '-logging', '-graphql-acl', '-graphql-logs', '-graphql-logging', '-graphql-association', '-stage-association'].map((p) => `api-${r}-waf${p}`));
    assert.deepEqual([d.added.sort(), d.removed], [waf.sort(), []]);
    assert.deepEqual(d.changed, {
      'tables-items': ['deletionProtectionEnabled', 'protect', 'replicas'],
      'tables-app-config': ['deletionProtectionEnabled', 'protect', 'replicas'],
    });
    for (const t of ofType(run, 'aws:dynamodb/table:Table')) {
      assert.equal(t.protect, true);
      assert.ok(t.inputs.replicas.every((r: { deletionProtectionEnabled: boolean }) => r.deletionProtectionEnabled));
    }
  });

  it('domain: only adds (certificates, validations, custom domains, mappings, records), changes nothing', async () => {
    const run = await variant({ domain: JSON.stringify({ zoneName: 'example.com', name: 'api.example.com' }) });
    const d = diffRuns(await base(), run);
    assert.deepEqual(d.removed, []);
    assert.deepEqual(d.changed, {});
    const perRegion = ['cert', 'cert-validation', 'cert-validated', 'domain', 'domain-mapping', 'regional-domain', 'regional-domain-mapping', 'latency', 'direct'];
    assert.deepEqual(d.added.sort(), ['routing-cert-validation', ...R.flatMap((r) => perRegion.map((k) => `routing-${r}-${k}`))].sort());
    assert.equal(run.outputs.globalUrl, 'https://api.example.com');
  });

  it('primaryRegion: both tables (and the state item) keep their provider and inputs; the primary-items wiring follows', async () => {
    const run = await variant({ primaryRegion: R[1] });
    const d = diffRuns(await base(), run);
    assert.deepEqual([d.added, d.removed], [[], []]);
    for (const name of ['tables-items', 'tables-app-config', 'app-state-initial']) assert.equal(d.changed[name], undefined, `${name} changed: ${d.changed[name]}`);
    for (const t of ofType(run, 'aws:dynamodb/table:Table')) assert.equal(t.region, R[0]);
    for (const r of R) {
      for (const ds of ['primaryItems', 'primaryAppConfig']) {
        assert.deepEqual(d.changed[`api-${r}-ds-${ds}`], ['dynamodbConfig']);
        assert.equal(named(run, `api-${r}-ds-${ds}`).inputs.dynamodbConfig.region, R[1]);
      }
      assert.equal(named(run, `api-${r}-items`).inputs.environment.variables.PRIMARY_REGION, R[1]);
    }
    const allowed = /^(api-[a-z0-9-]+-(items|health|state|items-policy|ds-primary(Items|AppConfig)|ds-primary(Items|AppConfig)-policy|fn-[A-Za-z]+|resolver-[A-Za-z]+-[A-Za-z]+)|app-state-[a-z0-9-]+-updater)$/;
    for (const [name, keys] of Object.entries(d.changed)) assert.match(name, allowed, `${name} changed (${keys})`);
  });

  it('adding a region adds one replica per table and that region\'s resources, and changes nothing else', async () => {
    const added = 'eu-central-1';
    const before = await base();
    const after = await variant({ regions: JSON.stringify([...R, added]) });
    const d = diffRuns(before, after);
    assert.deepEqual(d.removed, []);
    // (the stack dashboard gains the new region's row: an in-place update of its body)
    // (and every state updater learns the new region: STATE_REGIONS, and GetItem on its replica for the read-back)
    const updaters = Object.fromEntries(R.flatMap((r) => [[`app-state-${r}-updater`, ['environment']], [`app-state-${r}-updater-policy`, ['policy']]]));
    assert.deepEqual(d.changed, { 'tables-items': ['replicas'], 'tables-app-config': ['replicas'], dashboard: ['dashboardBody'], ...updaters });
    for (const t of ofType(after, 'aws:dynamodb/table:Table')) assert.deepEqual(t.inputs.replicas.map((x: { regionName: string }) => x.regionName), [R[1], added]);
    for (const name of d.added) assert.ok(new RegExp(`(^|-)${added}(-|$)`).test(name), `${name} added but not ${added}'s`);
    // exactly one region's worth: what a region adds is what the second region added to the first
    const one = await cachedRun({ regions: JSON.stringify([R[0]]) });
    // plus issue 11's ReplicationLatency alarms (average, maximum) for the new pairs, both ways: 2 × 2 × R.length,
    // each in its source region (where DynamoDB publishes the metric)
    const pair = (name: string): string[] | undefined => /^alarms-([a-z]+-[a-z]+-\d)-replication-([a-z]+-[a-z]+-\d)-(average|maximum)$/.exec(name)?.slice(1, 3);
    const pairsOf = (run: ProgramRun): number => run.resources.filter((r) => pair(r.name)).length;
    assert.equal(d.added.length, before.resources.length - pairsOf(before) - (one.resources.length - pairsOf(one)) + 4 * R.length);
    for (const r of after.resources.filter((x) => d.added.includes(x.name) && x.custom && x.type !== 'pulumi:providers:aws')) {
      assert.equal(r.region, r.name.endsWith('-health-alarm') ? 'us-east-1' : pair(r.name) ? pair(r.name)![0] : added, r.name);
    }
  });

  describe('reordering regions', () => {
    const ABC = ['eu-west-1', 'ap-southeast-2', 'us-west-2'];
    const CAB = [ABC[2], ABC[0], ABC[1]];
    const TABLES = ['tables-items', 'tables-app-config'];
    const providerChanges = (d: ReturnType<typeof diffRuns>): string[] => Object.entries(d.changed).filter(([, keys]) => keys.includes('provider')).map(([name]) => name);

    it('with homeRegion set: no table, no state item and no resource\'s provider changes, nothing is added or removed', async () => {
      const before = await cachedRun({ regions: JSON.stringify(ABC), homeRegion: ABC[0] });
      const after = await cachedRun({ regions: JSON.stringify(CAB), homeRegion: ABC[0] });
      const d = diffRuns(before, after);
      assert.deepEqual([d.added, d.removed], [[], []]);
      for (const name of [...TABLES, 'app-state-initial']) assert.equal(d.changed[name], undefined, `${name} changed: ${d.changed[name]}`);
      assert.deepEqual(providerChanges(d), []);
      for (const t of ofType(after, 'aws:dynamodb/table:Table')) assert.equal(t.region, ABC[0]);
      // only the primary region (which defaults to regions[0]) moved: pinning it too makes the reorder a no-op
      for (const [name, keys] of Object.entries(d.changed)) assert.ok(keys.every((k) => ['dynamodbConfig', 'environment', 'code', 'policy'].includes(k)), `${name} changed (${keys})`);
      const pinned = diffRuns(
        await cachedRun({ regions: JSON.stringify(ABC), homeRegion: ABC[0], primaryRegion: ABC[0] }),
        await cachedRun({ regions: JSON.stringify(CAB), homeRegion: ABC[0], primaryRegion: ABC[0] }),
      );
      // ... but for the state updaters' STATE_REGIONS: failover is declared in the first region after the primary, in
      // config order, so the order is part of the runbook (handlers/lib/stateRules.ts)
      assert.deepEqual(pinned, { added: [], removed: [], changed: Object.fromEntries(ABC.map((r) => [`app-state-${r}-updater`, ['environment']])) });
    });

    it('without homeRegion (it defaults to regions[0]): a reorder that changes regions[0] moves both tables to another provider (the hazard; stack files pin homeRegion)', async () => {
      const before = await cachedRun({ regions: JSON.stringify(ABC) });
      const after = await cachedRun({ regions: JSON.stringify(CAB) });
      const d = diffRuns(before, after);
      for (const name of TABLES) {
        assert.ok(d.changed[name]?.includes('provider'), `${name}: ${d.changed[name]}`);
        assert.equal(named(before, name).region, ABC[0]);
        // a table with a physical name is delete-before-replace in its new home region: the data would go
        assert.equal(named(after, name).region, CAB[0]);
      }
      assert.ok(d.changed['app-state-initial']?.includes('provider'), 'the state item moves too');
    });
  });

  describe('bad config registers nothing', () => {
    const bad: Record<string, Record<string, string>> = {
      'unknown region': { regions: JSON.stringify(['eu-west-1', 'mars-north-1']) },
      'primaryRegion outside regions, bad writeMode': { regions: 'eu-west-1,ap-southeast-2', primaryRegion: 'us-east-1', writeMode: 'both' },
    };
    for (const [label, config] of Object.entries(bad)) {
      it(label, async () => {
        await assert.rejects(runProgram(config), (err: unknown) => {
          assert.ok(err instanceof ConfigError, String(err));
          return true;
        });
        assert.equal(lastRun().resources.length, 0);
      });
    }
  });
});
