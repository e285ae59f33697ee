/**
 * The program's topology under Pulumi mocks: what 1, 2, 3 and 5 regions register, which provider each resource
 * goes through, the global table's replicas and streams, health checks and latency records, the real stack
 * files, the outputs. Every expected count is derived (from the manifest, from two runs), never typed in.
 */
import assert from 'node:assert/strict';
import { readStackFile } from '../../config';
import { HANDLER_NAMES } from '../../components/bundle';
import { ROUTE53_CHECKER_REGIONS, HEALTH_CHECK } from '../../components/globalRouting';
import { stateUpdaterFunctionName } from '../../config/names';
import { STAGE_NAME } from '../../components/regionalApi';
import { FUNCTIONS, RESOLVERS } from '../../schema/resolvers/manifest';
import { cachedRun, countByType, custom, named, ofType, type ProgramRun, type Recorded } from '../../scripts/mockCloud';

const ALL = ['eu-west-1', 'ap-southeast-2', 'eu-central-1', 'us-west-2', 'ap-northeast-1'];
const DOMAIN = JSON.stringify({ zoneName: 'example.com', name: 'api.example.com' });
const cfg = (regions: string[], extra: Record<string, string> = {}): Record<string, string> => ({ regions: JSON.stringify(regions), ...extra });
const withDomain = (n: number): Promise<ProgramRun> => cachedRun(cfg(ALL.slice(0, n), { domain: DOMAIN }));

/** Does a resource name carry this region as a `-`-delimited token? */
const mentions = (name: string, region: string): boolean => new RegExp(`(^|-)${region}(-|$)`).test(name);
/** The region-named component a URN's parent chain names (RegionalApi api-<r>, Notifier notifier-<r>). */
/** The ReplicationLatency alarms, one per source → destination pair (so N × (N-1), not linear): [source, destination] */
const replicationPair = (name: string): [string, string] | undefined => /^alarms-([a-z]+-[a-z]+-\d)-replication-([a-z]+-[a-z]+-\d)-(average|maximum)$/.exec(name)?.slice(1, 3) as [string, string] | undefined;
const parentRegion = (r: Recorded, regions: string[]): string | undefined => regions.find((region) => r.parent.endsWith(`::api-${region}`) || r.parent.endsWith(`::notifier-${region}`));

describe('topology (Pulumi mocks)', function () {
  this.timeout(120_000);

  describe('counts grow exactly linearly with the regions', () => {
    it('resources(N) = global + N × perRegion for N = 1, 2, 3, 5, per type and in total', async () => {
      const runs = new Map<number, ProgramRun>();
      for (const n of [1, 2, 3, 5]) runs.set(n, await withDomain(n));
      // the per-pair replication alarms grow as N × (N-1), two each: counted apart, everything else is linear
      for (const n of [1, 2, 3, 5]) assert.equal(runs.get(n)!.resources.filter((r) => replicationPair(r.name)).length, 2 * n * (n - 1), `replication alarms for ${n} regions`);
      const linear = (run: ProgramRun): ProgramRun => ({ ...run, resources: run.resources.filter((r) => !replicationPair(r.name)) });
      const c = (n: number): Record<string, number> => countByType(linear(runs.get(n)!));
      const types = new Set([1, 2, 3, 5].flatMap((n) => Object.keys(c(n))));
      let perRegionTotal = 0;
      let globalTotal = 0;
      for (const t of types) {
        const per = (c(2)[t] ?? 0) - (c(1)[t] ?? 0);
        const glob = (c(1)[t] ?? 0) - per;
        for (const n of [3, 5]) assert.equal(c(n)[t] ?? 0, glob + n * per, `${t}: ${c(n)[t]} for ${n} regions, expected ${glob} + ${n}×${per}`);
        perRegionTotal += per;
        globalTotal += glob;
      }
      for (const n of [1, 2, 3, 5]) assert.equal(linear(runs.get(n)!).resources.length, globalTotal + n * perRegionTotal);
      assert.ok(perRegionTotal > 50, `per region: ${perRegionTotal}`);
      // the per-region pieces that must be there once per region
      for (const [t, per] of Object.entries({
        'pulumi:providers:aws': 1,
        'global-appsync:index:RegionalApi': 1,
        'global-appsync:index:Notifier': 1,
        'aws:appsync/graphQLApi:GraphQLApi': 1,
        'aws:apigateway/restApi:RestApi': 1,
        'aws:route53/healthCheck:HealthCheck': 1,
        'aws:lambda/eventSourceMapping:EventSourceMapping': 1,
        'aws:acm/certificate:Certificate': 1,
        'aws:acm/certificateValidation:CertificateValidation': 1,
        // items, health, state, notifier, state updater (the authorizer only in auth.mode token), and the
        // readiness gate its latency record waits for (components/regionReady.ts)
        'aws:lambda/function:Function': HANDLER_NAMES.filter((h) => h !== 'authorizer').length + 1,
        'aws:lambda/invocation:Invocation': 1,
        'aws:appsync/resolver:Resolver': RESOLVERS.length,
        'aws:appsync/function:Function': Object.keys(FUNCTIONS).length,
        'aws:appsync/dataSource:DataSource': 5,
      })) {
        assert.equal((c(2)[t] ?? 0) - (c(1)[t] ?? 0), per, `${t} per region`);
      }
      // and the global ones once, whatever N
      for (const n of [1, 2, 3, 5]) {
        assert.equal(c(n)['aws:dynamodb/table:Table'], 2);
        assert.equal(c(n)['aws:dynamodb/tableItem:TableItem'], 1);
        assert.equal(c(n)['global-appsync:index:GlobalTable'], 1);
        assert.equal(c(n)['global-appsync:index:GlobalRouting'], 1);
        assert.equal(c(n)['global-appsync:index:AppState'], 1);
      }
    });

    it('the manifest is deployed in full in every region: one resolver per field, one function per entry, APPSYNC_JS', async () => {
      const run = await withDomain(3);
      assert.ok(RESOLVERS.length > 0, 'schema/resolvers/manifest.ts is empty');
      for (const region of ALL.slice(0, 3)) {
        const resolvers = ofType(run, 'aws:appsync/resolver:Resolver').filter((r) => r.region === region);
        assert.deepEqual(resolvers.map((r) => `${r.inputs.type}.${r.inputs.field}`).sort(), RESOLVERS.map((s) => `${s.typeName}.${s.fieldName}`).sort());
        for (const r of resolvers) {
          assert.deepEqual(r.inputs.runtime, { name: 'APPSYNC_JS', runtimeVersion: '1.0.0' });
          assert.ok(typeof r.inputs.code === 'string' && r.inputs.code.length > 0);
          const spec = RESOLVERS.find((s) => s.typeName === r.inputs.type && s.fieldName === r.inputs.field)!;
          if (spec.kind === 'pipeline') {
            assert.equal(r.inputs.kind, 'PIPELINE');
            assert.equal(r.inputs.pipelineConfig.functions.length, spec.functions.length);
          } else {
            assert.equal(r.inputs.kind, 'UNIT');
            assert.equal(r.inputs.dataSource, spec.dataSource);
          }
        }
        const fns = ofType(run, 'aws:appsync/function:Function').filter((r) => r.region === region);
        assert.deepEqual(fns.map((f) => f.inputs.name).sort(), Object.keys(FUNCTIONS).sort());
        for (const f of fns) assert.equal(f.inputs.dataSource, FUNCTIONS[f.inputs.name].dataSource);
        const ds = ofType(run, 'aws:appsync/dataSource:DataSource').filter((r) => r.region === region);
        assert.deepEqual(Object.fromEntries(ds.map((d) => [d.inputs.name, d.inputs.dynamodbConfig?.region ?? d.inputs.type])), {
          localItems: region,
          primaryItems: ALL[0],
          appConfig: region,
          primaryAppConfig: ALL[0],
          none: 'NONE',
        });
      }
    });
  });

  describe('providers', () => {
    it('every AWS resource goes through an explicit provider, and every region-named one through its own region', async () => {
      for (const n of [1, 3, 5]) {
        const run = await withDomain(n);
        const regions = ALL.slice(0, n);
        const providers = ofType(run, 'pulumi:providers:aws');
        assert.deepEqual(providers.map((p) => p.name).sort(), [...regions, 'us-east-1'].map((r) => `aws-${r}`).sort());
        for (const p of providers) assert.equal(p.inputs.region, p.name.slice('aws-'.length));
        // invokes too (the zone look-up in the home region): never the default provider
        for (const i of run.invokes) assert.ok(i.provider && providers.some((p) => i.provider!.includes(`::${p.name}::`)), `${i.token} without a provider`);
        assert.ok(run.invokes.some((i) => i.token === 'aws:route53/getZone:getZone'), 'the zone look-up is checked');
        // AWS resources only: random:index/randomPassword (apiKey mode's shared key value) calls no cloud API
        for (const r of custom(run).filter((x) => x.type.startsWith('aws:'))) {
          assert.ok(r.region, `${r.type} ${r.name} has no explicit provider (${r.provider ?? 'default provider'})`);
          const named = regions.filter((region) => mentions(r.name, region));
          const owner = parentRegion(r, regions);
          if (owner) assert.equal(r.region, owner, `${r.name} is a child of ${owner}'s component but goes through ${r.region}`);
          if (replicationPair(r.name)) {
            // DynamoDB publishes ReplicationLatency in the source region
            assert.equal(r.region, replicationPair(r.name)![0], r.name);
          } else if (r.name.endsWith('-health-alarm')) {
            // Route53 health-check metrics exist only in us-east-1
            assert.equal(r.region, 'us-east-1', r.name);
          } else if (named.length === 1) {
            assert.equal(r.region, named[0], `${r.type} ${r.name} goes through ${r.region}`);
          } else {
            // the global ones: tables, state item and the shared validation record in the home region,
            // health-alarm topic in us-east-1
            assert.ok(r.region === regions[0] || r.region === 'us-east-1', `${r.type} ${r.name} goes through ${r.region}`);
          }
        }
      }
    });

    it('each region has its full set of resources on its provider (same types and counts as every other region)', async () => {
      const run = await withDomain(5);
      const shape = (region: string): string =>
        JSON.stringify(
          Object.entries(
            custom(run)
              .filter((r) => r.region === region && mentions(r.name, region))
              .reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.type]: (acc[r.type] ?? 0) + 1 }), {}),
          ).sort(),
        );
      const first = shape(ALL[0]);
      for (const region of ALL.slice(1)) assert.equal(shape(region), first, region);
    });
  });

  describe('global tables', () => {
    for (const n of [1, 2, 3, 5]) {
      it(`${n} region(s): both tables in the home region with replicas = the other ${n - 1}, in config order`, async () => {
        const run = await withDomain(n);
        const regions = ALL.slice(0, n);
        for (const t of ofType(run, 'aws:dynamodb/table:Table')) {
          assert.equal(t.region, regions[0]);
          assert.deepEqual((t.inputs.replicas ?? []).map((r: { regionName: string }) => r.regionName), regions.slice(1));
          assert.equal(t.inputs.streamEnabled, true);
          assert.equal(t.inputs.streamViewType, 'NEW_AND_OLD_IMAGES');
          assert.equal(t.inputs.billingMode, 'PAY_PER_REQUEST');
          assert.equal(t.inputs.hashKey, 'id');
          assert.deepEqual(t.inputs.pointInTimeRecovery, { enabled: true });
          assert.deepEqual(t.inputs.serverSideEncryption, { enabled: true });
          for (const r of t.inputs.replicas ?? []) assert.equal(r.pointInTimeRecovery, true);
        }
        assert.deepEqual(ofType(run, 'aws:dynamodb/table:Table').map((t) => t.inputs.name).sort(), ['global-appsync-dev-app-config', 'global-appsync-dev-items']);
      });
    }

    it("each region's notifier reads its own replica's stream (replicas[].streamArn; home: the table's)", async () => {
      const run = await withDomain(5);
      const items = named(run, 'tables-items');
      const streamOf = (region: string): string =>
        region === items.region ? items.state.streamArn : items.state.replicas.find((r: { regionName: string }) => r.regionName === region).streamArn;
      for (const region of ALL) {
        const esm = named(run, `notifier-${region}-stream`);
        assert.equal(esm.inputs.eventSourceArn, streamOf(region));
        assert.ok(esm.inputs.eventSourceArn.includes(`:${region}:`), esm.inputs.eventSourceArn);
      }
    });

    it('the initial app state is written once, in the home region, after the table, and never reset', async () => {
      const run = await withDomain(3);
      const item = ofType(run, 'aws:dynamodb/tableItem:TableItem');
      assert.equal(item.length, 1);
      assert.equal(item[0].region, ALL[0]);
      assert.deepEqual(item[0].ignoreChanges, ['item']);
      assert.ok(item[0].dependencies.some((u) => u.endsWith('::tables-app-config')), 'depends on the app-config table');
      assert.equal(item[0].inputs.tableName, 'global-appsync-dev-app-config');
      const body = JSON.parse(item[0].inputs.item);
      assert.deepEqual(Object.keys(body).sort(), ['id', 'reason', 'state', 'updatedAt', 'version']);
      assert.equal(body.state.S, 'active');
      assert.equal(body.id.S, 'app-state');
    });
  });

  describe('routing', () => {
    for (const n of [1, 2, 3, 5]) {
      it(`${n} region(s): one HTTPS health check per region on its execute-api host, one latency record per region`, async () => {
        const run = await withDomain(n);
        const regions = ALL.slice(0, n);
        const checks = ofType(run, 'aws:route53/healthCheck:HealthCheck');
        assert.equal(checks.length, n);
        for (const region of regions) {
          const hc = checks.filter((c) => c.region === region);
          assert.equal(hc.length, 1, region);
          const rest = named(run, `api-${region}-rest`);
          assert.equal(hc[0].inputs.fqdn, `${rest.name}-id.execute-api.${region}.amazonaws.com`);
          assert.equal(hc[0].inputs.resourcePath, `/${STAGE_NAME}/health`);
          for (const [k, v] of Object.entries(HEALTH_CHECK)) assert.equal(hc[0].inputs[k], v, k);
          assert.equal(hc[0].inputs.port, 443);
          assert.equal(hc[0].inputs.failureThreshold, 3);
          assert.equal(hc[0].inputs.requestInterval, 30);
          assert.equal(hc[0].inputs.enableSni, true);
          assert.ok(hc[0].inputs.regions.length >= 3);
          for (const c of hc[0].inputs.regions) assert.ok((ROUTE53_CHECKER_REGIONS as readonly string[]).includes(c), c);
        }
        const latency = ofType(run, 'aws:route53/record:Record').filter((r) => r.inputs.latencyRoutingPolicies);
        assert.equal(latency.length, n);
        assert.deepEqual(latency.map((r) => r.inputs.setIdentifier).sort(), [...regions].sort());
        for (const r of latency) {
          assert.equal(r.inputs.name, 'api.example.com');
          assert.equal(r.inputs.type, 'A');
          assert.equal(r.inputs.ttl, undefined, 'alias records take no ttl');
          assert.deepEqual(r.inputs.latencyRoutingPolicies, [{ region: r.inputs.setIdentifier }]);
          assert.equal(r.inputs.healthCheckId, `routing-${r.inputs.setIdentifier}-health-id`);
          assert.equal(r.inputs.aliases[0].evaluateTargetHealth, true);
          assert.equal(r.inputs.aliases[0].name, named(run, `routing-${r.inputs.setIdentifier}-domain`).state.regionalDomainName);
          assert.equal(r.region, r.inputs.setIdentifier);
        }
      });
    }

    it('with a domain: per region a certificate (+ SAN), its validation, two TLS 1.2 regional custom domains, a direct record; the shared validation record once', async () => {
      const run = await withDomain(3);
      const regions = ALL.slice(0, 3);
      for (const region of regions) {
        const cert = named(run, `routing-${region}-cert`);
        assert.equal(cert.region, region);
        assert.equal(cert.inputs.domainName, 'api.example.com');
        assert.deepEqual(cert.inputs.subjectAlternativeNames, [`${region}.api.example.com`]);
        assert.equal(cert.inputs.validationMethod, 'DNS');
        const validated = named(run, `routing-${region}-cert-validated`);
        assert.equal(validated.inputs.certificateArn, cert.state.arn);
        assert.equal(validated.inputs.validationRecordFqdns.length, 2);
        for (const [key, name] of [['domain', 'api.example.com'], ['regional-domain', `${region}.api.example.com`]]) {
          const dn = named(run, `routing-${region}-${key}`);
          assert.equal(dn.inputs.domainName, name);
          assert.deepEqual(dn.inputs.endpointConfiguration, { types: 'REGIONAL' });
          assert.equal(dn.inputs.securityPolicy, 'TLS_1_2');
          assert.equal(dn.inputs.regionalCertificateArn, cert.state.arn);
          const map = named(run, `routing-${region}-${key}-mapping`);
          assert.equal(map.inputs.restApi, `api-${region}-rest-id`);
          assert.equal(map.inputs.stageName, STAGE_NAME);
        }
        const direct = named(run, `routing-${region}-direct`);
        assert.equal(direct.inputs.name, `${region}.api.example.com`);
        assert.equal(direct.inputs.setIdentifier, undefined);
      }
      const validations = ofType(run, 'aws:route53/record:Record').filter((r) => r.inputs.type === 'CNAME');
      const names = validations.map((r) => r.inputs.name);
      assert.equal(new Set(names).size, names.length, 'each validation record once');
      assert.equal(validations.length, regions.length + 1);
      assert.ok(validations.every((r) => r.inputs.allowOverwrite === true));
      assert.ok(names.some((n) => n.endsWith('.api.example.com.') && !regions.some((r) => n.includes(r))), 'the shared record of api.example.com');
    });

    it('without a domain: no certificate, custom domain or record; health checks still', async () => {
      const run = await cachedRun(cfg(ALL.slice(0, 2)));
      for (const t of ['aws:acm/certificate:Certificate', 'aws:route53/record:Record', 'aws:apigateway/domainName:DomainName', 'aws:apigateway/basePathMapping:BasePathMapping']) {
        assert.equal(ofType(run, t).length, 0, t);
      }
      assert.equal(ofType(run, 'aws:route53/healthCheck:HealthCheck').length, 2);
      assert.equal(run.outputs.globalUrl, undefined);
    });
  });

  describe('the real stack files', () => {
    it('Pulumi.dev.yaml: 2 regions, no domain, unprotected tables, every output per region', async () => {
      const run = await cachedRun(readStackFile('dev'), 'dev');
      const regions = ['eu-west-1', 'ap-southeast-2'];
      assert.deepEqual(Object.keys(run.outputs.regions), regions);
      assert.equal(ofType(run, 'aws:route53/healthCheck:HealthCheck').length, 2);
      assert.equal(ofType(run, 'aws:acm/certificate:Certificate').length, 0);
      for (const t of ofType(run, 'aws:dynamodb/table:Table')) {
        assert.equal(t.protect, false);
        assert.equal(t.inputs.deletionProtectionEnabled, false);
        assert.deepEqual(t.inputs.replicas.map((r: { regionName: string }) => r.regionName), ['ap-southeast-2']);
      }
      for (const region of regions) {
        const o = run.outputs.regions[region];
        assert.deepEqual(Object.keys(o).sort(), ['graphqlUrl', 'healthCheckId', 'notifierDlqUrl', 'realtimeUrl', 'restUrl']);
        assert.equal(o.notifierDlqUrl, named(run, `notifier-${region}-dlq`).state.url);
        assert.match(o.graphqlUrl, new RegExp(`^https://.*\\.appsync-api\\.${region}\\.amazonaws\\.com/graphql$`));
        assert.match(o.realtimeUrl, new RegExp(`^wss://.*\\.appsync-realtime-api\\.${region}\\.amazonaws\\.com/graphql$`));
        assert.match(o.restUrl, new RegExp(`^https://.*\\.execute-api\\.${region}\\.amazonaws\\.com/${STAGE_NAME}$`));
        assert.equal(o.healthCheckId, `routing-${region}-health-id`);
      }
      assert.deepEqual(run.outputs.tables, { items: 'global-appsync-dev-items', appConfig: 'global-appsync-dev-app-config' });
      assert.equal(run.secret.apiKeys, true, 'API keys are secret outputs');
      assert.deepEqual(Object.keys(run.outputs.apiKeys), regions);
      assert.deepEqual(Object.keys(run.outputs.apiKeyExpires), regions);
      for (const region of regions) assert.match(run.outputs.apiKeyExpires[region], /^\d{4}-\d\d-\d\dT00:00:00Z$/);
    });

    it('Pulumi.prod.yaml: 3 regions, domain with latency routing, protected tables, alarm e-mails', async () => {
      const run = await cachedRun(readStackFile('prod'), 'prod');
      const regions = ['us-east-1', 'eu-west-1', 'ap-southeast-2'];
      assert.deepEqual(Object.keys(run.outputs.regions), regions);
      assert.equal(run.outputs.globalUrl, 'https://api.example.com');
      // us-east-1 is a stack region here: its provider also carries the health-check alarms (no extra provider)
      assert.deepEqual(ofType(run, 'pulumi:providers:aws').map((p) => p.name), regions.map((r) => `aws-${r}`));
      for (const t of ofType(run, 'aws:dynamodb/table:Table')) {
        assert.equal(t.region, 'us-east-1');
        assert.equal(t.protect, true);
        assert.equal(t.inputs.deletionProtectionEnabled, true);
        assert.ok(t.inputs.replicas.every((r: { deletionProtectionEnabled: boolean }) => r.deletionProtectionEnabled === true));
        assert.deepEqual(t.inputs.replicas.map((r: { regionName: string }) => r.regionName), ['eu-west-1', 'ap-southeast-2']);
      }
      assert.equal(ofType(run, 'aws:route53/record:Record').filter((r) => r.inputs.latencyRoutingPolicies).length, 3);
      const subs = ofType(run, 'aws:sns/topicSubscription:TopicSubscription');
      assert.equal(subs.length, regions.length + 1, 'one per notifier topic + the health-alarm topic');
      assert.ok(subs.every((s) => s.inputs.protocol === 'email' && s.inputs.endpoint === 'ops@example.com'));
      for (const region of regions) assert.equal(run.outputs.regions[region].url, `https://${region}.api.example.com`);
      assert.equal(run.invokes.filter((i) => i.token === 'aws:route53/getZone:getZone').length, 1);
    });
  });

  describe('Lambdas', () => {
    const ENV: Record<string, string[]> = {
      // CONSISTENCY: every function, eventual | strong
      items: ['APP_CONFIG_TABLE', 'CONSISTENCY', 'ITEMS_TABLE', 'PRIMARY_REGION', 'STATE_CACHE_MS', 'WRITE_MODE'],
      health: ['APP_CONFIG_TABLE', 'CONSISTENCY', 'DRAIN', 'PRIMARY_REGION'], // reads only the app-config table
      state: ['APP_CONFIG_TABLE', 'CONSISTENCY', 'PRIMARY_REGION', 'WRITE_MODE'],
      updater: ['APP_CONFIG_TABLE', 'CONSISTENCY', 'PRIMARY_REGION', 'STATE_REGIONS', 'STATE_WRITE_BOUND_MS', 'WRITE_MODE'],
      notifier: ['APPSYNC_URL', 'CONSISTENCY', 'NOTIFIER_CONCURRENCY', 'NOTIFIER_DLQ_URL'],
      gate: [], // the readiness gate (deploy-time helper): its event says what to wait for
    };
    it('nodejs22.x on arm64, index.handler, own role and log group, exactly the environment contract', async () => {
      const run = await withDomain(2);
      const fns = ofType(run, 'aws:lambda/function:Function');
      assert.equal(fns.length, 2 * Object.keys(ENV).length);
      const roles = new Set<string>();
      for (const f of fns) {
        assert.equal(f.inputs.runtime, 'nodejs22.x');
        assert.deepEqual(f.inputs.architectures, ['arm64']);
        assert.equal(f.inputs.handler, 'index.handler');
        assert.ok(f.inputs.code, `${f.name} has code`);
        roles.add(f.inputs.role);
        assert.equal(f.inputs.loggingConfig.logGroup, named(run, `${f.name}-logs`).state.name);
        const kind = Object.keys(ENV).find((k) => f.name.endsWith(`-${k}`) || (k === 'notifier' && /^notifier-[a-z0-9-]+$/.test(f.name)))!;
        assert.ok(kind, f.name);
        assert.deepEqual(Object.keys(f.inputs.environment.variables).sort(), ENV[kind], f.name);
      }
      assert.equal(roles.size, fns.length, 'one role per function');
      const region = ALL[1];
      const env = (name: string): Record<string, string> => fns.find((f) => f.name === name)!.inputs.environment.variables;
      assert.equal(env(`api-${region}-health`).DRAIN, 'false');
      assert.equal(env(`api-${region}-items`).PRIMARY_REGION, ALL[0]);
      assert.equal(env(`api-${region}-items`).ITEMS_TABLE, 'global-appsync-dev-items');
      // the write bound: the items containers' state cache (default 1 s) and what the state updater waits out —
      // 1 s + the items function's 10 s timeout is under AppSync's 30 s request limit, which binds
      assert.equal(env(`api-${region}-items`).STATE_CACHE_MS, '1000');
      assert.equal(named(run, `api-${region}-items`).inputs.timeout, 10);
      assert.equal(env(`app-state-${region}-updater`).STATE_WRITE_BOUND_MS, '30000');
      assert.equal(env(`notifier-${region}`).APPSYNC_URL, named(run, `api-${region}-graphql`).state.uris.GRAPHQL);
    });

    it('the state updater has the same fixed name in every region, the one `npm run state` invokes', async () => {
      const run = await withDomain(3);
      const updaters = ofType(run, 'aws:lambda/function:Function').filter((f) => f.name.endsWith('-updater'));
      assert.deepEqual(updaters.map((f) => f.region).sort(), ALL.slice(0, 3).sort());
      for (const f of updaters) assert.equal(f.inputs.name, stateUpdaterFunctionName('global-appsync', 'dev'));
      assert.equal(stateUpdaterFunctionName('global-appsync', 'dev'), 'global-appsync-dev-state-updater');
    });

    it('the REST API routes /graphql, /items/{id}, /health, /state, and each Lambda permission names its route on this API', async () => {
      const run = await withDomain(2);
      for (const region of ALL.slice(0, 2)) {
        const methods = ofType(run, 'aws:apigateway/method:Method').filter((m) => m.region === region);
        assert.deepEqual(methods.map((m) => m.inputs.httpMethod).sort(), ['DELETE', 'GET', 'GET', 'GET', 'POST', 'PUT']);
        const rest = named(run, `api-${region}-rest`);
        assert.deepEqual(rest.inputs.endpointConfiguration, { types: 'REGIONAL' });
        const graphql = named(run, `api-${region}-graphql-post-integration`);
        assert.equal(graphql.inputs.type, 'HTTP_PROXY');
        assert.equal(graphql.inputs.uri, named(run, `api-${region}-graphql`).state.uris.GRAPHQL);
        // each Lambda route: method on the right resource → AWS_PROXY integration invoking the right function,
        // and that function's permission for exactly this stage, method and path (a path parameter is `*` in the
        // ARN API Gateway invokes with), never `*/*`
        const ROUTES: { key: string; method: string; resource: string; fn: string; path: string }[] = [
          { key: 'item-get', method: 'GET', resource: 'item', fn: 'items', path: '/items/*' },
          { key: 'item-put', method: 'PUT', resource: 'item', fn: 'items', path: '/items/*' },
          { key: 'item-delete', method: 'DELETE', resource: 'item', fn: 'items', path: '/items/*' },
          { key: 'health-get', method: 'GET', resource: 'health', fn: 'health', path: '/health' },
          { key: 'state-get', method: 'GET', resource: 'state', fn: 'state', path: '/state' },
        ];
        const perms = ofType(run, 'aws:lambda/permission:Permission').filter((p) => p.region === region);
        assert.deepEqual(perms.map((p) => p.name).sort(), ROUTES.map((r) => `api-${region}-${r.key}-permission`).sort());
        for (const r of ROUTES) {
          const fn = named(run, `api-${region}-${r.fn}`);
          const resource = named(run, `api-${region}-rest-${r.resource}`);
          const method = named(run, `api-${region}-${r.key}`);
          assert.equal(method.inputs.httpMethod, r.method, r.key);
          assert.equal(method.inputs.resourceId, `${resource.name}-id`, r.key);
          assert.equal(method.inputs.restApi, `${rest.name}-id`, r.key);
          const integ = named(run, `api-${region}-${r.key}-integration`);
          assert.equal(integ.inputs.type, 'AWS_PROXY', r.key);
          assert.equal(integ.inputs.httpMethod, r.method, r.key);
          assert.equal(integ.inputs.resourceId, method.inputs.resourceId, r.key);
          assert.equal(integ.inputs.integrationHttpMethod, 'POST', r.key);
          assert.equal(integ.inputs.uri, fn.state.invokeArn, `${r.key} integrates ${r.fn}`);
          const perm = named(run, `api-${region}-${r.key}-permission`);
          assert.equal(perm.inputs.function, fn.state.name, `${r.key}: permission on ${r.fn}`);
          assert.equal(perm.inputs.action, 'lambda:InvokeFunction');
          assert.equal(perm.inputs.principal, 'apigateway.amazonaws.com');
          assert.equal(perm.inputs.sourceArn, `${rest.state.executionArn}/${STAGE_NAME}/${r.method}${r.path}`, r.key);
        }
        // the resources' paths (the mock's `path` is `/<pathPart>`; /items/{id} is {id} under /items)
        assert.equal(named(run, `api-${region}-rest-item`).inputs.parentId, `api-${region}-rest-items-id`);
        assert.equal(named(run, `api-${region}-rest-item`).inputs.pathPart, '{id}');
        for (const part of ['items', 'health', 'state', 'graphql']) {
          assert.equal(named(run, `api-${region}-rest-${part}`).inputs.pathPart, part);
          assert.equal(named(run, `api-${region}-rest-${part}`).inputs.parentId, rest.state.rootResourceId);
        }
        // each function may be invoked by API Gateway only through its own routes
        for (const fnKind of ['items', 'health', 'state']) {
          const fnName = named(run, `api-${region}-${fnKind}`).state.name;
          assert.deepEqual(
            perms.filter((p) => p.inputs.function === fnName).map((p) => p.inputs.sourceArn).sort(),
            ROUTES.filter((r) => r.fn === fnKind).map((r) => `${rest.state.executionArn}/${STAGE_NAME}/${r.method}${r.path}`).sort(),
            fnKind,
          );
        }
        const stage = named(run, `api-${region}-stage`);
        assert.equal(stage.inputs.accessLogSettings.destinationArn, named(run, `api-${region}-access-logs`).state.arn);
        assert.ok(JSON.parse(stage.inputs.accessLogSettings.format).requestId);
      }
    });
  });
});
