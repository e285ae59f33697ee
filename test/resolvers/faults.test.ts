/**
 * The write resolvers under faults (issue 13 items 1 and 4, issue 11's WriteConflict, issue 10's updatedBy), with
 * real contexts on DynamoDB Local. Faults are injected in the DynamoDB client the data sources use (a middleware):
 * between the pipeline's reads and its write another writer changes the app state or the item, or DynamoDB answers
 * ReplicatedWriteConflictException.
 */
import assert from 'node:assert/strict';
import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { createGraphQLExecutor, type CallerIdentity, type GraphQLExecutor, IAM_CALLER } from '../../local/appsync/graphql';
import type { ResolverSettings } from '../../components/bundle';
import { APP_STATE_ID, VERSION_CONFLICT, WRITE_CONFLICT, WRITE_FENCED, type WriteMode } from '../../schema/rules';
import { createTable, ddbClient, uniqueTableName } from '../support/dynamodb';
import { AP, DELETE, EU, GET, rawItem, rawWriteId, REGIONS, seedItem, setState } from './support';

const FIELDS = 'id value version updatedAt updatedRegion updatedBy';
const PUT = `mutation Put($input: PutItemInput!) { putItem(input: $input) { ${FIELDS} } }`;

type Input = Record<string, unknown>;
interface Sent {
  region: string;
  command: string;
  input: Input;
}

describe('write resolvers under faults (DynamoDB Local, injected between the pipeline steps)', () => {
  const items = uniqueTableName('items');
  const appConfig = uniqueTableName('app-config');
  const fx = { items, appConfig, primaryRegion: EU, writeMode: 'multi-master' as WriteMode, api: (r: string) => executor(r) };
  let sent: Sent[] = [];
  /** Runs once, right after the next GetItem of the items table (the loadItem step) answered. */
  let afterLoad: ((region: string) => Promise<void>) | undefined;
  /** Throws this error name instead of sending a matching command. */
  let failWith: { command: string; name: string } | undefined;
  const clients = new Map<string, DynamoDBClient>();

  function hookedClient(region: string): DynamoDBClient {
    let c = clients.get(region);
    if (c) return c;
    c = ddbClient(region);
    c.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as Input;
        sent.push({ region, command: context.commandName ?? '', input });
        if (failWith && context.commandName === failWith.command) {
          throw Object.assign(new Error('Conflict: the item is being modified by a request in another Region'), { name: failWith.name, $fault: 'client' });
        }
        const out = await next(args);
        if (afterLoad && context.commandName === 'GetItemCommand' && input.TableName === items) {
          const hook = afterLoad;
          afterLoad = undefined;
          await hook(region);
        }
        return out;
      },
      { step: 'initialize', name: 'faultInjection' },
    );
    clients.set(region, c);
    return c;
  }

  const executors = new Map<string, GraphQLExecutor>();
  function executor(region: string, opts: { writeMode?: WriteMode; consistency?: ResolverSettings['consistency']; lambdaAuth?: boolean } = {}): GraphQLExecutor {
    const writeMode = opts.writeMode ?? 'multi-master';
    const key = `${region}|${writeMode}|${opts.consistency ?? ''}|${opts.lambdaAuth ?? false}`;
    let ex = executors.get(key);
    if (!ex) {
      ex = createGraphQLExecutor({
        settings: { region, primaryRegion: EU, writeMode, ...(opts.consistency ? { consistency: opts.consistency } : {}) },
        dataSources: { localItems: { tableName: items, region }, primaryItems: { tableName: items, region: EU }, appConfig: { tableName: appConfig, region } },
        clientFor: hookedClient,
        ...(opts.lambdaAuth ? { authMode: 'lambda' as const } : {}),
      });
      executors.set(key, ex);
    }
    return ex;
  }

  async function setStateIn(region: string, state: string): Promise<void> {
    const c = ddbClient(region);
    await c.send(new PutItemCommand({ TableName: appConfig, Item: marshall({ id: APP_STATE_ID, state, updatedAt: new Date().toISOString() }) }));
    c.destroy();
  }

  async function putRaw(region: string, item: Record<string, unknown>): Promise<void> {
    const c = ddbClient(region);
    await c.send(new PutItemCommand({ TableName: items, Item: marshall(item) }));
    c.destroy();
  }

  before(async () => {
    for (const r of REGIONS) {
      await createTable(r, items);
      await createTable(r, appConfig);
    }
  });
  beforeEach(async () => {
    sent = [];
    afterLoad = undefined;
    failWith = undefined;
    await setState(fx, 'active');
  });
  after(() => {
    for (const c of clients.values()) c.destroy();
  });

  describe('fence race (issue 13 item 4): the write is one TransactWriteItems with a ConditionCheck on the app state', () => {
    it('a fence stored after writeGuard read `active` stops the put: WriteFenced, nothing written', async () => {
      afterLoad = (region) => setStateIn(region, 'fenced');
      const res = await executor(EU).execute({ query: PUT, variables: { input: { id: 'race-fence', value: 'late' } } });
      assert.equal(res.data, null);
      assert.equal(res.errors?.[0].errorType, WRITE_FENCED, JSON.stringify(res.errors));
      assert.match(res.errors![0].message, /changed to fenced while writing/);
      assert.equal(await rawItem(fx, EU, 'race-fence'), null, 'nothing written');
      const tx = sent.find((s) => s.command === 'TransactWriteItemsCommand');
      assert.deepEqual(
        (tx?.input.TransactItems as Array<Record<string, Input>>).map((t) => Object.keys(t)[0]),
        ['ConditionCheck', 'Update'],
        'one transaction: the app-state check and the versioned update',
      );
    });

    it('and the delete: the item stays', async () => {
      await seedItem(fx, EU, { id: 'race-fence-del', value: 'keep', version: 3, updatedAt: '2026-01-01T00:00:00.000Z', updatedRegion: EU });
      afterLoad = (region) => setStateIn(region, 'fenced');
      const res = await executor(EU).execute({ query: DELETE, variables: { id: 'race-fence-del' } });
      assert.equal(res.errors?.[0].errorType, WRITE_FENCED, JSON.stringify(res.errors));
      assert.equal((await rawItem(fx, EU, 'race-fence-del'))?.version, 3);
    });

    it('writeMode primary: a write from AP is checked against the PRIMARY replica’s state (failover there refuses it)', async () => {
      // AP still reads active locally; the primary EU has gone to failover, which makes the primary refuse writes
      afterLoad = (region) => setStateIn(region, 'failover');
      const res = await executor(AP, { writeMode: 'primary' }).execute({ query: PUT, variables: { input: { id: 'race-primary', value: 'x' } } });
      assert.equal(res.errors?.[0].errorType, WRITE_CONFLICT, JSON.stringify(res.errors));
      assert.deepEqual(res.errors?.[0].errorInfo, { retryable: true });
      assert.match(res.errors![0].message, /app state in eu-west-1 changed to failover/);
      assert.equal(await rawItem(fx, EU, 'race-primary'), null);
      const tx = sent.find((s) => s.command === 'TransactWriteItemsCommand');
      assert.equal(tx?.region, EU, 'the transaction runs in the target (primary) region');
    });
  });

  describe('idempotency (issue 13 item 1): writeId', () => {
    it('a retried put with the same writeId answers the stored item and writes nothing; a new writeId writes', async () => {
      const input = { id: 'idem-1', value: 'once', writeId: 'req-1' };
      const first = await executor(EU).execute({ query: PUT, variables: { input } });
      assert.equal(first.errors, undefined, JSON.stringify(first.errors));
      const retry = await executor(EU).execute({ query: PUT, variables: { input } });
      assert.deepEqual(retry, first, 'the retry answers exactly the first answer');
      assert.equal((await rawItem(fx, EU, 'idem-1'))?.version, 1, 'stored once');
      assert.equal(await rawWriteId(fx, EU, 'idem-1'), 'req-1');
      const next = await executor(EU).execute({ query: PUT, variables: { input: { ...input, writeId: 'req-2' } } });
      assert.equal((next.data?.putItem as Input).version, 2);
    });

    it('a retried put with expectedVersion after a lost answer is not a VersionConflict (the measured 409-while-stored case)', async () => {
      await executor(EU).execute({ query: PUT, variables: { input: { id: 'idem-2', value: 'v1' } } });
      const input = { id: 'idem-2', value: 'v2', expectedVersion: 1, writeId: 'req-v2' };
      const first = await executor(EU).execute({ query: PUT, variables: { input } });
      const retry = await executor(EU).execute({ query: PUT, variables: { input } });
      assert.equal(retry.errors, undefined, JSON.stringify(retry.errors));
      assert.deepEqual(retry.data, first.data);
      assert.equal((await rawItem(fx, EU, 'idem-2'))?.version, 2);
    });

    it('the same write landing between load and transaction (the first attempt, racing) is recognised from the cancellation reason', async () => {
      const stored = { id: 'idem-3', value: 'raced', version: 1, updatedAt: '2026-11-30T00:00:00.000Z', updatedRegion: EU, writeId: 'req-3' };
      afterLoad = (region) => putRaw(region, stored);
      const res = await executor(EU).execute({ query: PUT, variables: { input: { id: 'idem-3', value: 'raced', writeId: 'req-3' } } });
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      assert.deepEqual(res.data?.putItem, { id: 'idem-3', value: 'raced', version: 1, updatedAt: stored.updatedAt, updatedRegion: EU, updatedBy: null });
      assert.equal((await rawItem(fx, EU, 'idem-3'))?.version, 1, 'not written twice');
    });
  });

  describe('conflicts answer WriteConflict, retryable (issue 11)', () => {
    it('another write between load and write: WriteConflict {retryable: true}, the other write stands', async () => {
      await executor(EU).execute({ query: PUT, variables: { input: { id: 'conf-1', value: 'base' } } });
      afterLoad = (region) => putRaw(region, { id: 'conf-1', value: 'other writer', version: 2, updatedAt: '2026-11-30T00:00:01.000Z', updatedRegion: EU, writeId: 'other' });
      const res = await executor(EU).execute({ query: PUT, variables: { input: { id: 'conf-1', value: 'mine' } } });
      assert.equal(res.errors?.[0].errorType, WRITE_CONFLICT, JSON.stringify(res.errors));
      assert.deepEqual(res.errors?.[0].errorInfo, { retryable: true });
      assert.equal((await rawItem(fx, EU, 'conf-1'))?.value, 'other writer');
      // with expectedVersion the same race is the client's VersionConflict
      afterLoad = (region) => putRaw(region, { id: 'conf-1', value: 'third', version: 3, updatedAt: '2026-11-30T00:00:02.000Z', updatedRegion: EU });
      const versioned = await executor(EU).execute({ query: PUT, variables: { input: { id: 'conf-1', value: 'mine', expectedVersion: 2 } } });
      assert.equal(versioned.errors?.[0].errorType, VERSION_CONFLICT, JSON.stringify(versioned.errors));
    });

    it('consistency strong: plain conditional writes (no transaction), ReplicatedWriteConflictException → WriteConflict, consistent reads', async () => {
      const strong = executor(EU, { consistency: 'strong' });
      const ok = await strong.execute({ query: PUT, variables: { input: { id: 'mrsc-1', value: 'a' } } });
      assert.equal(ok.errors, undefined, JSON.stringify(ok.errors));
      assert.ok(sent.some((s) => s.command === 'UpdateItemCommand') && !sent.some((s) => s.command === 'TransactWriteItemsCommand'), 'MRSC tables have no transactions');
      failWith = { command: 'UpdateItemCommand', name: 'ReplicatedWriteConflictException' };
      const res = await strong.execute({ query: PUT, variables: { input: { id: 'mrsc-1', value: 'b' } } });
      assert.equal(res.errors?.[0].errorType, WRITE_CONFLICT, JSON.stringify(res.errors));
      assert.deepEqual(res.errors?.[0].errorInfo, { retryable: true });
      assert.match(res.errors![0].message, /ReplicatedWriteConflictException.*retry/);
      failWith = undefined;
      sent = [];
      await strong.execute({ query: GET, variables: { id: 'mrsc-1' } });
      await executor(EU).execute({ query: GET, variables: { id: 'mrsc-1' } });
      assert.deepEqual(
        sent.filter((s) => s.command === 'GetItemCommand').map((s) => s.input.ConsistentRead),
        [true, false],
        'getItem: strongly consistent with consistency strong, eventually otherwise',
      );
    });
  });

  describe('updatedBy (issue 10)', () => {
    it('stores the caller’s subject (AWS_LAMBDA resolverContext.sub, else identity.sub) and removes it for a caller without one', async () => {
      const api = executor(EU, { lambdaAuth: true });
      const alice: CallerIdentity = { mode: 'lambda', identity: { resolverContext: { sub: 'alice' } } };
      const a = await api.execute({ query: PUT, variables: { input: { id: 'who-1', value: 'a' } }, identity: alice });
      assert.equal((a.data?.putItem as Input).updatedBy, 'alice', JSON.stringify(a));
      assert.equal((await rawItem(fx, EU, 'who-1'))?.updatedBy, 'alice');
      const bob: CallerIdentity = { mode: 'lambda', identity: { sub: 'bob' } };
      await api.execute({ query: PUT, variables: { input: { id: 'who-1', value: 'b' } }, identity: bob });
      assert.equal((await rawItem(fx, EU, 'who-1'))?.updatedBy, 'bob');
      const iam = await api.execute({ query: PUT, variables: { input: { id: 'who-1', value: 'c' } }, identity: IAM_CALLER });
      assert.equal((iam.data?.putItem as Input).updatedBy, null);
      assert.equal((await rawItem(fx, EU, 'who-1'))?.updatedBy, undefined, 'removed: the last writer has no subject');
    });
  });
});
