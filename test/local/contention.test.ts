/**
 * The contention front (local/contention.ts) on DynamoDB Local, driven with the real AWS SDK v3 client and its
 * default retry strategy: overlapping transactions on one item (one is cancelled with TransactionConflict at that
 * item's index, exactly AWS's wire shape), a plain write or a TransactGetItems meeting an ongoing transaction, the
 * per-partition throughput limit (a frozen clock holds every request in one window), the old design (every writer's
 * transaction checks one shared item) against the new one (read that item, then a conditional put of the writer's
 * own item) with 32 writers, and in consistency strong a write from a second region refused with
 * ReplicatedWriteConflictException (local/syncReplication.ts). Overlaps are forced with the fronts' hold before
 * forwarding: the first request waits until the one it must overlap has reached the front — no sleeps.
 * onWrite hears each accepted write and nothing else (the front's and the synchronous replication's). A request
 * whose caller has gone (a raw HTTP client that closes its connection) before a front forwards it is dropped: held
 * before forwarding at the contention front, and queued behind an item's lock at the synchronous replication. Last, the
 * emulator runs the front by default, its admin API's /status counts what it refused, and a write through it wakes
 * stream pollers that would otherwise pause for an hour.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  DeleteItemCommand,
  QueryCommand,
  ScanCommand,
  TransactGetItemsCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type TransactWriteItem,
  type TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { type AdmittedRequest, type ContentionFront, type ContentionOptions, PARTITION_LIMITS, startContentionFront } from '../../local/contention';
import { startSyncReplication } from '../../local/syncReplication';
import { Emulator } from '../../local/emulator';
import { parseStartArgs } from '../../local/start';
import { LOCAL_CREDENTIALS } from '../../local/tables';
import { createTable, ddbClient, dynamoLocalEndpoint, uniqueTableName } from '../support/dynamodb';
import { waitFor } from './support';
import { MAX_IDLE_MS } from '../../local/dynamodbStreams';

const EU = 'eu-west-1';
const US = 'eu-central-1';
const AP = 'ap-southeast-2';
const CONFLICT = { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item.' };
const NONE = { Code: 'None' };
const S = (s: string) => ({ S: s });

/** Rejects with the error, or fails the test when `p` resolves. */
async function failure(p: Promise<unknown>): Promise<Error & Record<string, unknown> & { $metadata: { attempts?: number } }> {
  try {
    await p;
  } catch (err) {
    return err as Error & Record<string, unknown> & { $metadata: { attempts?: number } };
  }
  throw new Error('expected the call to fail, it succeeded');
}

/**
 * A DynamoDB call from a raw HTTP client, signed for `region` the way DynamoDB Local reads it (it keeps one database
 * per access key and region and checks no signature); `destroy()` on the answer closes the connection: the caller
 * gives up, as the AWS SDK does when a call is aborted.
 */
function rawCall(endpoint: string, region: string, target: string, body: unknown): http.ClientRequest {
  const req = http.request(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `DynamoDB_20120810.${target}`,
      authorization: `AWS4-HMAC-SHA256 Credential=${LOCAL_CREDENTIALS.accessKeyId}/20260101/${region}/dynamodb/aws4_request, SignedHeaders=host, Signature=0`,
    },
  });
  req.on('error', () => undefined); // the test closes it: no answer is expected
  req.end(JSON.stringify(body));
  return req;
}

/** Resolves once `signal` is aborted. */
const aborted = (signal: AbortSignal): Promise<unknown> => (signal.aborted ? Promise.resolve() : once(signal, 'abort'));

/** A hold for `beforeForward`: the first request matching `when` waits until `release()`; `held` resolves once it waits. */
function holdFirst(when: (r: AdmittedRequest) => boolean) {
  let release!: () => void;
  let reached!: (r: AdmittedRequest) => void;
  const released = new Promise<void>((r) => (release = r));
  const held = new Promise<AdmittedRequest>((r) => (reached = r));
  let taken = false;
  return {
    held,
    release,
    hook: async (r: AdmittedRequest) => {
      if (taken || !when(r)) return;
      taken = true;
      reached(r);
      await released;
    },
  };
}

describe('DynamoDB contention front (local/contention.ts) on DynamoDB Local', function () {
  this.timeout(60_000);
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    while (cleanup.length) await cleanup.pop()!();
  });

  async function setup(prefix: string, o: Omit<ContentionOptions, 'endpoint'> = {}, regions = [EU]) {
    const items = uniqueTableName(`${prefix}-items`);
    const state = uniqueTableName(`${prefix}-state`);
    for (const r of regions) {
      await createTable(r, items);
      await createTable(r, state);
      await ddbClient(r).send(new PutItemCommand({ TableName: state, Item: { id: S('app-state'), state: S('active') } }));
    }
    const front = await startContentionFront({ endpoint: dynamoLocalEndpoint(), log: () => undefined, ...o });
    const client = (region = EU, maxAttempts?: number) => {
      const c = new DynamoDBClient({ region, endpoint: front.url, credentials: LOCAL_CREDENTIALS, ...(maxAttempts ? { maxAttempts } : {}) });
      cleanup.push(() => c.destroy());
      return c;
    };
    cleanup.push(() => front.stop());
    return { items, state, front, client };
  }

  const stateCheck = (state: string): TransactWriteItem => ({
    ConditionCheck: { TableName: state, Key: { id: S('app-state') }, ConditionExpression: '#s = :active', ExpressionAttributeNames: { '#s': 'state' }, ExpressionAttributeValues: { ':active': S('active') } },
  });
  const putOwn = (items: string, id: string): TransactWriteItem => ({ Put: { TableName: items, Item: { id: S(id), value: S(`v-${id}`) }, ConditionExpression: 'attribute_not_exists(id)' } });

  it('two overlapping transactions on one item: the later is cancelled, TransactionConflict at that item, None elsewhere, as AWS sends it', async () => {
    const hold = holdFirst((r) => r.target === 'TransactWriteItems');
    const { items, state, front, client } = await setup('ct-tx', { beforeForward: hold.hook });
    const c = client();
    const first = c.send(new TransactWriteItemsCommand({ TransactItems: [stateCheck(state), putOwn(items, 'first')] }));
    await hold.held;
    // the second transaction includes the same state item, at index 1: the wire answer, byte for byte in shape
    const raw = await fetch(front.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.TransactWriteItems',
        authorization: `AWS4-HMAC-SHA256 Credential=local/20260101/${EU}/dynamodb/aws4_request, SignedHeaders=host, Signature=0`,
      },
      body: JSON.stringify({ TransactItems: [putOwn(items, 'second'), stateCheck(state)] }),
    });
    assert.equal(raw.status, 400);
    assert.equal(raw.headers.get('content-type'), 'application/x-amz-json-1.0');
    assert.deepEqual(await raw.json(), {
      __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
      CancellationReasons: [NONE, CONFLICT],
      Message: 'Transaction cancelled, please refer cancellation reasons for specific reasons [None, TransactionConflict]',
    });
    // the same through the SDK, with its default retry strategy: not retried (as against AWS)
    const err = await failure(c.send(new TransactWriteItemsCommand({ TransactItems: [putOwn(items, 'third'), stateCheck(state)] })));
    assert.equal(err.name, 'TransactionCanceledException');
    assert.deepEqual((err as unknown as TransactionCanceledException).CancellationReasons, [NONE, CONFLICT]);
    assert.equal(err.message, 'Transaction cancelled, please refer cancellation reasons for specific reasons [None, TransactionConflict]');
    assert.equal(err.$metadata.attempts, 1);
    hold.release();
    await first;
    const got = async (id: string) => (await c.send(new GetItemCommand({ TableName: items, Key: { id: S(id) }, ConsistentRead: true }))).Item;
    assert.ok(await got('first'), 'the held transaction committed');
    assert.equal(await got('second'), undefined, 'the cancelled ones wrote nothing');
    assert.equal(await got('third'), undefined);
    // once the first has answered, the item is free again
    await c.send(new TransactWriteItemsCommand({ TransactItems: [putOwn(items, 'fourth'), stateCheck(state)] }));
    const t = front.stats().tables.find((x) => x.table === state);
    assert.deepEqual([front.stats().conflicts, t?.region, t?.transactionsCancelled], [2, EU, 2]);
  });

  it('a plain put, update or delete of an item an ongoing transaction holds gets TransactionConflictException; a GetItem reads', async () => {
    const hold = holdFirst((r) => r.target === 'TransactWriteItems');
    const { items, state, front, client } = await setup('ct-plain', { beforeForward: hold.hook });
    const c = client();
    const tx = c.send(new TransactWriteItemsCommand({ TransactItems: [stateCheck(state), putOwn(items, 'x')] }));
    await hold.held;
    const put = await failure(c.send(new PutItemCommand({ TableName: state, Item: { id: S('app-state'), state: S('fenced') } })));
    assert.equal(put.name, 'TransactionConflictException');
    assert.equal(put.$metadata.attempts, 1, 'the SDK does not retry it (nor would it against AWS)');
    const del = await failure(c.send(new DeleteItemCommand({ TableName: items, Key: { id: S('x') } })));
    assert.equal(del.name, 'TransactionConflictException');
    // "If an ongoing TransactWriteItems ... conflicts with a concurrent GetItem request, both operations can succeed"
    const read = await c.send(new GetItemCommand({ TableName: state, Key: { id: S('app-state') }, ConsistentRead: true }));
    assert.equal(read.Item?.state.S, 'active');
    // another item of the same tables is not held
    await c.send(new PutItemCommand({ TableName: items, Item: { id: S('elsewhere') } }));
    hold.release();
    await tx;
    await c.send(new PutItemCommand({ TableName: state, Item: { id: S('app-state'), state: S('fenced') } }));
    assert.deepEqual(
      front.stats().tables.map((t) => [t.table, t.conflictExceptions]),
      [
        [items, 1],
        [state, 1],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
  });

  it('TransactGetItems: cancelled when it meets an ongoing write, and when a write of its item arrives while it runs', async () => {
    let holdPut = holdFirst((r) => r.target === 'PutItem');
    let holdGet = holdFirst(() => false);
    const { items, state, client } = await setup('ct-tget', { beforeForward: (r) => Promise.all([holdPut.hook(r), holdGet.hook(r)]).then(() => undefined) });
    const c = client();
    const get = () => c.send(new TransactGetItemsCommand({ TransactItems: [{ Get: { TableName: state, Key: { id: S('app-state') } } }, { Get: { TableName: items, Key: { id: S('y') } } }] }));
    const put = c.send(new PutItemCommand({ TableName: items, Item: { id: S('y'), value: S('1') } }));
    await holdPut.held;
    const early = await failure(get());
    assert.equal(early.name, 'TransactionCanceledException');
    assert.deepEqual((early as unknown as TransactionCanceledException).CancellationReasons, [NONE, CONFLICT]);
    holdPut.release();
    await put;

    holdPut = holdFirst(() => false);
    holdGet = holdFirst((r) => r.target === 'TransactGetItems');
    const late = get();
    await holdGet.held;
    await c.send(new PutItemCommand({ TableName: state, Item: { id: S('app-state'), state: S('fenced') } })); // arrives while the read runs
    holdGet.release();
    const err = await failure(late);
    assert.equal(err.name, 'TransactionCanceledException');
    assert.deepEqual((err as unknown as TransactionCanceledException).CancellationReasons, [CONFLICT, NONE]);
    const ok = await get(); // nothing in flight: it reads
    assert.equal(ok.Responses?.[0].Item?.state.S, 'fenced');
  });

  it('onWrite hears every write DynamoDB accepted, once it is stored and before the reply; no read, no failed write', async () => {
    const heard: Array<{ target: string; region: string }> = [];
    let storedWhenHeard: Promise<boolean> | undefined;
    const names = { items: '' };
    const { items, client } = await setup('ct-onwrite', {
      onWrite: (w) => {
        heard.push(w);
        // the first write heard is the put of w-1: DynamoDB Local must hold it already
        storedWhenHeard ??= ddbClient(EU)
          .send(new GetItemCommand({ TableName: names.items, Key: { id: S('w-1') }, ConsistentRead: true }))
          .then((r) => r.Item !== undefined);
      },
    });
    names.items = items;
    const c = client();
    const key = (id: string) => ({ id: S(id) });

    await c.send(new PutItemCommand({ TableName: items, Item: { id: S('w-1'), value: S('1') } }));
    assert.deepEqual(heard, [{ target: 'PutItem', region: EU }], 'heard before the reply came back');
    assert.equal(await storedWhenHeard, true, 'the write was in DynamoDB Local when onWrite was called');
    await c.send(new UpdateItemCommand({ TableName: items, Key: key('w-1'), UpdateExpression: 'SET #v = :v', ExpressionAttributeNames: { '#v': 'value' }, ExpressionAttributeValues: { ':v': S('2') } }));
    await c.send(new DeleteItemCommand({ TableName: items, Key: key('w-1') }));
    await c.send(new BatchWriteItemCommand({ RequestItems: { [items]: [{ PutRequest: { Item: { id: S('w-2') } } }, { PutRequest: { Item: { id: S('w-3') } } }] } }));
    await c.send(new TransactWriteItemsCommand({ TransactItems: [{ Put: { TableName: items, Item: { id: S('w-4') } } }] }));
    const writes = ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems'].map((target) => ({ target, region: EU }));
    assert.deepEqual(heard, writes);

    await c.send(new GetItemCommand({ TableName: items, Key: key('w-2') }));
    await c.send(new QueryCommand({ TableName: items, KeyConditionExpression: 'id = :id', ExpressionAttributeValues: { ':id': S('w-2') } }));
    await c.send(new ScanCommand({ TableName: items }));
    await c.send(new BatchGetItemCommand({ RequestItems: { [items]: { Keys: [key('w-2'), key('w-3')] } } }));
    await c.send(new TransactGetItemsCommand({ TransactItems: [{ Get: { TableName: items, Key: key('w-4') } }] }));
    // refused by DynamoDB Local: nothing written
    const refused = await failure(c.send(new PutItemCommand({ TableName: items, Item: { id: S('w-2') }, ConditionExpression: 'attribute_not_exists(id)' })));
    assert.equal(refused.name, 'ConditionalCheckFailedException');
    assert.deepEqual(heard, writes, 'reads and a refused write are not heard');
  });

  it('one partition key takes 1,000 write units per second (2 per KB in a transaction) and 3,000 read units, then ThrottlingException; other keys do not share it', async () => {
    let clock = 1_000_000;
    const { items, front, client } = await setup('ct-throttle', { now: () => clock });
    const c = client(); // the SDK's default retry strategy: ThrottlingException is retried up to maxAttempts (DynamoDB's default: 4)
    const maxAttempts = await c.config.maxAttempts();
    assert.ok(maxAttempts > 1);
    const value = 'x'.repeat(100 * 1024 - 40); // with its id: under 100 KB, 100 write units
    const putHot = (id: string) => c.send(new PutItemCommand({ TableName: items, Item: { id: S(id), value: S(value) } }));
    for (let i = 0; i < PARTITION_LIMITS.writeUnitsPerSecond / 100; i += 1) await putHot('hot');
    const err = await failure(putHot('hot'));
    assert.equal(err.name, 'ThrottlingException');
    assert.match(err.message, /^Throughput exceeds the current capacity of your table or index\./);
    assert.deepEqual(err.throttlingReasons, [{ reason: 'TableWriteKeyRangeThroughputExceeded', resource: `arn:aws:dynamodb:ddblocal:000000000000:table/${items}` }]);
    assert.equal(err.$metadata.attempts, maxAttempts, 'retried by the SDK as a throttle, as against AWS');
    assert.equal(front.stats().tables[0]?.throttledWrites, maxAttempts);
    // the same 1,100 units spread over 11 keys: nothing throttled
    for (let i = 0; i < 11; i += 1) await putHot(`cold-${i}`);
    // strongly consistent reads of the 100 KB item: 25 units each, 120 fill the 3,000
    const once1 = client(EU, 1); // one attempt: what is refused, not how often the SDK retries it (shown above)
    const read = () => once1.send(new GetItemCommand({ TableName: items, Key: { id: S('hot') }, ConsistentRead: true }));
    for (let i = 0; i < PARTITION_LIMITS.readUnitsPerSecond / 25; i += 1) await read();
    const readErr = await failure(read());
    assert.equal(readErr.name, 'ThrottlingException');
    assert.deepEqual(readErr.throttlingReasons, [{ reason: 'TableReadKeyRangeThroughputExceeded', resource: `arn:aws:dynamodb:ddblocal:000000000000:table/${items}` }]);
    // a second later the window has slid past all of it
    clock += 1_000;
    await putHot('hot');
    // a transaction's write counts twice: five 100 KB puts (1,000 units) fill the second, the sixth is cancelled
    const txPut = (id: string) => once1.send(new TransactWriteItemsCommand({ TransactItems: [{ Put: { TableName: items, Item: { id: S(id), value: S(value) } } }] }));
    clock += 1_000;
    for (let i = 0; i < 5; i += 1) await txPut('tx-hot');
    const txErr = await failure(txPut('tx-hot'));
    assert.equal(txErr.name, 'TransactionCanceledException');
    assert.deepEqual(
      (txErr as unknown as TransactionCanceledException).CancellationReasons?.map((r) => r.Code),
      ['ThrottlingError'],
    );
    assert.equal(txErr.$metadata.attempts, 1);
  });

  it('the old design (each writer a transaction checking one shared item) gets conflicts with 32 writers, the new one (read it, then a conditional put) none', async () => {
    const WRITERS = 32;
    const run = async (design: 'old' | 'new') => {
      // the first writer's first request is held until a second writer's request has reached the front
      const ref: { front?: ContentionFront } = {};
      let second!: () => void;
      const secondArrived = new Promise<void>((r) => (second = r));
      let first = true;
      const { items, state, front, client } = await setup(`ct-${design}`, {
        beforeForward: async () => {
          if (!first) return second();
          first = false;
          await Promise.race([secondArrived, once(ref.front!.events, 'conflict')]);
        },
      });
      ref.front = front;
      const c = client();
      const writer = async (i: number) => {
        if (design === 'old') {
          await c.send(new TransactWriteItemsCommand({ TransactItems: [stateCheck(state), putOwn(items, `w-${i}`)] }));
          return;
        }
        const s = await c.send(new GetItemCommand({ TableName: state, Key: { id: S('app-state') }, ConsistentRead: true }));
        assert.equal(s.Item?.state.S, 'active');
        await c.send(new PutItemCommand({ TableName: items, Item: { id: S(`w-${i}`), value: S(`v-w-${i}`) }, ConditionExpression: 'attribute_not_exists(id)' }));
      };
      const outcomes = await Promise.allSettled(Array.from({ length: WRITERS }, (_, i) => writer(i)));
      const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected').map((o) => o.reason as TransactionCanceledException);
      for (const e of refused) {
        assert.equal(e.name, 'TransactionCanceledException', String(e));
        assert.deepEqual(e.CancellationReasons, [CONFLICT, NONE], 'the shared item (index 0) is the conflict');
      }
      return { committed: WRITERS - refused.length, conflicts: refused.length, counted: front.stats().conflicts };
    };
    const old = await run('old');
    const now = await run('new');
    console.log(`      ${WRITERS} writers, first request held until a second arrives: old design ${old.conflicts} conflicts (${old.committed} committed), new design ${now.conflicts} conflicts (${now.committed} committed)`);
    assert.ok(old.conflicts > 0, 'the old design conflicts');
    assert.equal(old.counted, old.conflicts);
    assert.deepEqual(now, { committed: WRITERS, conflicts: 0, counted: 0 });
  });

  it('consistency strong: a write to an item another region is writing gets ReplicatedWriteConflictException, retried by the SDK', async () => {
    const items = uniqueTableName('ct-mrsc-items');
    for (const r of [EU, US]) await createTable(r, items);
    const hold = holdFirst(() => true);
    /** Where the synchronous replication's onWrite says a write landed (the emulator pokes that region's notifier). */
    const landed: string[] = [];
    let refusals = 0;
    let lastRefusal!: () => void;
    const refusedEveryAttempt = new Promise<void>((r) => (lastRefusal = r));
    const sync = await startSyncReplication({
      endpoint: dynamoLocalEndpoint(),
      regions: [EU, US],
      tables: [items],
      log: () => undefined,
      beforeForward: (region, touched, signal) => hold.hook({ target: 'PutItem', region, items: touched, signal }),
      onWrite: (region) => landed.push(region),
    });
    cleanup.push(() => sync.stop());
    let maxAttempts = 0;
    sync.events.on('conflict', () => {
      refusals += 1;
      if (refusals === maxAttempts) lastRefusal();
    });
    // as the emulator composes them: the regions → contention front → synchronous replication → DynamoDB Local
    const front = await startContentionFront({ endpoint: sync.url, log: () => undefined });
    cleanup.push(() => front.stop());
    const eu = new DynamoDBClient({ region: EU, endpoint: front.url, credentials: LOCAL_CREDENTIALS });
    const us = new DynamoDBClient({ region: US, endpoint: front.url, credentials: LOCAL_CREDENTIALS });
    cleanup.push(() => eu.destroy(), () => us.destroy());
    maxAttempts = await us.config.maxAttempts();
    assert.ok(maxAttempts > 1);
    const first = eu.send(new PutItemCommand({ TableName: items, Item: { id: S('z'), from: S(EU) } }));
    await hold.held;
    const later = failure(us.send(new PutItemCommand({ TableName: items, Item: { id: S('z'), from: S(US) } })));
    await refusedEveryAttempt; // every one of the SDK's attempts met the write in flight from eu-west-1
    hold.release();
    await first;
    const err = await later;
    assert.equal(err.name, 'ReplicatedWriteConflictException');
    assert.equal(err.$metadata.attempts, maxAttempts, 'the SDK retries it (modelled retryable), as against AWS');
    assert.deepEqual(sync.writeConflicts(), [{ region: US, table: items, count: maxAttempts }]);
    for (const r of [EU, US]) {
      const got = await ddbClient(r).send(new GetItemCommand({ TableName: items, Key: { id: S('z') }, ConsistentRead: true }));
      assert.equal(got.Item?.from.S, EU, `${r} has the write that was in flight`);
    }
    // once nothing is in flight the other region writes
    await us.send(new PutItemCommand({ TableName: items, Item: { id: S('z'), from: S(US) } }));
    assert.deepEqual(landed, [EU, US, US, EU], 'each accepted write, then its copy; no refused attempt');
    // a copy held back by a pause lands, and is heard, on resume
    sync.pause(EU, US);
    await eu.send(new PutItemCommand({ TableName: items, Item: { id: S('z'), from: S('paused') } }));
    assert.deepEqual(landed.slice(4), [EU]);
    sync.resume(EU, US);
    await sync.idle();
    assert.deepEqual(landed.slice(4), [EU, US]);
  });

  it('a request whose caller closed its connection before the front forwards it is dropped, never forwarded; its item is free again', async () => {
    const hold = holdFirst((r) => r.target === 'PutItem');
    let forwarded!: () => void;
    const wrote = new Promise<string>((r) => (forwarded = () => r('forwarded')));
    const { items, front, client } = await setup('ct-gone', { beforeForward: hold.hook, onWrite: () => forwarded() });
    const caller = rawCall(front.url, EU, 'PutItem', { TableName: items, Item: { id: S('gone'), value: S('late') } });
    const held = await hold.held;
    caller.destroy();
    await aborted(held.signal); // the front sees its caller go while it holds the request
    const dropped = once(front.events, 'dropped').then(([d]) => d as unknown);
    hold.release();
    assert.deepEqual(await Promise.race([dropped, wrote]), { region: EU, target: 'PutItem' });
    const got = await ddbClient(EU).send(new GetItemCommand({ TableName: items, Key: { id: S('gone') }, ConsistentRead: true }));
    assert.equal(got.Item, undefined, 'the write never reached DynamoDB');
    // the dropped request let go of its item: a transaction on it is not refused
    await client().send(new TransactWriteItemsCommand({ TransactItems: [{ Put: { TableName: items, Item: { id: S('gone'), value: S('next') } } }] }));
  });

  it("consistency strong: a write queued behind an item's lock whose caller has gone is dropped when the lock frees; the write ahead of it lands everywhere", async () => {
    const items = uniqueTableName('ct-mrsc-gone');
    for (const r of [EU, US]) await createTable(r, items);
    const hold = holdFirst(() => true);
    let calls = 0;
    const landed: string[] = [];
    let landedAgain!: () => void;
    const wrote = new Promise<string>((r) => (landedAgain = () => r('forwarded')));
    const sync = await startSyncReplication({
      endpoint: dynamoLocalEndpoint(),
      regions: [EU, US],
      tables: [items],
      log: () => undefined,
      beforeForward: async (region, touched, signal) => {
        calls += 1;
        if (calls === 1) return hold.hook({ target: 'PutItem', region, items: touched, signal });
        // the write queued behind the first: its caller has gone (below); the front learns of it before going on
        await aborted(signal);
      },
      onWrite: (region) => {
        landed.push(region);
        if (landed.length > 2) landedAgain();
      },
    });
    cleanup.push(() => sync.stop());
    const eu = new DynamoDBClient({ region: EU, endpoint: sync.url, credentials: LOCAL_CREDENTIALS });
    cleanup.push(() => eu.destroy());
    const first = eu.send(new PutItemCommand({ TableName: items, Item: { id: S('q'), from: S('first') } }));
    await hold.held;
    const queued = once(sync.events, 'queued');
    const caller = rawCall(sync.url, EU, 'PutItem', { TableName: items, Item: { id: S('q'), from: S('gone') } });
    assert.deepEqual((await queued)[0], { region: EU, table: items }, 'the second write waits for the item');
    caller.destroy();
    const dropped = once(sync.events, 'dropped').then(([d]) => d as unknown);
    hold.release();
    await first;
    assert.deepEqual(await Promise.race([dropped, wrote]), { region: EU, target: 'PutItem' });
    assert.equal(calls, 2, 'the queued write took the lock after the first, then was dropped');
    assert.deepEqual(landed, [EU, US], 'the first write and its copy; nothing of the dropped one');
    for (const r of [EU, US]) {
      const got = await ddbClient(r).send(new GetItemCommand({ TableName: items, Key: { id: S('q') }, ConsistentRead: true }));
      assert.equal(got.Item?.from.S, 'first', `${r} has the first write only`);
    }
  });

  it('npm start: --dynamodb-contention on (default) or off, anything else refused with a message', () => {
    assert.equal(parseStartArgs([]).dynamodbContention, true);
    assert.equal(parseStartArgs(['--dynamodb-contention', 'off']).dynamodbContention, false);
    assert.equal(parseStartArgs(['--dynamodb-contention', 'on']).dynamodbContention, true);
    assert.throws(() => parseStartArgs(['--dynamodb-contention', 'maybe']), { message: '--dynamodb-contention maybe: on or off' });
  });

  it('the emulator runs the front by default: the regions reach DynamoDB through it, /status counts its refusals per region and table, and each write through it wakes the stream pollers', async function () {
    this.timeout(120_000);
    const hold = holdFirst((r) => r.target === 'TransactWriteItems');
    const frontWrites: string[] = [];
    const emulator = await Emulator.start({
      stack: 'dev',
      basePort: 0,
      dynamodbEndpoint: dynamoLocalEndpoint(),
      endpointsFile: null,
      logDir: null,
      dynamodbContention: { beforeForward: hold.hook, onWrite: (w) => frontWrites.push(w.target), log: () => undefined },
      configOverrides: { tableName: `${uniqueTableName('ct-emu')}-items` },
      // a quiet stream is read only when something wakes its poller (an hour is "never" here)
      streamIdleMaxMs: MAX_IDLE_MS,
    });
    cleanup.push(() => emulator.stop());
    assert.ok(emulator.contention, 'on by default');
    assert.equal(emulator.endpoints.regionsDynamodbEndpoint, emulator.contention.url);
    assert.equal(emulator.endpoints.dynamodbEndpoint, dynamoLocalEndpoint());
    const c = new DynamoDBClient({ region: EU, endpoint: emulator.endpoints.regionsDynamodbEndpoint, credentials: LOCAL_CREDENTIALS });
    cleanup.push(() => c.destroy());
    const cfg = emulator.config;
    const tx = c.send(new TransactWriteItemsCommand({ TransactItems: [stateCheck(cfg.appConfigTableName), putOwn(cfg.tableName, 'emu-1')] }));
    await hold.held;
    const err = await failure(c.send(new TransactWriteItemsCommand({ TransactItems: [stateCheck(cfg.appConfigTableName), putOwn(cfg.tableName, 'emu-2')] })));
    assert.equal(err.name, 'TransactionCanceledException');
    hold.release();
    await tx;
    const status = (await (await fetch(`${emulator.admin.url}/status`)).json()) as { dynamodb: { contention: { conflicts: number; tables: Array<{ region: string; table: string; transactionsCancelled: number }> }; replicatedWriteConflicts: unknown } };
    assert.equal(status.dynamodb.contention.conflicts, 1);
    assert.deepEqual(
      status.dynamodb.contention.tables.filter((t) => t.transactionsCancelled > 0).map((t) => [t.region, t.table, t.transactionsCancelled]),
      [[EU, cfg.appConfigTableName, 1]],
    );
    assert.equal(status.dynamodb.replicatedWriteConflicts, null, 'eventual consistency: no synchronous replication');
    assert.deepEqual(frontWrites, ['TransactWriteItems'], 'the test\'s own onWrite still hears the front');

    // 20 quiet rounds of every poller (settled() wakes a poller for one round; the replicator's idle() settles each
    // of its pollers twice) take their pauses past an hour: from here on only a poke makes them read
    const regions = [...emulator.regions.values()];
    for (let i = 0; i < 10; i += 1) await emulator.replicator.idle();
    for (let i = 0; i < 20; i += 1) await Promise.all(regions.map((r) => r.notifierSettled()));
    const invocations = (r: string) => emulator.region(r).notifierStats()!.invocations;
    const [eu0, ap0] = [invocations(EU), invocations(AP)];
    const written = { id: S('emu-wake'), value: S('v'), version: { N: '1' }, updatedAt: S(new Date().toISOString()), updatedRegion: S(EU) };
    await c.send(new PutItemCommand({ TableName: cfg.tableName, Item: written }));
    // the front's onWrite → eu-west-1's notifier and the replicator's pollers; the replicated write → ap-southeast-2's
    await waitFor('eu-west-1\'s notifier to take the write', () => invocations(EU) > eu0);
    await waitFor('the write to reach ap-southeast-2', async () => (await ddbClient(AP).send(new GetItemCommand({ TableName: cfg.tableName, Key: { id: S('emu-wake') }, ConsistentRead: true }))).Item);
    await waitFor('ap-southeast-2\'s notifier to take the replicated write', () => invocations(AP) > ap0);
    assert.deepEqual(frontWrites, ['TransactWriteItems', 'PutItem']);
  });
});
