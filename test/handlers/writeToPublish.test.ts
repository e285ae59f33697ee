/**
 * The seed's headline as far as it runs without the emulator: a GraphQL write through the real resolvers lands in
 * DynamoDB Local, its stream record goes to the *bundled* notifier (as Lambda would invoke it), which signs and
 * sends publishItemChange to a stand-in AppSync running the real publishItemChange resolver; what onItemChange
 * subscribers would receive is checked field by field. The other region publishes the replicated copy of the
 * same write from its own replica's stream (replication itself is done here by copying the item, as the global
 * table would; the emulator's replicator comes with the emulator).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { bundleHandler } from '../../components/bundle';
import { readStreamRecords } from '../../local/dynamodbStreams';
import { ddbClient, dynamoEndpoint } from '../support/dynamodb';
import { FakeAppSync } from '../support/fakeAppSync';
import { AP, createFixture, DELETE, EU, type Fixture, PUT, setState } from '../resolvers/support';

type Handler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>;

describe('write → stream → bundled notifier → publishItemChange (what subscribers receive)', function () {
  this.timeout(30_000);
  let fx: Fixture;
  let notifier: Handler;
  const fakes = new Map<string, FakeAppSync>();
  const quiet = console.log;
  let savedEnv: Record<string, string | undefined> = {};

  before(async () => {
    // snapshot here, not at load time: the global setup sets DynamoDB Local's endpoint after files load
    savedEnv = { AWS_REGION: process.env.AWS_REGION, APPSYNC_URL: process.env.APPSYNC_URL };
    fx = await createFixture('multi-master', EU);
    await setState(fx, 'active');
    const file = path.join(bundleHandler('notifier'), 'index.js');
    // a fresh module, as a new sandbox has: require, since the ESM loader's cache (import()) ignores require.cache
    delete require.cache[require.resolve(file)];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    notifier = (require(file) as { handler: Handler }).handler;
    // the notifier signs with the default credential chain: here the test setup's env credentials
    for (const region of [EU, AP]) {
      fakes.set(region, await FakeAppSync.start(region, { accessKeyId: process.env.AWS_ACCESS_KEY_ID!, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY! }));
    }
    console.log = () => undefined;
  });
  after(async () => {
    console.log = quiet;
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    for (const f of fakes.values()) await f.stop();
  });

  /** Runs region R's notifier over everything on R's items stream, as its event source mapping would. */
  async function notify(region: string): Promise<DynamoDBBatchResponse> {
    const records = await readStreamRecords(dynamoEndpoint(), region, fx.items);
    Object.assign(process.env, { AWS_REGION: region, APPSYNC_URL: fakes.get(region)!.url });
    return notifier({ Records: records });
  }

  it('each write in eu-west-1 reaches eu-west-1 subscribers once, with every field; ap-southeast-2 publishes its replica\'s copy', async () => {
    const eu = fx.api(EU);
    const created = await eu.execute({ query: PUT, variables: { input: { id: 'headline-1', value: 'hello' } } });
    const updated = await eu.execute({ query: PUT, variables: { input: { id: 'headline-1', value: 'hello again', expectedVersion: 1 } } });
    const deleted = await eu.execute({ query: DELETE, variables: { id: 'headline-1', expectedVersion: 2 } });
    for (const r of [created, updated, deleted]) assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    const v1 = (created.data as { putItem: Record<string, unknown> }).putItem;
    const v2 = (updated.data as { putItem: Record<string, unknown> }).putItem;
    assert.deepEqual([v1.version, v2.version, v1.updatedRegion], [1, 2, EU]);

    const res = await notify(EU);
    assert.deepEqual(res.batchItemFailures, []);
    const got = fakes.get(EU)!.published;
    assert.deepEqual(got.map((e) => e.subscriptionFields), [['onItemChange'], ['onItemChange'], ['onItemChange']]);
    const data = got.map((e) => e.data as Record<string, unknown>);
    assert.deepEqual(data.map((d) => d.kind), ['CREATED', 'UPDATED', 'DELETED']);
    // the mutation's selection has no updatedBy; subscribers get it too, null for an API-key caller (no identity)
    assert.deepEqual(data[0].item, { ...v1, updatedBy: null }, 'subscribers get the item exactly as the mutation returned it');
    assert.deepEqual(data[1].item, { ...v2, updatedBy: null });
    assert.deepEqual(data[2].item, { ...v2, updatedBy: null }, 'a delete carries the item as it was');
    for (const d of data) {
      assert.equal(d.id, 'headline-1');
      assert.equal(d.publishedRegion, EU);
      assert.match(String(d.sequenceNumber), /^\d+$/);
    }
    assert.equal(data[1].changedAt, v2.updatedAt);

    // the global table copies the write into ap-southeast-2's replica; that region's notifier publishes it too
    await ddbClient(AP).send(new PutItemCommand({ TableName: fx.items, Item: marshall(v2) }));
    const resAp = await notify(AP);
    assert.deepEqual(resAp.batchItemFailures, []);
    const ap = fakes.get(AP)!.published.map((e) => e.data as Record<string, unknown>);
    assert.equal(ap.length, 1);
    assert.deepEqual({ kind: ap[0].kind, publishedRegion: ap[0].publishedRegion, item: ap[0].item }, { kind: 'CREATED', publishedRegion: AP, item: { ...v2, updatedBy: null } });
    assert.equal((ap[0].item as Record<string, unknown>).updatedRegion, EU, 'the item says which region accepted the write');
  });
});
