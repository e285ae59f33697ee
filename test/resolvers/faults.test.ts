/**
 * The write resolvers under faults (the fence, writeId, WriteConflict, updatedBy, lost answers), with real contexts
 * on DynamoDB Local. Faults are injected in the DynamoDB client the data sources use (a middleware): between the
 * pipeline's reads and its write another writer changes the app state or the item, DynamoDB answers an error, or
 * the write is applied and its answer lost.
 */
import assert from 'node:assert/strict';
import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { createGraphQLExecutor, type CallerIdentity, type GraphQLExecutor, IAM_CALLER } from '../../local/appsync/graphql';
import type { ResolverSettings } from '../../components/bundle';
import { APP_STATE_ID, STATE_CHANGING, VERSION_CONFLICT, WRITE_CONFLICT, WRITE_FENCED, type WriteMode } from '../../schema/rules';
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
  /**
   * Throws this error name instead of sending a matching command (`after`: send it, then throw: the answer is lost);
   * once it has fired, `then` is the next fault.
   */
  interface Fault {
    command: string;
    name: string;
    after?: boolean;
    then?: Fault;
  }
  let failWith: Fault | undefined;
  const clients = new Map<string, DynamoDBClient>();

  function hookedClient(region: string): DynamoDBClient {
    let c = clients.get(region);
    if (c) return c;
    c = ddbClient(region);
    c.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as Input;
        sent.push({ region, command: context.commandName ?? '', input });
        const fault = failWith && context.commandName === failWith.command ? failWith : undefined;
        if (fault) {
          if (fault.then) failWith = fault.then;
          if (fault.after) await next(args);
          throw Object.assign(new Error(`injected ${fault.name}`), { name: fault.name, $fault: 'client' });
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

  describe('the fence: the state read in the same pipeline, then one plain conditional write of the item alone', () => {
    it('putItem sends: a consistent GetItem of the app state, a consistent GetItem of the item, one UpdateItem of the item — no transaction, no other item', async () => {
      const res = await executor(EU).execute({ query: PUT, variables: { input: { id: 'shape-1', value: 'v' } } });
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      assert.deepEqual(
        sent.map((x) => [x.command, x.input.TableName, (x.input.Key as Input | undefined)?.id, x.input.ConsistentRead ?? null]),
        [
          ['GetItemCommand', appConfig, { S: APP_STATE_ID }, true],
          ['GetItemCommand', items, { S: 'shape-1' }, true],
          ['UpdateItemCommand', items, { S: 'shape-1' }, null],
        ],
      );
      assert.match(String(sent[2].input.ConditionExpression), /attribute_not_exists/);
    });

    it('a fence stored after writeGuard read `active`: that request still commits (it is inside the bound, one request), the next one is refused WriteFenced', async () => {
      afterLoad = (region) => setStateIn(region, 'fenced');
      const inFlight = await executor(EU).execute({ query: PUT, variables: { input: { id: 'race-fence', value: 'in flight' } } });
      assert.equal(inFlight.errors, undefined, JSON.stringify(inFlight.errors));
      assert.equal((await rawItem(fx, EU, 'race-fence'))?.value, 'in flight');
      const next = await executor(EU).execute({ query: PUT, variables: { input: { id: 'race-fence', value: 'late' } } });
      assert.equal(next.errors?.[0].errorType, WRITE_FENCED, JSON.stringify(next.errors));
      const del = await executor(EU).execute({ query: DELETE, variables: { id: 'race-fence' } });
      assert.equal(del.errors?.[0].errorType, WRITE_FENCED, JSON.stringify(del.errors));
      assert.equal((await rawItem(fx, EU, 'race-fence'))?.value, 'in flight', 'nothing after the fence');
    });

    it('writeMode primary: a write from AP also reads the PRIMARY replica’s state (targetGuard); failover there → StateChanging, retryable, nothing written', async () => {
      await setStateIn(EU, 'failover');
      const res = await executor(AP, { writeMode: 'primary' }).execute({ query: PUT, variables: { input: { id: 'race-primary', value: 'x' } } });
      assert.equal(res.errors?.[0].errorType, STATE_CHANGING, JSON.stringify(res.errors));
      assert.deepEqual(res.errors?.[0].errorInfo, { retryable: true });
      assert.match(res.errors![0].message, /app state in eu-west-1 is failover, not what ap-southeast-2 reads/);
      assert.equal(await rawItem(fx, EU, 'race-primary'), null);
      assert.deepEqual(
        sent.filter((x) => x.input.TableName === appConfig).map((x) => x.region),
        [AP, EU],
        'the local state, then the primary’s',
      );
      assert.equal(sent.some((x) => x.command !== 'GetItemCommand'), false, 'no write sent');
    });

    it('writeMode primary: the primary fenced while AP still reads active → WriteFenced; in the primary itself no second state read', async () => {
      await setStateIn(EU, 'fenced');
      const res = await executor(AP, { writeMode: 'primary' }).execute({ query: DELETE, variables: { id: 'race-primary-del' } });
      assert.equal(res.errors?.[0].errorType, WRITE_FENCED, JSON.stringify(res.errors));
      await setStateIn(EU, 'active');
      sent = [];
      const inPrimary = await executor(EU, { writeMode: 'primary' }).execute({ query: PUT, variables: { input: { id: 'in-primary', value: 'x' } } });
      assert.equal(inPrimary.errors, undefined, JSON.stringify(inPrimary.errors));
      assert.equal(sent.filter((x) => x.input.TableName === appConfig).length, 1);
    });

    it('a failover still waiting out the bound (writesFromMs ahead) → StateChanging with retryAfterS; from writesFromMs on, written locally', async () => {
      const c = ddbClient(AP);
      const failover = (writesFromMs: number) =>
        c.send(new PutItemCommand({ TableName: appConfig, Item: marshall({ id: APP_STATE_ID, state: 'failover', updatedAt: new Date().toISOString(), writesFromMs }) }));
      try {
        await failover(Date.now() + 15_000);
        const early = await executor(AP, { writeMode: 'primary' }).execute({ query: PUT, variables: { input: { id: 'wf-gql', value: 'x' } } });
        assert.equal(early.errors?.[0].errorType, STATE_CHANGING, JSON.stringify(early.errors));
        const info = early.errors?.[0].errorInfo as { retryable: boolean; retryAfterS: number };
        assert.equal(info.retryable, true);
        assert.ok(info.retryAfterS >= 14 && info.retryAfterS <= 15, JSON.stringify(info));
        assert.equal(await rawItem(fx, AP, 'wf-gql'), null);
        await failover(Date.now() - 1);
        const late = await executor(AP, { writeMode: 'primary' }).execute({ query: PUT, variables: { input: { id: 'wf-gql', value: 'x' } } });
        assert.equal(late.errors, undefined, JSON.stringify(late.errors));
        assert.equal((late.data?.putItem as Input).updatedRegion, AP);
      } finally {
        c.destroy();
      }
    });
  });

  describe('a write whose answer is lost or that fails: read back before answering (confirmItem)', () => {
    it('putItem applied, its answer lost (a network error) → the stored write is answered, written once', async () => {
      failWith = { command: 'UpdateItemCommand', name: 'TimeoutError', after: true };
      const res = await executor(EU).execute({ query: PUT, variables: { input: { id: 'lost-1', value: 'kept', writeId: 'w-lost-1' } } });
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      assert.deepEqual(((p) => [p.value, p.version])(res.data?.putItem as Input), ['kept', 1]);
      assert.equal(sent.filter((x) => x.command === 'UpdateItemCommand').length, 1);
      assert.deepEqual(sent.at(-1)?.command, 'GetItemCommand', 'read back');
      assert.equal(await rawWriteId(fx, EU, 'lost-1'), 'w-lost-1');
    });

    it('deleteItem applied, its answer lost → the deleted item is answered', async () => {
      await seedItem(fx, EU, { id: 'lost-del', value: 'gone', version: 2, updatedAt: '2026-01-01T00:00:00.000Z', updatedRegion: EU });
      failWith = { command: 'DeleteItemCommand', name: 'InternalServerError', after: true };
      const res = await executor(EU).execute({ query: DELETE, variables: { id: 'lost-del' } });
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      assert.deepEqual(((p) => [p.value, p.version])(res.data?.deleteItem as Input), ['gone', 2]);
      assert.equal(await rawItem(fx, EU, 'lost-del'), null);
    });

    it('putItem without writeId refused (throttled, nothing applied) → the throttle, errorInfo {outcome: "notApplied", retryable: true, writeId}; that attempt landing late, the repeat with the writeId answers it', async () => {
      failWith = { command: 'UpdateItemCommand', name: 'ProvisionedThroughputExceededException' };
      const res = await executor(EU).execute({ query: PUT, variables: { input: { id: 'thr-1', value: 'x' } } });
      assert.equal(res.errors?.[0].errorType, 'DynamoDB:ProvisionedThroughputExceededException', JSON.stringify(res.errors));
      const info = res.errors?.[0].errorInfo as { writeId?: unknown };
      assert.deepEqual(info, { outcome: 'notApplied', retryable: true, writeId: info.writeId });
      const sentWriteId = (sent.find((x) => x.command === 'UpdateItemCommand')?.input.ExpressionAttributeValues as Record<string, { S?: string }>)[':writeId'].S;
      assert.ok(typeof sentWriteId === 'string' && sentWriteId.length > 0);
      assert.equal(info.writeId, sentWriteId, 'the writeId the refused write was sent with');
      assert.ok(
        res.errors![0].message.includes(`Read back: there is no such item; nothing of this mutation is in effect. Repeat it with writeId "${sentWriteId}" (the one this write was sent with; the mutation had none)`),
        res.errors![0].message,
      );
      assert.equal(await rawItem(fx, EU, 'thr-1'), null);
      // what the repeat guards against: the refused attempt landing after all (as DynamoDB may apply a request it answered with an error)
      failWith = undefined;
      await putRaw(EU, { id: 'thr-1', value: 'x', version: 1, updatedAt: '2026-11-30T00:00:00.000Z', updatedRegion: EU, writeId: sentWriteId });
      const again = await executor(EU).execute({ query: PUT, variables: { input: { id: 'thr-1', value: 'x', writeId: info.writeId } } });
      assert.equal(again.errors, undefined, JSON.stringify(again.errors));
      assert.equal((again.data?.putItem as Input).version, 1, 'answered as that write, not a second version');
    });

    it('putItem without writeId, its answer lost and the read-back failing → errorInfo {outcome: "unknown", writeId}: the stored write\'s id; repeating with it answers the stored write', async () => {
      failWith = { command: 'UpdateItemCommand', name: 'TimeoutError', after: true, then: { command: 'GetItemCommand', name: 'InternalServerError' } };
      const res = await executor(EU).execute({ query: PUT, variables: { input: { id: 'unk-2', value: 'maybe' } } });
      assert.equal(res.errors?.[0].errorType, 'DynamoDB:TimeoutError', JSON.stringify(res.errors));
      const stored = await rawWriteId(fx, EU, 'unk-2');
      assert.ok(typeof stored === 'string', 'the write was applied, under an id the resolver made up');
      assert.deepEqual(res.errors?.[0].errorInfo, { outcome: 'unknown', writeId: stored });
      assert.ok(res.errors![0].message.includes(`repeat the mutation with writeId "${stored}" (the one this write was sent with; the mutation had none)`), res.errors![0].message);
      failWith = undefined;
      const again = await executor(EU).execute({ query: PUT, variables: { input: { id: 'unk-2', value: 'maybe', writeId: stored } } });
      assert.equal(again.errors, undefined, JSON.stringify(again.errors));
      assert.equal((again.data?.putItem as Input).version, 1, 'answered as the stored write, not written again');
      assert.equal((await rawItem(fx, EU, 'unk-2'))?.version, 1);
    });

    it('deleteItem refused (throttled) → errorInfo {outcome: "notApplied", retryable: true} without a writeId (a delete has none)', async () => {
      await seedItem(fx, EU, { id: 'thr-del', value: 'kept', version: 3, updatedAt: '2026-01-01T00:00:00.000Z', updatedRegion: EU });
      failWith = { command: 'DeleteItemCommand', name: 'ProvisionedThroughputExceededException' };
      const res = await executor(EU).execute({ query: DELETE, variables: { id: 'thr-del' } });
      assert.deepEqual(res.errors?.[0].errorInfo, { outcome: 'notApplied', retryable: true }, JSON.stringify(res.errors));
      assert.equal((await rawItem(fx, EU, 'thr-del'))?.version, 3);
    });

    it('the answer lost and the read-back failing too → errorInfo {outcome: "unknown"} and how to find out; repeating with the writeId answers the stored write', async () => {
      failWith = { command: 'UpdateItemCommand', name: 'TimeoutError', after: true, then: { command: 'GetItemCommand', name: 'InternalServerError' } };
      const input = { id: 'unk-1', value: 'maybe', writeId: 'w-unk-1' };
      const res = await executor(EU).execute({ query: PUT, variables: { input } });
      assert.deepEqual(sent.map((x) => x.command), ['GetItemCommand', 'GetItemCommand', 'UpdateItemCommand', 'GetItemCommand'], 'state, item, write, read-back');
      assert.equal(res.errors?.[0].errorType, 'DynamoDB:TimeoutError', JSON.stringify(res.errors));
      assert.deepEqual(res.errors?.[0].errorInfo, { outcome: 'unknown', writeId: 'w-unk-1' });
      assert.match(res.errors![0].message, /Whether the item was written is unknown \(reading it back failed too: DynamoDB:InternalServerError\): read it \(getItem\), or repeat the mutation with writeId "w-unk-1" \(yours\)/);
      failWith = undefined;
      const again = await executor(EU).execute({ query: PUT, variables: { input } });
      assert.equal(again.errors, undefined, JSON.stringify(again.errors));
      assert.equal((again.data?.putItem as Input).version, 1, 'answered as the stored write, not written again');
    });
  });

  describe('idempotency: writeId', () => {
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

    it('the same writeId with another value → IdempotencyKeyReused, nothing written', async () => {
      await executor(EU).execute({ query: PUT, variables: { input: { id: 'idem-r', value: 'first', writeId: 'req-r' } } });
      const reused = await executor(EU).execute({ query: PUT, variables: { input: { id: 'idem-r', value: 'second', writeId: 'req-r' } } });
      assert.equal(reused.errors?.[0].errorType, 'IdempotencyKeyReused', JSON.stringify(reused.errors));
      assert.match(reused.errors![0].message, /writeId names the write that stored version 1 of item "idem-r" with another value/);
      assert.deepEqual(((i) => [i?.value, i?.version])(await rawItem(fx, EU, 'idem-r')), ['first', 1]);
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

    it('the same write landing between load and write (the first attempt, racing) is recognised by reading the item back', async () => {
      const stored = { id: 'idem-3', value: 'raced', version: 1, updatedAt: '2026-11-30T00:00:00.000Z', updatedRegion: EU, writeId: 'req-3' };
      afterLoad = (region) => putRaw(region, stored);
      const res = await executor(EU).execute({ query: PUT, variables: { input: { id: 'idem-3', value: 'raced', writeId: 'req-3' } } });
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      assert.deepEqual(res.data?.putItem, { id: 'idem-3', value: 'raced', version: 1, updatedAt: stored.updatedAt, updatedRegion: EU, updatedBy: null });
      assert.equal((await rawItem(fx, EU, 'idem-3'))?.version, 1, 'not written twice');
    });
  });

  describe('conflicts answer WriteConflict, retryable', () => {
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

    it('consistency strong: plain conditional writes, ReplicatedWriteConflictException → WriteConflict, consistent reads', async () => {
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

  describe('updatedBy', () => {
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
