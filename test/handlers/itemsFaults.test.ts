/**
 * The items handler under faults, against DynamoDB Local through real sockets: a reply lost after DynamoDB applied
 * the write (the SDK retries), every reply of a write lost (the handler reads the item back), a client resending
 * with the same Idempotency-Key, a stalled endpoint, the app state of the written region, DynamoDB errors on the
 * wire, and replicated-write conflicts injected into the store. (The fence's bound under many writers:
 * itemsFence.test.ts.)
 */
import assert from 'node:assert/strict';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ReplicatedWriteConflictException } from '@aws-sdk/client-dynamodb';
import { CONFLICT_RETRIES, handleItems, handler, itemsDeps, statesAllowing, type ItemsDeps } from '../../handlers/items';
import { ANSWER_RESERVE_MS, Budget, backoffMs } from '../../handlers/lib/budget';
import { documentClient } from '../../handlers/lib/dynamo';
import type { ItemStore } from '../../handlers/lib/itemStore';
import { itemsEvent, setEnv } from '../support/apigw';
import { fakeDynamo, lostReplyProxy, refusingProxy, silentServer, type LostReplyProxy, type PlannedReply, type RefusingProxy } from './faultProxy';
import { AP, EU, createTables, doc, getItem, putItem, scan, setState } from './helpers';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { APP_STATE_ID } from '../../schema/rules';
import { dynamoEndpoint } from '../support/dynamodb';
import { toRequest } from '../../handlers/lib/http';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** Invokes the exported handler as Lambda does, with a context (remaining time, request id). */
async function invoke(event: APIGatewayProxyEvent, remainingMs = 8000, requestId = 'req-test'): Promise<{ status: number; headers: Record<string, unknown>; body: Json }> {
  const deadline = Date.now() + remainingMs;
  const res = await handler(event, { awsRequestId: requestId, getRemainingTimeInMillis: () => deadline - Date.now() });
  return { status: res.statusCode, headers: (res.headers ?? {}) as Record<string, unknown>, body: JSON.parse(res.body) };
}

/** Captures what console.error prints while `fn` runs (the handlers' JSON failure lines). */
async function capturingErrors<T>(fn: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => lines.push(args.map(String).join(' '));
  try {
    return { result: await fn(), lines };
  } finally {
    console.error = original;
  }
}

function withAuthorizer(event: APIGatewayProxyEvent, authorizer: Record<string, unknown>): APIGatewayProxyEvent {
  return { ...event, requestContext: { ...event.requestContext, authorizer } } as APIGatewayProxyEvent;
}

describe('items handler under faults (DynamoDB Local, real sockets)', () => {
  let tables: { items: string; appConfig: string };
  let restore: () => void = () => undefined;

  function env(region: string, extra: Record<string, string | undefined> = {}): void {
    restore();
    restore = setEnv({
      AWS_REGION: region,
      ITEMS_TABLE: tables.items,
      APP_CONFIG_TABLE: tables.appConfig,
      PRIMARY_REGION: EU,
      WRITE_MODE: 'multi-master',
      CONSISTENCY: undefined,
      // each request reads the app state these tests set (the cache: itemsFence.test.ts)
      STATE_CACHE_MS: '0',
      ...extra,
    });
  }

  before(async () => {
    tables = await createTables('faults');
    await setState(tables.appConfig, 'active');
  });
  afterEach(() => {
    restore();
    restore = () => undefined;
  });

  for (const consistency of ['eventual', 'strong'] as const) {
    // one write of the item alone in either mode, no transaction: a PUT without expectedVersion is one UpdateItem
    // (the next version), with it a conditional PutItem; a DELETE a conditional DeleteItem
    const writeOp = (kind: 'put' | 'conditionalPut' | 'delete') => ({ put: 'UpdateItem', conditionalPut: 'PutItem', delete: 'DeleteItem' })[kind];

    describe(`a write whose reply is lost after DynamoDB applied it (CONSISTENCY=${consistency}): the SDK's retry is recognised`, () => {
      let proxy: LostReplyProxy;
      before(async () => {
        proxy = await lostReplyProxy(dynamoEndpoint());
      });
      after(() => proxy.close());
      const through = () => env(EU, { CONSISTENCY: consistency, AWS_ENDPOINT_URL_DYNAMODB: proxy.url });
      const timesSent = (op: string) => proxy.seen.filter((o) => o === op).length;

      it('PUT without expectedVersion answers 201 version 1 (not 200 version 2), stored once', async () => {
        const id = `lost-put-${consistency}`;
        through();
        const before = { sent: timesSent(writeOp('put')), dropped: proxy.dropped };
        proxy.arm([writeOp('put')]);
        const res = await invoke(itemsEvent('PUT', id, { body: { value: 'once' } }));
        assert.equal(proxy.dropped - before.dropped, 1, 'the reply was dropped');
        assert.equal(timesSent(writeOp('put')) - before.sent, 2, 'the SDK sent the write again');
        assert.equal(res.status, 201, JSON.stringify(res.body));
        assert.equal(res.body.version, 1);
        assert.equal(res.body.created, true);
        const stored = await getItem(EU, tables.items, id);
        assert.deepEqual({ version: stored?.version, value: stored?.value }, { version: 1, value: 'once' });
      });

      it('PUT with expectedVersion 1 answers 200 version 2 (not 409), version 2 stored once', async () => {
        const id = `lost-cond-${consistency}`;
        await putItem(EU, tables.items, { id, value: 'base', version: 1, updatedAt: '2026-01-01T00:00:00.000Z', updatedRegion: EU });
        through();
        proxy.arm([writeOp('conditionalPut')]);
        const before = proxy.dropped;
        const res = await invoke(itemsEvent('PUT', id, { body: { value: 'second', expectedVersion: 1 } }));
        assert.equal(proxy.dropped - before, 1);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.deepEqual([res.body.version, res.body.previousVersion], [2, 1]);
        const stored = await getItem(EU, tables.items, id);
        assert.deepEqual({ version: stored?.version, value: stored?.value }, { version: 2, value: 'second' });
      });

      it('DELETE answers 200 with the deleted item (not 404)', async () => {
        const id = `lost-del-${consistency}`;
        await putItem(EU, tables.items, { id, value: 'doomed', version: 3, updatedAt: '2026-01-01T00:00:00.000Z', updatedRegion: EU });
        through();
        proxy.arm([writeOp('delete')]);
        const before = proxy.dropped;
        const res = await invoke(itemsEvent('DELETE', id, { query: { expectedVersion: '3' } }));
        assert.equal(proxy.dropped - before, 1);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.deepEqual([res.body.deleted, res.body.version, res.body.value], [true, 3, 'doomed']);
        assert.equal(await getItem(EU, tables.items, id), undefined);
      });

      /** The operations sent after the last `op` (what the handler did once that write call ended). */
      const sentAfter = (op: string) => proxy.seen.slice(proxy.seen.lastIndexOf(op) + 1);

      it('PUT with expectedVersion 1, first reply lost, the retry\'s condition failure without the stored item: read back → 200 version 2 (not 409)', async () => {
        const id = `lost-cond-noitem-${consistency}`;
        await putItem(EU, tables.items, { id, value: 'base', version: 1, updatedAt: '2026-01-01T00:00:00.000Z', updatedRegion: EU, writeId: 'w1' });
        through();
        const before = { puts: timesSent('PutItem'), dropped: proxy.dropped, stripped: proxy.stripped };
        proxy.arm(['PutItem']);
        proxy.stripConditionItem(1);
        try {
          const res = await invoke(itemsEvent('PUT', id, { body: { value: 'second' }, headers: { 'If-Match': '"1"' } }));
          assert.equal(timesSent('PutItem') - before.puts, 2, 'the SDK sent the write again');
          assert.deepEqual([proxy.dropped - before.dropped, proxy.stripped - before.stripped], [1, 1], 'the first reply lost, the retry\'s condition failure without its item');
          assert.equal(res.status, 200, JSON.stringify(res.body));
          assert.deepEqual(sentAfter('PutItem'), ['GetItem'], 'the item read back');
          assert.deepEqual([res.body.version, res.body.previousVersion, res.body.value, res.headers.etag], [2, 1, 'second', '"2"']);
          assert.deepEqual(((i) => ({ version: i?.version, value: i?.value }))(await getItem(EU, tables.items, id)), { version: 2, value: 'second' });
        } finally {
          proxy.stripConditionItem(0);
        }
      });

      it('a condition failure on the SDK\'s retry with the item at another writer\'s version: read back, still 409 with that version', async () => {
        const id = `lost-cond-other-${consistency}`;
        await putItem(EU, tables.items, { id, value: 'other', version: 2, updatedAt: '2026-01-01T00:00:00.000Z', updatedRegion: EU, writeId: 'other-writer' });
        through();
        const before = { puts: timesSent('PutItem'), dropped: proxy.dropped };
        proxy.arm(['PutItem']);
        const res = await invoke(itemsEvent('PUT', id, { body: { value: 'mine', expectedVersion: 1 } }));
        assert.deepEqual([timesSent('PutItem') - before.puts, proxy.dropped - before.dropped], [2, 1], 'two attempts, the first one\'s reply lost');
        assert.deepEqual(sentAfter('PutItem'), ['GetItem'], 'the item read back');
        assert.equal(res.status, 409, JSON.stringify(res.body));
        assert.deepEqual([res.body.errorType, res.body.expectedVersion, res.body.actualVersion], ['VersionConflict', 1, 2]);
        // the first attempt may have stored version 2 and another writer replaced it: "nothing was written" would be a guess
        assert.match(res.body.error, /expected version 1, found version 2; your write may have been applied and then replaced by a newer one \(or deleted\): read the item \(GET\)$/);
        assert.equal((await getItem(EU, tables.items, id))?.value, 'other');
      });

      it('first reply lost, the retry\'s condition failure without the stored item, and the read-back fails too: 503 outcome "unknown" with writeId and Idempotency-Key (not 409 "nothing was written"); resent with it: 200 version 2, stored once', async () => {
        const id = `lost-cond-unread-${consistency}`;
        await putItem(EU, tables.items, { id, value: 'base', version: 1, updatedAt: '2026-01-01T00:00:00.000Z', updatedRegion: EU, writeId: 'w1' });
        // a warm app state cache, so that the only GetItem in the request is the item's read-back
        env(EU, { CONSISTENCY: consistency, AWS_ENDPOINT_URL_DYNAMODB: proxy.url, STATE_CACHE_MS: '10000' });
        assert.equal((await invoke(itemsEvent('PUT', `${id}-warm`, { body: { value: 'w' } }))).status, 201);
        const from = proxy.log.length;
        proxy.plan('PutItem', ['drop', 'pass']);
        proxy.plan('GetItem', Array<PlannedReply>(100).fill('drop'));
        proxy.stripConditionItem(1);
        let res: Awaited<ReturnType<typeof invoke>>;
        try {
          res = (await capturingErrors(() => invoke(itemsEvent('PUT', id, { body: { value: 'second' }, headers: { 'If-Match': '"1"' } })))).result;
        } finally {
          proxy.plan('PutItem', []);
          proxy.plan('GetItem', []);
          proxy.stripConditionItem(0);
        }
        const sent = proxy.log.slice(from);
        assert.deepEqual(sent.slice(0, 2), ['PutItem~', 'PutItem'], 'the first attempt applied with its reply lost, the retry answered (its condition failed)');
        assert.ok(sent.length > 2 && sent.slice(2).every((op) => op === 'GetItem~'), `then the read-back, every reply lost: ${sent.join(' ')}`);
        const stored = await getItem(EU, tables.items, id);
        assert.deepEqual([stored?.version, stored?.value], [2, 'second'], 'the write is stored: a 409 saying nothing was written would be false');
        assert.equal(res.status, 503, JSON.stringify(res.body));
        assert.deepEqual([res.body.errorType, res.body.outcome, res.headers['retry-after']], ['Timeout', 'unknown', '5']);
        assert.equal(res.body.writeId, stored?.writeId, 'the write id the write was sent with');
        assert.equal(res.headers['idempotency-key'], `"${res.body.writeId}"`);
        assert.match(res.body.error, /Whether it was stored is unknown \(its condition failed after an attempt that got no answer, and reading it back failed\): read the item \(GET\)/);
        assert.ok(res.body.error.includes(`resend it with Idempotency-Key: "${res.body.writeId}" (the write id this request was sent with; it had no key)`), res.body.error);

        const resent = await invoke(itemsEvent('PUT', id, { body: { value: 'second' }, headers: { 'If-Match': '"1"', 'Idempotency-Key': String(res.headers['idempotency-key']) } }));
        assert.equal(resent.status, 200, JSON.stringify(resent.body));
        assert.deepEqual([resent.body.version, resent.body.previousVersion, resent.body.value], [2, 1, 'second']);
        assert.equal((await getItem(EU, tables.items, id))?.version, 2, 'stored once');
      });

      it('a genuine conflict answered on the first attempt: 409, no read-back', async () => {
        const id = `conflict-once-${consistency}`;
        await putItem(EU, tables.items, { id, value: 'other', version: 2, updatedAt: '2026-01-01T00:00:00.000Z', updatedRegion: EU, writeId: 'other-writer' });
        through();
        const before = timesSent('PutItem');
        const res = await invoke(itemsEvent('PUT', id, { body: { value: 'mine', expectedVersion: 1 } }));
        assert.equal(timesSent('PutItem') - before, 1, 'one attempt');
        assert.deepEqual(sentAfter('PutItem'), [], 'nothing read back');
        assert.equal(res.status, 409, JSON.stringify(res.body));
        assert.deepEqual([res.body.errorType, res.body.actualVersion], ['VersionConflict', 2]);
      });

      it('a different request that finds the same version answers 409: only the request\'s own write is recognised', async () => {
        const id = `lost-other-${consistency}`;
        through();
        const first = await invoke(itemsEvent('PUT', id, { body: { value: 'first', expectedVersion: 0 } }));
        assert.equal(first.status, 201);
        const second = await invoke(itemsEvent('PUT', id, { body: { value: 'second', expectedVersion: 0 } }));
        assert.equal(second.status, 409, JSON.stringify(second.body));
        assert.equal((await getItem(EU, tables.items, id))?.value, 'first');
      });
    });

    describe(`every reply of a write lost (CONSISTENCY=${consistency}): the item is read back before answering`, () => {
      let proxy: LostReplyProxy;
      before(async () => {
        proxy = await lostReplyProxy(dynamoEndpoint());
      });
      after(() => proxy.close());
      const through = (extra: Record<string, string> = {}) => env(EU, { CONSISTENCY: consistency, AWS_ENDPOINT_URL_DYNAMODB: proxy.url, ...extra });
      const sent = (op: string) => proxy.seen.filter((o) => o === op).length;
      /** More replies than the SDK makes attempts: every one of a call's attempts loses its reply (disarmed after each test). */
      const ALL = 100;

      afterEach(() => proxy.arm([], 0));

      it('PUT stored, every SDK attempt lost its reply → 201 with the stored write (read back), not 503', async () => {
        const id = `all-lost-put-${consistency}`;
        through();
        const before = { puts: sent('UpdateItem'), dropped: proxy.dropped };
        proxy.arm(['UpdateItem'], ALL);
        const { result: res, lines } = await capturingErrors(() => invoke(itemsEvent('PUT', id, { body: { value: 'kept' } })));
        const puts = sent('UpdateItem') - before.puts;
        assert.ok(puts >= 2, `the SDK retried (${puts} attempts)`);
        assert.equal(proxy.dropped - before.dropped, puts, 'every attempt reached DynamoDB, every reply was lost');
        assert.equal(res.status, 201, JSON.stringify(res.body));
        assert.deepEqual([res.body.value, res.body.version, res.body.created], ['kept', 1, true]);
        assert.equal(lines.length, 0, `nothing failed as far as the client is concerned: ${lines.join('\n')}`);
        assert.deepEqual(((i) => ({ value: i?.value, version: i?.version }))(await getItem(EU, tables.items, id)), { value: 'kept', version: 1 });
      });

      it('DELETE applied, every reply lost → 200 deleted (the item is gone), not 503', async () => {
        const id = `all-lost-del-${consistency}`;
        await putItem(EU, tables.items, { id, value: 'doomed', version: 4, updatedAt: '2026-01-01T00:00:00.000Z', updatedRegion: EU, writeId: 'w4' });
        through();
        const before = { deletes: sent('DeleteItem'), dropped: proxy.dropped };
        proxy.arm(['DeleteItem'], ALL);
        const res = await invoke(itemsEvent('DELETE', id));
        const deletes = sent('DeleteItem') - before.deletes;
        assert.ok(deletes >= 2, `the SDK retried (${deletes} attempts)`);
        assert.equal(proxy.dropped - before.dropped, deletes);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.deepEqual([res.body.deleted, res.body.version, res.body.value], [true, 4, 'doomed']);
        assert.equal(await getItem(EU, tables.items, id), undefined);
      });

      it('the read-back fails too → 503 with outcome "unknown" and how to find out; a resend with the same Idempotency-Key is answered as that write, stored once', async () => {
        const id = `unknown-${consistency}`;
        // a warm app state cache, so that the only reads in the request are the item's (proxied and dropped below)
        through({ STATE_CACHE_MS: '10000' });
        assert.equal((await invoke(itemsEvent('PUT', `${id}-warm`, { body: { value: 'w' } }))).status, 201);
        const before = { sent: sent('PutItem') + sent('GetItem'), dropped: proxy.dropped };
        proxy.arm(['PutItem', 'GetItem'], ALL);
        const key = `key-${consistency}-1`;
        const put = (value: string) => itemsEvent('PUT', id, { body: { value, expectedVersion: 0 }, headers: { 'Idempotency-Key': `"${key}"` } });
        const { result: res, lines } = await capturingErrors(() => invoke(put('once')));
        proxy.arm([], 0);
        assert.equal(proxy.dropped - before.dropped, sent('PutItem') + sent('GetItem') - before.sent, 'every write attempt and every read-back attempt lost its reply');
        assert.equal(res.status, 503, JSON.stringify(res.body));
        // the SDK reports a reset connection as TimeoutError (code ECONNRESET): answered as a timeout
        assert.deepEqual([res.body.errorType, res.body.outcome], ['Timeout', 'unknown']);
        assert.match(res.body.error, /Whether it was stored is unknown \(reading it back failed too\): read the item \(GET\).*resend it with Idempotency-Key: "key-[a-z]+-1" \(your key\)/);
        assert.equal(res.headers['retry-after'], '5');
        assert.deepEqual([res.body.writeId, res.headers['idempotency-key']], [key, `"${key}"`], 'the key is named back as the write id');
        assert.equal(lines.length, 1, lines.join('\n'));
        assert.equal((await getItem(EU, tables.items, id))?.writeId, key, 'it was stored, with the key as its writeId');

        const resent = await invoke(put('once'));
        assert.equal(resent.status, 201, JSON.stringify(resent.body));
        assert.deepEqual([resent.body.value, resent.body.version, resent.body.created], ['once', 1, true]);
        const other = await invoke(put('another value'));
        assert.equal(other.status, 422, JSON.stringify(other.body));
        assert.equal(other.body.errorType, 'IdempotencyKeyReused');
        assert.match(other.body.error, /names the write that stored version 1 of item "unknown-.*" with another value/);
        assert.deepEqual(((i) => ({ value: i?.value, version: i?.version }))(await getItem(EU, tables.items, id)), { value: 'once', version: 1 }, 'stored once');
      });
    });

    describe(`a PUT without Idempotency-Key whose outcome stayed unknown (CONSISTENCY=${consistency}): the 503 names the write id to resend with`, () => {
      let proxy: LostReplyProxy;
      before(async () => {
        proxy = await lostReplyProxy(dynamoEndpoint());
      });
      after(() => proxy.close());

      it('every write and read-back reply lost → 503 unknown with writeId (body) and Idempotency-Key (header); resent with that header: 201 version 1, stored once', async () => {
        const id = `unknown-nokey-${consistency}`;
        // a warm app state cache: the only reads in the request are the item's (proxied and dropped below)
        env(EU, { CONSISTENCY: consistency, AWS_ENDPOINT_URL_DYNAMODB: proxy.url, STATE_CACHE_MS: '10000' });
        assert.equal((await invoke(itemsEvent('PUT', `${id}-warm`, { body: { value: 'w' } }))).status, 201);
        proxy.arm(['UpdateItem', 'GetItem'], 100);
        const { result: res } = await capturingErrors(() => invoke(itemsEvent('PUT', id, { body: { value: 'once' } })));
        proxy.arm([], 0);
        assert.equal(res.status, 503, JSON.stringify(res.body));
        assert.equal(res.body.outcome, 'unknown');
        const stored = await getItem(EU, tables.items, id);
        assert.ok(typeof stored?.writeId === 'string', 'it was stored, under a write id the handler made up');
        assert.equal(res.body.writeId, stored.writeId, 'the answer names the write id the write was sent with');
        assert.equal(res.headers['idempotency-key'], `"${stored.writeId}"`);
        assert.ok(
          res.body.error.includes(`resend it with Idempotency-Key: "${stored.writeId}" (the write id this request was sent with; it had no key)`),
          res.body.error,
        );

        const resent = await invoke(itemsEvent('PUT', id, { body: { value: 'once' }, headers: { 'Idempotency-Key': String(res.headers['idempotency-key']) } }));
        assert.equal(resent.status, 201, JSON.stringify(resent.body));
        assert.deepEqual([resent.body.version, resent.body.created], [1, true], 'answered as the stored write, not a second version');
        assert.deepEqual(((i) => ({ value: i?.value, version: i?.version }))(await getItem(EU, tables.items, id)), { value: 'once', version: 1 });
      });
    });

    describe(`the app state of the replica written to (CONSISTENCY=${consistency})`, () => {
      it('primary mode: the primary region\'s own state is checked (fenced there, still active locally) → refused', async () => {
        await setState(tables.appConfig, 'fenced', [EU]);
        try {
          env(AP, { CONSISTENCY: consistency, WRITE_MODE: 'primary' });
          const before = await scan(EU, tables.items);
          const res = await invoke(itemsEvent('PUT', `prim-fence-${consistency}`, { body: { value: 'x' } }));
          assert.equal(res.status, 503, JSON.stringify(res.body));
          assert.equal(res.body.errorType, 'WriteFenced');
          assert.deepEqual(await scan(EU, tables.items), before);
        } finally {
          await setState(tables.appConfig, 'active', [EU]);
        }
      });

      it('primary mode: the primary already in failover while AP still reads active → decided again with the primary\'s state: AP writes locally', async () => {
        await setState(tables.appConfig, 'failover', [EU]);
        try {
          env(AP, { CONSISTENCY: consistency, WRITE_MODE: 'primary' });
          const res = await invoke(itemsEvent('PUT', `prim-fo-${consistency}`, { body: { value: 'x' } }));
          assert.equal(res.status, 201, JSON.stringify(res.body));
          assert.equal(res.body.writeRegion, AP);
          assert.equal(await getItem(EU, tables.items, `prim-fo-${consistency}`), undefined);
        } finally {
          await setState(tables.appConfig, 'active', [EU]);
        }
      });
    });
  }

  describe('a failover that waits out the write bound (writesFromMs)', () => {
    async function failoverFrom(writesFromMs: number): Promise<void> {
      for (const r of [EU, AP]) {
        await doc(r).send(new PutCommand({ TableName: tables.appConfig, Item: { id: APP_STATE_ID, state: 'failover', version: 2, updatedAt: new Date().toISOString(), reason: 't', writesFromMs } }));
      }
    }

    it('before writesFromMs AP refuses with 503 StateChanging and the seconds left as Retry-After; from then on it writes locally', async () => {
      try {
        await failoverFrom(Date.now() + 20_000);
        env(AP, { WRITE_MODE: 'primary' });
        const early = await invoke(itemsEvent('PUT', 'wf-1', { body: { value: 'x' } }));
        assert.equal(early.status, 503, JSON.stringify(early.body));
        assert.equal(early.body.errorType, 'StateChanging');
        assert.match(early.body.error, /failover: ap-southeast-2 takes writes in (19|20) s, once every write that read the previous state has committed/);
        assert.ok(['19', '20'].includes(String(early.headers['retry-after'])), String(early.headers['retry-after']));
        assert.equal(await getItem(AP, tables.items, 'wf-1'), undefined);

        await failoverFrom(Date.now() - 1);
        const late = await invoke(itemsEvent('PUT', 'wf-1', { body: { value: 'x' } }));
        assert.equal(late.status, 201, JSON.stringify(late.body));
        assert.equal(late.body.writeRegion, AP);
      } finally {
        await setState(tables.appConfig, 'active');
      }
    });
  });

  it('the guard allows exactly the states decideWrite allows for the target region', () => {
    const mm = { writeMode: 'multi-master' as const, region: AP, primaryRegion: EU };
    assert.deepEqual(statesAllowing(AP, mm), ['active', 'failover']);
    assert.deepEqual(statesAllowing(EU, mm), []);
    const pm = { writeMode: 'primary' as const, region: AP, primaryRegion: EU };
    assert.deepEqual(statesAllowing(EU, pm), ['active']);
    assert.deepEqual(statesAllowing(AP, pm), ['failover']);
    assert.deepEqual(statesAllowing(EU, { ...pm, region: EU }), ['active']);
  });

  describe('bounded waits', () => {
    it('GET against an endpoint that accepts and never answers ends within the invocation budget with 503 Timeout', async () => {
      const silent = await silentServer();
      try {
        env(EU, { AWS_ENDPOINT_URL_DYNAMODB: silent.url });
        const started = Date.now();
        const { result: res, lines } = await capturingErrors(() => invoke(itemsEvent('GET', 'anything'), 1000, 'req-silent'));
        const took = Date.now() - started;
        assert.equal(res.status, 503, JSON.stringify(res.body));
        assert.equal(res.body.errorType, 'Timeout');
        assert.equal(res.headers['retry-after'], '5');
        // the budget is the 1000 ms left less the 250 ms answer reserve: the abort comes no sooner than that; the
        // upper bound only guards against a hang (5 × the invocation), it is not a speed test
        assert.ok(took >= 1000 - ANSWER_RESERVE_MS - 5 && took < 5 * 1000, `took ${took} ms for a 1000 ms invocation budget`);
        assert.equal(lines.length, 1, lines.join('\n'));
        const line = JSON.parse(lines[0]);
        assert.deepEqual(
          { handler: line.handler, requestId: line.requestId, kind: line.kind, status: line.status },
          { handler: 'items', requestId: 'req-silent', kind: 'timeout', status: 503 },
        );
      } finally {
        await silent.close();
      }
    });

    it('every DynamoDB client has a request timeout that throws (not just a warning)', async () => {
      const silent = await silentServer();
      const restoreEnv = setEnv({ AWS_ENDPOINT_URL_DYNAMODB: silent.url });
      try {
        const doc = documentClient(EU, { maxAttempts: 1, requestTimeoutMs: 200 });
        // no abort signal here: only the client's own timeout can end the call with a TimeoutError; the race (5 × the
        // timeout) only keeps a client without one from hanging the test, and fails it with a plain Error
        const hung = new Promise((_, reject) => setTimeout(() => reject(new Error('still waiting after 1 s: the request timeout does not throw')), 5 * 200).unref());
        await assert.rejects(Promise.race([doc.send(new GetCommand({ TableName: 'any-table', Key: { id: 'x' } })), hung]), (err: Error) => err.name === 'TimeoutError');
      } finally {
        restoreEnv();
        await silent.close();
      }
    });
  });

  describe('DynamoDB errors on the wire → status, Retry-After, one log line', () => {
    const cases = [
      { type: 'ProvisionedThroughputExceededException', http: 400, status: 503, errorType: 'Throttled', retryAfter: '2' },
      { type: 'ThrottlingException', http: 400, status: 503, errorType: 'Throttled', retryAfter: '2' },
      { type: 'InternalServerError', http: 500, status: 503, errorType: 'Unavailable', retryAfter: '5' },
      { type: 'AccessDeniedException', http: 400, status: 500, errorType: 'ConfigError', retryAfter: undefined },
      { type: 'ResourceNotFoundException', http: 400, status: 500, errorType: 'ConfigError', retryAfter: undefined },
      { type: 'ValidationException', http: 400, status: 500, errorType: 'ConfigError', retryAfter: undefined },
    ];
    for (const c of cases) {
      it(`${c.type} → ${c.status} ${c.errorType}${c.retryAfter ? ` Retry-After ${c.retryAfter}` : ', no Retry-After'}; the answer names the error, not its message`, async () => {
        const fake = await fakeDynamo();
        const secret = 'User: arn:aws:sts::123456789012:assumed-role/items-role/fn is not authorized';
        fake.answer(c.http, c.type, secret);
        try {
          env(EU, { AWS_ENDPOINT_URL_DYNAMODB: fake.url, AWS_MAX_ATTEMPTS: '1' });
          const { result: res, lines } = await capturingErrors(() => invoke(itemsEvent('GET', 'x'), 5000, `req-${c.type}`));
          assert.equal(res.status, c.status, JSON.stringify(res.body));
          assert.equal(res.body.errorType, c.errorType);
          assert.equal(res.headers['retry-after'], c.retryAfter);
          assert.match(res.body.error, new RegExp(`\\(${c.type}\\)`));
          assert.ok(!JSON.stringify(res.body).includes('arn:aws'), 'no message text in the answer');
          assert.equal(lines.length, 1);
          const line = JSON.parse(lines[0]);
          assert.deepEqual({ errorName: line.errorName, requestId: line.requestId, sdkAttempts: line.sdkAttempts }, { errorName: c.type, requestId: `req-${c.type}`, sdkAttempts: 1 });
        } finally {
          await fake.close();
        }
      });
    }
  });

  describe('a write refused on every attempt: read back, then 503 with outcome "notApplied"', () => {
    /** The fake's answers to everything but PutItem: the app state item for its key, no item otherwise. */
    const reads = (_op: string, req: Record<string, unknown>) =>
      (req.Key as { id?: { S?: string } } | undefined)?.id?.S === APP_STATE_ID ? { Item: { id: { S: APP_STATE_ID }, state: { S: 'active' } } } : {};

    it('PutItem throttled on every SDK attempt: 503 Throttled, Retry-After 2, outcome notApplied (the item does not hold it), one log line', async () => {
      const fake = await fakeDynamo();
      fake.answer(400, 'ProvisionedThroughputExceededException', 'Rate exceeded', { only: 'PutItem', okBody: reads });
      try {
        env(EU, { AWS_ENDPOINT_URL_DYNAMODB: fake.url, AWS_MAX_ATTEMPTS: '2' });
        const before = fake.requests;
        const { result: res, lines } = await capturingErrors(() => invoke(itemsEvent('PUT', 'throttled-put', { body: { value: 'v', expectedVersion: 0 } })));
        assert.equal(res.status, 503, JSON.stringify(res.body));
        assert.deepEqual([res.body.errorType, res.body.outcome, res.headers['retry-after']], ['Throttled', 'notApplied', '2']);
        assert.match(res.body.error, /Read back: there is no such item; nothing of this request is in effect\. Resend it with Idempotency-Key: "[0-9a-f-]{36}" \(the write id this request was sent with; it had no key\)/);
        // the state read, 2 write attempts, the read-back
        assert.equal(fake.requests - before, 4);
        assert.equal(lines.length, 1);
      } finally {
        await fake.close();
      }
    });

    it('a write refused as misconfigured on its only attempt (AccessDenied) is not read back: nothing can have been applied', async () => {
      const fake = await fakeDynamo();
      fake.answer(400, 'AccessDeniedException', 'not authorized', { only: 'PutItem', okBody: reads });
      try {
        env(EU, { AWS_ENDPOINT_URL_DYNAMODB: fake.url, AWS_MAX_ATTEMPTS: '1' });
        const before = fake.requests;
        const { result: res } = await capturingErrors(() => invoke(itemsEvent('PUT', 'denied-put', { body: { value: 'v', expectedVersion: 0 } })));
        assert.deepEqual([res.status, res.body.errorType, res.body.outcome], [500, 'ConfigError', undefined]);
        assert.equal(fake.requests - before, 2, 'the state read and the write, no read-back');
      } finally {
        await fake.close();
      }
    });
  });

  describe('a PUT refused on every attempt (DynamoDB Local behind a refusing proxy): the 503 notApplied names the write id to resend with', () => {
    let proxy: RefusingProxy;
    before(async () => {
      proxy = await refusingProxy(dynamoEndpoint());
    });
    after(() => proxy.close());

    it('no Idempotency-Key: 503 notApplied with writeId and Idempotency-Key; the attempt landing late, the resend with that header answers it (201 version 1), not a second version', async () => {
      const id = 'notapplied-nokey';
      env(EU, { AWS_ENDPOINT_URL_DYNAMODB: proxy.url, AWS_MAX_ATTEMPTS: '2' });
      const from = proxy.seen.length;
      proxy.refuse('UpdateItem', 2, 'ProvisionedThroughputExceededException', 'Rate exceeded');
      const { result: res } = await capturingErrors(() => invoke(itemsEvent('PUT', id, { body: { value: 'v' } })));
      assert.deepEqual(proxy.seen.slice(from).filter((op) => op !== 'GetItem'), ['UpdateItem!', 'UpdateItem!'], 'both attempts refused');
      assert.equal(proxy.seen.at(-1), 'GetItem', 'read back');
      assert.equal(res.status, 503, JSON.stringify(res.body));
      assert.deepEqual([res.body.errorType, res.body.outcome], ['Throttled', 'notApplied']);
      const writeId = res.body.writeId;
      assert.match(String(writeId), /^[0-9a-f-]{36}$/);
      assert.equal(res.headers['idempotency-key'], `"${writeId}"`);
      assert.ok(res.body.error.includes(`Resend it with Idempotency-Key: "${writeId}" (the write id this request was sent with; it had no key)`), res.body.error);
      assert.equal(await getItem(EU, tables.items, id), undefined, 'nothing stored');

      // what the resend guards against: the write the 503 answered lands after the read-back (DynamoDB may apply a
      // request whose answer was an error), here put in place as it would have been stored
      await putItem(EU, tables.items, { id, value: 'v', version: 1, updatedAt: '2026-01-01T00:00:00.000Z', updatedRegion: EU, writeId });
      const resent = await invoke(itemsEvent('PUT', id, { body: { value: 'v' }, headers: { 'Idempotency-Key': String(res.headers['idempotency-key']) } }));
      assert.equal(resent.status, 201, JSON.stringify(resent.body));
      assert.deepEqual([resent.body.version, resent.body.created], [1, true]);
      assert.equal((await getItem(EU, tables.items, id))?.version, 1, 'one version, not two');
    });

    it('DELETE refused on every attempt: 503 notApplied without a write id (a delete has none to resend with)', async () => {
      const id = 'notapplied-del';
      await putItem(EU, tables.items, { id, value: 'kept', version: 2, updatedAt: '2026-01-01T00:00:00.000Z', updatedRegion: EU, writeId: 'w2' });
      env(EU, { AWS_ENDPOINT_URL_DYNAMODB: proxy.url, AWS_MAX_ATTEMPTS: '2' });
      proxy.refuse('DeleteItem', 2, 'ProvisionedThroughputExceededException', 'Rate exceeded');
      const { result: res } = await capturingErrors(() => invoke(itemsEvent('DELETE', id)));
      assert.equal(res.status, 503, JSON.stringify(res.body));
      assert.equal(res.body.outcome, 'notApplied');
      assert.match(res.body.error, /Read back: it is still there at version 2; nothing of this request is in effect, sending it again is safe/);
      assert.deepEqual([res.body.writeId, res.headers['idempotency-key']], [undefined, undefined]);
      assert.equal((await getItem(EU, tables.items, id))?.version, 2);
    });
  });

  describe('replicated-write conflicts (MRSC) are retried with backoff inside the budget', () => {
    /**
     * A budget on a clock that moves only when told to: pause(ms) advances it instead of waiting (same contract as
     * Budget.pause: no pause that would reach the deadline), so how many tries fit in the budget does not depend
     * on how busy the machine is. Every pause asked for is recorded.
     */
    class SteppedBudget extends Budget {
      readonly pauses: number[] = [];
      private constructor(private readonly clock: { t: number }, ms: number) {
        super(clock.t + ms, () => clock.t);
      }
      static of(ms: number): SteppedBudget {
        return new SteppedBudget({ t: 1_000_000 }, ms);
      }
      advance(ms: number): void {
        this.clock.t += ms;
      }
      override async pause(ms: number): Promise<boolean> {
        this.pauses.push(ms);
        if (ms >= this.remaining()) return false;
        this.advance(ms);
        return true;
      }
    }

    /**
     * Deps whose write store throws ReplicatedWriteConflictException `failures` times (each failed try taking
     * `tryMs` of the budget's clock), then writes for real; records the abort signal every store call was given.
     */
    function conflicting(failures: number, budget?: SteppedBudget, tryMs = 0): { deps: ItemsDeps; calls: () => number; signals: (AbortSignal | undefined)[] } {
      const real = itemsDeps();
      let calls = 0;
      const signals: (AbortSignal | undefined)[] = [];
      const wrap = (store: ItemStore): ItemStore => ({
        region: store.region,
        get: (id, signal) => (signals.push(signal), store.get(id, signal)),
        put: (item, ifVersion, signal) => store.put(item, ifVersion, signal),
        async upsert(item, signal) {
          calls += 1;
          signals.push(signal);
          if (calls <= failures) {
            budget?.advance(tryMs);
            throw new ReplicatedWriteConflictException({ message: 'being modified in another Region', $metadata: { attempts: 3 } });
          }
          return store.upsert(item, signal);
        },
        delete: (current, signal) => store.delete(current, signal),
      });
      return { deps: { ...real, storeFor: (r) => wrap(real.storeFor(r)), random: () => 0.5 }, calls: () => calls, signals };
    }
    /** The pauses the handler asks for with random() = 0.5: full jitter, base 25 ms, cap 1 s. */
    const expectedPauses = (n: number) => Array.from({ length: n }, (_, i) => backoffMs(i + 1, 25, 1000, () => 0.5));

    it('two conflicts, then the write lands: 201 after 3 tries, two growing pauses', async () => {
      env(EU, { CONSISTENCY: 'strong' });
      const budget = SteppedBudget.of(3000);
      const { deps, calls } = conflicting(2);
      const res = await handleItems(toRequest(itemsEvent('PUT', 'rwc-1', { body: { value: 'v' } })), deps, { requestId: 'r', budget });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(calls(), 3);
      assert.deepEqual(budget.pauses, expectedPauses(2));
      assert.equal((await getItem(EU, tables.items, 'rwc-1'))?.version, 1);
    });

    it('conflicts that never stop: CONFLICT_RETRIES retries with doubling pauses, then 409 WriteConflict, nothing written, one log line', async () => {
      env(EU, { CONSISTENCY: 'strong' });
      const budget = SteppedBudget.of(10_000);
      const { deps, calls, signals } = conflicting(1000);
      const { result: res, lines } = await capturingErrors(() => handleItems(toRequest(itemsEvent('PUT', 'rwc-2', { body: { value: 'v' } })), deps, { requestId: 'r-conf', budget }));
      assert.equal(res.status, 409, JSON.stringify(res.body));
      assert.deepEqual({ errorType: (res.body as Json).errorType, retryable: (res.body as Json).retryable }, { errorType: 'WriteConflict', retryable: true });
      assert.equal(calls(), 1 + CONFLICT_RETRIES, 'one try plus every retry');
      assert.deepEqual(budget.pauses, expectedPauses(CONFLICT_RETRIES), 'a pause before each retry, growing: 12, 25, 50, 100, 200, 400 ms');
      // reads carry the budget's own signal; a write carries one that fires earlier (budget.signalLeaving), so that a
      // write whose reply is lost still leaves time to read it back before answering
      assert.ok(signals.length > 0 && signals.every((sig) => sig instanceof AbortSignal && !sig.aborted), 'every DynamoDB call carries an abort signal from the budget');
      assert.equal(await getItem(EU, tables.items, 'rwc-2'), undefined);
      assert.equal(lines.length, 1);
      assert.deepEqual(
        (({ errorName, tries, sdkAttempts, requestId }) => ({ errorName, tries, sdkAttempts, requestId }))(JSON.parse(lines[0])),
        { errorName: 'ReplicatedWriteConflictException', tries: calls(), sdkAttempts: 3, requestId: 'r-conf' },
      );
    });

    it('stops retrying when the next pause would reach the deadline: 409 within the budget, with the tries that fitted', async () => {
      env(EU, { CONSISTENCY: 'strong' });
      // each try takes 300 ms of a 1000 ms budget: tries end at 300, 612, 937 and 1287 (after pauses of 12, 25, 50);
      // the fourth conflict would need a 100 ms pause with nothing left, so the handler answers at once
      const budget = SteppedBudget.of(1000);
      const { deps, calls } = conflicting(1000, budget, 300);
      const { result: res, lines } = await capturingErrors(() => handleItems(toRequest(itemsEvent('PUT', 'rwc-3', { body: { value: 'v' } })), deps, { requestId: 'r-late', budget }));
      assert.equal(res.status, 409, JSON.stringify(res.body));
      assert.equal((res.body as Json).errorType, 'WriteConflict');
      assert.equal(calls(), 4);
      assert.deepEqual(budget.pauses, expectedPauses(4), 'the last pause was asked for and refused');
      assert.equal(lines.length, 1);
      // the log counts the tries made (4), not the one the refused pause would have led to
      assert.deepEqual((({ tries, sdkAttempts }) => ({ tries, sdkAttempts }))(JSON.parse(lines[0])), { tries: calls(), sdkAttempts: 3 });
      assert.equal(await getItem(EU, tables.items, 'rwc-3'), undefined);
    });
  });

  describe('a replicated-write conflict after an attempt that may have been applied (MRSC; DynamoDB Local behind a lost-reply proxy)', () => {
    let proxy: LostReplyProxy;
    before(async () => {
      proxy = await lostReplyProxy(dynamoEndpoint());
    });
    after(() => proxy.close());
    afterEach(() => {
      proxy.plan('UpdateItem', []);
      proxy.plan('PutItem', []);
    });
    const conflicts = (n: number) => Array<PlannedReply>(n).fill({ error: 'ReplicatedWriteConflictException', message: 'the item is being modified in another Region' });
    let warmups = 0;
    /** Three SDK attempts per write call, and a warm app state cache: the only GetItem in a request is the item's. */
    async function through(): Promise<void> {
      env(EU, { CONSISTENCY: 'strong', AWS_ENDPOINT_URL_DYNAMODB: proxy.url, AWS_MAX_ATTEMPTS: '3', STATE_CACHE_MS: '10000' });
      warmups += 1;
      assert.equal((await invoke(itemsEvent('PUT', `rwc-proxy-warm-${warmups}`, { body: { value: 'w' } }))).status, 201);
    }

    const cases: { kind: string; op: string; status: number; version: number; headers: Record<string, string> }[] = [
      { kind: 'without expectedVersion', op: 'UpdateItem', status: 201, version: 1, headers: {} },
      { kind: 'with If-Match "1"', op: 'PutItem', status: 200, version: 2, headers: { 'If-Match': '"1"' } },
    ];
    for (const c of cases) {
      it(`PUT ${c.kind}: the first attempt applied with its reply lost, every retry refused → read back before the handler sends it again: ${c.status} version ${c.version} (not 409 "was not applied"), sent no more`, async () => {
        const id = `rwc-lost-${c.op}`;
        if (c.version === 2) await putItem(EU, tables.items, { id, value: 'base', version: 1, updatedAt: '2026-01-01T00:00:00.000Z', updatedRegion: EU, writeId: 'w1' });
        await through();
        const from = proxy.log.length;
        proxy.plan(c.op, ['drop', ...conflicts(100)]);
        const { result: res, lines } = await capturingErrors(() => invoke(itemsEvent('PUT', id, { body: { value: 'mine' }, headers: c.headers }), 15_000));
        assert.deepEqual(proxy.log.slice(from), [`${c.op}~`, `${c.op}!`, `${c.op}!`, 'GetItem'], 'three SDK attempts (the first applied), then the read-back instead of another write');
        assert.equal(res.status, c.status, JSON.stringify(res.body));
        assert.deepEqual([res.body.value, res.body.version], ['mine', c.version]);
        assert.equal(lines.length, 0, lines.join('\n'));
        assert.deepEqual(((i) => [i?.value, i?.version])(await getItem(EU, tables.items, id)), ['mine', c.version]);
      });
    }

    it('PUT refused on every attempt of every try: read back before each of the handler\'s retries and after the last → 409 WriteConflict, outcome notApplied, writeId and Idempotency-Key', async function () {
      this.timeout(5 * 15_000);
      const id = 'rwc-never';
      await through();
      const from = proxy.log.length;
      proxy.plan('UpdateItem', conflicts(1000));
      const { result: res, lines } = await capturingErrors(() => invoke(itemsEvent('PUT', id, { body: { value: 'mine' } }), 15_000));
      assert.equal(lines.length, 1, lines.join('\n'));
      const tries = JSON.parse(lines[0]).tries as number;
      assert.equal(tries, 1 + CONFLICT_RETRIES, 'every retry fitted in the budget');
      const round = ['UpdateItem!', 'UpdateItem!', 'UpdateItem!', 'GetItem'];
      assert.deepEqual(proxy.log.slice(from), Array.from({ length: tries }, () => round).flat(), 'each try\'s three SDK attempts, then a read-back');
      assert.equal(res.status, 409, JSON.stringify(res.body));
      assert.deepEqual([res.body.errorType, res.body.retryable, res.body.outcome], ['WriteConflict', true, 'notApplied']);
      assert.match(String(res.body.writeId), /^[0-9a-f-]{36}$/);
      assert.equal(res.headers['idempotency-key'], `"${res.body.writeId}"`);
      assert.doesNotMatch(res.body.error, /it is safe to send again/);
      assert.ok(res.body.error.includes(`Read back: there is no such item; nothing of this request is in effect. Resend it with Idempotency-Key: "${res.body.writeId}"`), res.body.error);
      assert.equal(await getItem(EU, tables.items, id), undefined);
    });
  });

  describe('caller identity (updatedBy)', () => {
    it('writes record the authorizer\'s sub (then principalId, then Cognito claims.sub) and answers carry it; null without one', async () => {
      env(EU);
      const viaSub = await invoke(withAuthorizer(itemsEvent('PUT', 'who-1', { body: { value: 'a' } }), { sub: 'alice', principalId: 'ignored' }));
      assert.equal(viaSub.status, 201);
      assert.equal(viaSub.body.updatedBy, 'alice');
      assert.equal((await getItem(EU, tables.items, 'who-1'))?.updatedBy, 'alice');

      const viaPrincipal = await invoke(withAuthorizer(itemsEvent('PUT', 'who-1', { body: { value: 'b' } }), { principalId: 'bob' }));
      assert.equal(viaPrincipal.body.updatedBy, 'bob');
      const viaClaims = await invoke(withAuthorizer(itemsEvent('PUT', 'who-1', { body: { value: 'c' } }), { claims: { sub: 'carol' } }));
      assert.equal(viaClaims.body.updatedBy, 'carol');
      assert.equal((await invoke(itemsEvent('GET', 'who-1'))).body.updatedBy, 'carol');

      const anonymous = await invoke(itemsEvent('PUT', 'who-1', { body: { value: 'd' } }));
      assert.equal(anonymous.status, 200);
      assert.equal(anonymous.body.updatedBy, null);
      assert.equal(Object.keys((await getItem(EU, tables.items, 'who-1')) ?? {}).includes('updatedBy'), false, 'no caller, no attribute');

      const del = await invoke(withAuthorizer(itemsEvent('DELETE', 'who-1'), { sub: 'dave' }));
      assert.equal(del.status, 200);
      assert.equal(del.body.deleted, true);
    });
  });

  it('CONSISTENCY other than eventual/strong answers 500 naming the variable', async () => {
    env(EU, { CONSISTENCY: 'linearizable' });
    const res = await invoke(itemsEvent('GET', 'x'));
    assert.equal(res.status, 500);
    assert.match(res.body.error, /CONSISTENCY is "linearizable": allowed are eventual, strong/);
  });
});
