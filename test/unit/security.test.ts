/**
 * Least privilege, checked on every IAM document the program registers: no Resource "*" outside the one list
 * of actions AWS only authorises on "*"; each role scoped to exactly its own resources; the notifier may only
 * publish on its own region's publishItemChange; the stream mapping cannot block its shard; keys expire.
 */
import assert from 'node:assert/strict';
import { WILDCARD_RESOURCE_EXCEPTIONS, policyDocument } from '../../components/lambda';
import { STREAM_MAPPING } from '../../components/notifier';
import { APIGW_CLOUDWATCH_POLICY_ARN, DATA_SOURCE_ACTIONS, apiKeyExpiry } from '../../components/regionalApi';
import { FIXED_NOW, cachedRun, named, ofType, policies, type ProgramRun } from '../../scripts/mockCloud';

const R = ['eu-west-1', 'ap-southeast-2', 'us-west-2'];
const run3 = (): Promise<ProgramRun> => cachedRun({ regions: JSON.stringify(R), domain: JSON.stringify({ zoneName: 'example.com', name: 'api.example.com' }), alarmEmail: 'ops@example.com' });
const list = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
type Doc = ReturnType<typeof policies>[number]['doc'];
/** DynamoDB operations that take a condition expression (a failed one makes AppSync read the item). */
const CONDITIONAL_WRITES = ['PutItem', 'UpdateItem', 'DeleteItem'];
const statementsWith = (doc: Doc, action: string): Doc['Statement'] => doc.Statement.filter((s) => list(s.Action).includes(action));

describe('least privilege', function () {
  this.timeout(120_000);

  it('no policy grants Resource "*" except for the listed actions (and the list holds only such actions)', async () => {
    for (const run of [await run3(), await cachedRun({ regions: 'eu-west-1' })]) {
      const docs = policies(run);
      assert.ok(docs.length >= 15, `${docs.length} documents`); // one region: 10 trust + 9 inline documents
      // every role has exactly one inline policy: `<role name minus -role>-policy`, except API Gateway's
      // account-level logging role, which carries only the AWS-managed policy (checked below)
      const managed = (n: string): boolean => /^api-[a-z0-9-]+-apigw-logs$/.test(n);
      const roles = docs.filter((d) => d.kind === 'trust').map((d) => d.name.replace(/-role$/, ''));
      assert.equal(roles.filter(managed).length, ofType(run, 'aws:apigateway/account:Account').length);
      roles.splice(0, roles.length, ...roles.filter((n) => !managed(n)));
      assert.deepEqual(docs.filter((d) => d.kind === 'policy').map((d) => d.name.replace(/-policy$/, '')).sort(), [...roles].sort());
      let wildcards = 0;
      for (const { name, kind, doc } of docs) {
        for (const s of doc.Statement) {
          assert.equal(s.Effect, 'Allow', name);
          if (kind === 'trust') continue;
          const resources = list(s.Resource);
          assert.ok(resources.length > 0, `${name}: statement without resources`);
          if (resources.includes('*')) {
            wildcards += 1;
            assert.deepEqual(resources, ['*'], `${name}: "*" mixed with ARNs`);
            for (const a of list(s.Action)) assert.ok(WILDCARD_RESOURCE_EXCEPTIONS.includes(a), `${name}: ${a} on "*"`);
          }
          for (const a of list(s.Action)) assert.ok(!a.includes('*'), `${name}: wildcard action ${a}`);
        }
      }
      assert.ok(wildcards > 0, 'the exceptions are in use (X-Ray at least)');
    }
    assert.throws(() => policyDocument([{ actions: ['dynamodb:GetItem'], resources: ['*'] }]), /not allowed for dynamodb:GetItem/);
  });

  it("API Gateway's account-level logging role: AWS-managed policy only, and role, attachment and setting survive a stack's destroy", async () => {
    for (const run of [await run3(), await cachedRun({ regions: 'eu-west-1' })]) {
      const accounts = ofType(run, 'aws:apigateway/account:Account');
      assert.equal(accounts.length, ofType(run, 'aws:apigateway/restApi:RestApi').length, 'one per region');
      for (const account of accounts) {
        const prefix = account.name.replace(/-apigw-account$/, '');
        const role = named(run, `${prefix}-apigw-logs-role`);
        assert.equal(account.inputs.cloudwatchRoleArn, role.state.arn);
        assert.equal(JSON.parse(role.inputs.assumeRolePolicy).Statement[0].Principal.Service, 'apigateway.amazonaws.com');
        const attachments = ofType(run, 'aws:iam/rolePolicyAttachment:RolePolicyAttachment').filter((a) => a.inputs.role === role.state.name);
        assert.deepEqual(attachments.map((a) => a.inputs.policyArn), ['arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs']);
        assert.equal(APIGW_CLOUDWATCH_POLICY_ARN, attachments[0].inputs.policyArn);
        // no inline document of ours on it (a scoped one would break other APIs' logs in the account)
        assert.equal(ofType(run, 'aws:iam/rolePolicy:RolePolicy').filter((p) => p.inputs.role === role.state.name || p.inputs.role === `${role.name}-id`).length, 0);
        for (const r of [account, role, attachments[0]]) assert.equal(r.retainOnDelete, true, `${r.name} retainOnDelete`);
        assert.equal(account.region, role.region);
      }
      // nothing else is retained: every other resource goes with its stack
      const retained = run.resources.filter((r) => r.retainOnDelete).map((r) => r.type).sort();
      assert.deepEqual(retained, accounts.flatMap(() => ['aws:apigateway/account:Account', 'aws:iam/role:Role', 'aws:iam/rolePolicyAttachment:RolePolicyAttachment']).sort());
    }
  });

  it("each data source's role reaches exactly its table replica; the NONE one has no role", async () => {
    const run = await run3();
    const items = named(run, 'tables-items');
    const appConfig = named(run, 'tables-app-config');
    const arnIn = (t: typeof items, region: string): string =>
      region === t.region ? t.state.arn : t.state.replicas.find((r: { regionName: string }) => r.regionName === region).arn;
    for (const region of R) {
      // one statement each: the items sources reach their items replica only; the app-config sources their replica,
      // and in it the app-state item only (dynamodb:LeadingKeys)
      const expected: Record<string, string[]> = {
        localItems: [arnIn(items, region)],
        primaryItems: [arnIn(items, R[0])],
        appConfig: [arnIn(appConfig, region)],
        primaryAppConfig: [arnIn(appConfig, R[0])],
      };
      for (const [key, arns] of Object.entries(expected)) {
        const doc = JSON.parse(named(run, `api-${region}-ds-${key}-policy`).inputs.policy) as Doc;
        assert.equal(doc.Statement.length, 1, `${region} ${key}`);
        assert.deepEqual(list(doc.Statement[0].Resource), arns, `${region} ${key}`);
        assert.deepEqual(
          doc.Statement[0].Condition,
          key.endsWith('AppConfig') || key === 'appConfig' ? { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['app-state'] } } : undefined,
          `${region} ${key}: item-level condition`,
        );
        const ds = named(run, `api-${region}-ds-${key}`);
        assert.equal(ds.inputs.serviceRoleArn, named(run, `api-${region}-ds-${key}-role`).state.arn);
        const trust = JSON.parse(named(run, `api-${region}-ds-${key}-role`).inputs.assumeRolePolicy);
        assert.equal(trust.Statement[0].Condition.ArnLike['aws:SourceArn'], named(run, `api-${region}-graphql`).state.arn);
      }
      assert.equal(named(run, `api-${region}-ds-none`).inputs.serviceRoleArn, undefined);
    }
  });

  it('each data source role may do exactly the DynamoDB operations its deployed resolvers and functions send', async () => {
    const run = await run3();
    const operations = (code: string): string[] => [...code.matchAll(/\boperation:\s*["']([A-Za-z]+)["']/g)].map((m) => m[1]);
    for (const region of R) {
      // what the code on each data source sends, read from the bundles actually deployed in this region
      const sent: Record<string, Set<string>> = {};
      const onSource = [
        ...ofType(run, 'aws:appsync/function:Function').filter((f) => f.region === region),
        ...ofType(run, 'aws:appsync/resolver:Resolver').filter((r) => r.region === region && r.inputs.kind === 'UNIT'),
      ];
      for (const r of onSource) {
        const ops = operations(r.inputs.code);
        if (r.inputs.dataSource !== 'none') assert.ok(ops.length > 0, `${r.name}: no DynamoDB operation found in its code`);
        for (const op of ops) (sent[r.inputs.dataSource] ??= new Set()).add(`dynamodb:${op}`);
        // the read AppSync makes by itself: when a conditional write fails, the DynamoDB function GetItems the
        // item to compare it with the request (AppSync JS resolver reference, "Condition expressions")
        if (ops.some((op) => CONDITIONAL_WRITES.includes(op)) && /\bcondition\b/.test(r.inputs.code)) sent[r.inputs.dataSource].add('dynamodb:GetItem');
      }
      // pipeline resolvers' own before/after code has no data source, so sends nothing
      for (const r of ofType(run, 'aws:appsync/resolver:Resolver').filter((x) => x.region === region && x.inputs.kind === 'PIPELINE')) assert.deepEqual(operations(r.inputs.code), [], r.name);
      assert.equal(sent.none, undefined, 'the NONE data source sends no DynamoDB operation');
      assert.deepEqual(Object.keys(sent).sort(), Object.keys(DATA_SOURCE_ACTIONS).sort());
      for (const [key, actions] of Object.entries(sent)) {
        const doc = JSON.parse(named(run, `api-${region}-ds-${key}-policy`).inputs.policy) as Doc;
        const granted = doc.Statement.flatMap((st) => list(st.Action));
        assert.deepEqual([...granted].sort(), [...actions].sort(), `${region} ${key}: granted vs sent`);
        assert.deepEqual([...DATA_SOURCE_ACTIONS[key as keyof typeof DATA_SOURCE_ACTIONS]].sort(), [...actions].sort(), key);
      }
    }
    // spelled out, so a change shows in review
    assert.deepEqual(DATA_SOURCE_ACTIONS, {
      localItems: ['dynamodb:GetItem', 'dynamodb:Scan', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      primaryItems: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      appConfig: ['dynamodb:GetItem'],
      primaryAppConfig: ['dynamodb:GetItem'],
    });
    // no write shares an item with others, so nothing anywhere may run a transaction's condition check
    for (const { name, doc } of policies(run)) assert.equal(statementsWith(doc, 'dynamodb:ConditionCheckItem').length, 0, name);
  });

  it("the notifier may call appsync:GraphQL only on its own region's Mutation.publishItemChange, read only its own stream, send only to its DLQ", async () => {
    const run = await run3();
    for (const region of R) {
      const doc = JSON.parse(named(run, `notifier-${region}-policy`).inputs.policy) as Doc;
      const apiArn = named(run, `api-${region}-graphql`).state.arn;
      const graphql = statementsWith(doc, 'appsync:GraphQL');
      assert.equal(graphql.length, 1);
      assert.deepEqual(list(graphql[0].Resource), [`${apiArn}/types/Mutation/fields/publishItemChange`]);
      assert.deepEqual(list(graphql[0].Action), ['appsync:GraphQL']);
      const stream = named(run, `notifier-${region}-stream`).inputs.eventSourceArn;
      assert.deepEqual(list(statementsWith(doc, 'dynamodb:GetRecords')[0].Resource), [stream]);
      assert.deepEqual(list(statementsWith(doc, 'sqs:SendMessage')[0].Resource), [named(run, `notifier-${region}-dlq`).state.arn]);
      // nobody else may publish: no other policy mentions appsync:GraphQL
      for (const other of policies(run).filter((p) => p.kind === 'policy' && !p.name.startsWith(`notifier-`))) {
        assert.equal(statementsWith(other.doc, 'appsync:GraphQL').length, 0, other.name);
      }
    }
  });

  it('the Lambdas reach only their own region\'s replicas (the items λ also the primary\'s, for writeMode primary; health only app-config)', async () => {
    const run = await run3();
    const items = named(run, 'tables-items');
    for (const region of R) {
      const tableArns = (name: string): string[] =>
        (JSON.parse(named(run, name).inputs.policy) as Doc).Statement.flatMap((s) => list(s.Resource)).filter((r) => r.includes(':dynamodb:'));
      // health reads only the app-state item of its own app-config replica: no items table at all
      const appConfig = named(run, 'tables-app-config');
      const appConfigArn = region === appConfig.region ? appConfig.state.arn : appConfig.state.replicas.find((r: { regionName: string }) => r.regionName === region).arn;
      assert.deepEqual(tableArns(`api-${region}-health-policy`), [appConfigArn]);
      const healthDoc = JSON.parse(named(run, `api-${region}-health-policy`).inputs.policy) as Doc;
      assert.deepEqual(healthDoc.Statement.filter((st) => list(st.Action).some((a) => a.startsWith('dynamodb:'))).flatMap((st) => list(st.Action)), ['dynamodb:GetItem']);
      for (const arn of tableArns(`api-${region}-state-policy`)) assert.ok(arn.includes(`:${region}:`), arn);
      // the state updater writes only its own replica; it may read (GetItem only) every region's, for its read-back
      const updaterDoc = JSON.parse(named(run, `app-state-${region}-updater-policy`).inputs.policy) as Doc;
      for (const st of updaterDoc.Statement.filter((x) => list(x.Resource).some((r) => r.includes(':dynamodb:')))) {
        const writes = list(st.Action).some((a) => a !== 'dynamodb:GetItem');
        for (const arn of list(st.Resource)) {
          assert.ok(arn.includes(':table/global-appsync-dev-app-config'), arn);
          if (writes) assert.ok(arn.includes(`:${region}:`), `${arn}: writes only its own replica`);
        }
      }
      assert.equal(new Set(tableArns(`app-state-${region}-updater-policy`)).size, R.length, 'reads every replica of app-config');
      assert.deepEqual(
        updaterDoc.Statement.filter((x) => list(x.Resource).some((r) => r.includes(':dynamodb:') && r.includes(`:${region}:`))).flatMap((x) => list(x.Action)),
        ['dynamodb:GetItem', 'dynamodb:PutItem'],
        'what the updater sends to its own replica: a read and a conditional put',
      );
      // the write fence: GetItem of the app-state item (and of no other item: dynamodb:LeadingKeys) in the app-config
      // replica written to — its own, and the primary's (writeMode primary); the items replicas: GetItem, PutItem,
      // UpdateItem, DeleteItem, what handlers/lib/itemStore.ts sends, and nothing else
      const arnIn = (r: string): string => (r === appConfig.region ? appConfig.state.arn : appConfig.state.replicas.find((x: { regionName: string }) => x.regionName === r).arn);
      const itemsDoc = JSON.parse(named(run, `api-${region}-items-policy`).inputs.policy) as Doc;
      const dynamo = itemsDoc.Statement.filter((st) => list(st.Action).some((a) => a.startsWith('dynamodb:')));
      assert.equal(dynamo.length, 2, 'items, and the fence');
      const fence = dynamo.find((st) => list(st.Resource).some((r) => r.includes('app-config')))!;
      assert.deepEqual(list(fence.Action), ['dynamodb:GetItem']);
      assert.deepEqual(new Set(list(fence.Resource)), new Set([arnIn(region), arnIn(R[0])]));
      assert.deepEqual(fence.Condition, { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['app-state'] } });
      const writes = dynamo.find((st) => st !== fence)!;
      assert.deepEqual(list(writes.Action), ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']);
      assert.equal(writes.Condition, undefined);
      assert.deepEqual(new Set(tableArns(`api-${region}-items-policy`).filter((a) => a.includes(':table/global-appsync-dev-items'))), new Set([items.state.arn, ...items.state.replicas.map((r: { arn: string }) => r.arn)].filter((a: string) => a.includes(`:${region}:`) || a.includes(`:${R[0]}:`))));
    }
  });

  it('the stream mapping cannot block its shard: LATEST, ≤ 100, no batching wait, bisect, bounded retries and age, partial failures, DLQ', async () => {
    const run = await run3();
    const esms = ofType(run, 'aws:lambda/eventSourceMapping:EventSourceMapping');
    assert.equal(esms.length, R.length);
    for (const region of R) {
      const m = named(run, `notifier-${region}-stream`).inputs;
      assert.equal(m.startingPosition, 'LATEST');
      assert.ok(m.batchSize >= 1 && m.batchSize <= 100);
      assert.equal(m.maximumBatchingWindowInSeconds, 0);
      assert.equal(m.bisectBatchOnFunctionError, true);
      assert.ok(m.maximumRetryAttempts >= 0 && m.maximumRetryAttempts <= 10, `retries ${m.maximumRetryAttempts}`);
      assert.ok(m.maximumRecordAgeInSeconds >= 60 && m.maximumRecordAgeInSeconds <= 86_400, `age ${m.maximumRecordAgeInSeconds}`);
      assert.deepEqual(m.functionResponseTypes, ['ReportBatchItemFailures']);
      assert.equal(m.destinationConfig.onFailure.destinationArn, named(run, `notifier-${region}-dlq`).state.arn);
      assert.equal(m.functionName, named(run, `notifier-${region}`).state.arn);
      assert.deepEqual({ ...STREAM_MAPPING, functionResponseTypes: [...STREAM_MAPPING.functionResponseTypes] }, Object.fromEntries(Object.keys(STREAM_MAPPING).map((k) => [k, m[k]])));
      // alarms on the DLQ, the iterator age and the errors, to this region's topic
      const alarms = ofType(run, 'aws:cloudwatch/metricAlarm:MetricAlarm').filter((a) => a.name.startsWith(`notifier-${region}-`));
      assert.deepEqual(alarms.map((a) => a.inputs.metricName).sort(), ['ApproximateNumberOfMessagesVisible', 'Errors', 'IteratorAge']);
      for (const a of alarms) assert.deepEqual(a.inputs.alarmActions, [named(run, `notifier-${region}-alarms`).state.arn]);
    }
    const hcAlarms = ofType(run, 'aws:cloudwatch/metricAlarm:MetricAlarm').filter((a) => a.inputs.namespace === 'AWS/Route53');
    assert.equal(hcAlarms.length, R.length);
    for (const a of hcAlarms) assert.equal(a.region, 'us-east-1');
  });

  it('each region\'s API key expiry is a plain stack output next to the secret key: the UTC day of now + expiresInDays', async () => {
    const day = 86_400_000;
    const midnight = (d: Date): number => Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
    for (const [days, config, literal] of [
      [365, { regions: JSON.stringify(R) }, '2027-11-25T00:00:00Z'], // the default
      [30, { regions: JSON.stringify(R), auth: JSON.stringify({ mode: 'apiKey', expiresInDays: 30 }) }, '2026-12-25T00:00:00Z'],
    ] as const) {
      const run = await cachedRun(config);
      const expected = new Date(midnight(FIXED_NOW) + days * day).toISOString().replace('.000Z', 'Z');
      assert.equal(expected, literal, 'FIXED_NOW is 2026-11-25');
      assert.deepEqual(Object.keys(run.outputs.apiKeyExpires), R);
      assert.deepEqual(Object.keys(run.outputs.apiKeys), R);
      for (const region of R) {
        assert.equal(run.outputs.apiKeyExpires[region], expected, `${region}, ${days} days`);
        assert.equal(named(run, `api-${region}-api-key`).inputs.expires, expected);
        assert.deepEqual(named(run, `api-${region}-api-key`).ignoreChanges, ['expires'], 'the key still never rolls by itself');
      }
      assert.equal(run.secret.apiKeys, true, 'the keys are secret');
      assert.equal(run.secret.apiKeyExpires, false, 'their expiry is not');
    }
    // no API key, no expiry output
    const cognito = await cachedRun({ regions: JSON.stringify(R), auth: JSON.stringify({ mode: 'cognito', userPoolId: 'eu-west-1_AbC123' }) });
    assert.equal(cognito.outputs.apiKeyExpires, undefined);
  });

  it('API keys expire: explicit, stable within a UTC day, between 1 and 365 days ahead', async () => {
    const run = await run3();
    for (const k of ofType(run, 'aws:appsync/apiKey:ApiKey')) assert.ok(k.inputs.expires);
    const day = 86_400_000;
    for (const iso of ['2026-11-25T00:00:01Z', '2026-11-25T12:00:00Z', '2026-11-25T23:59:59Z']) {
      const now = new Date(iso);
      for (const days of [1, 2, 7, 364, 365]) {
        const t = Date.parse(apiKeyExpiry(now, days));
        assert.ok(t - now.getTime() >= day, `${iso} ${days}: at least a day ahead`);
        assert.ok(t - now.getTime() <= 365 * day, `${iso} ${days}: at most 365 days ahead`);
        assert.equal(apiKeyExpiry(now, days), apiKeyExpiry(new Date('2026-11-25T06:00:00Z'), days), 'same all day');
      }
    }
  });
});
