/**
 * Notifier: real DynamoDB stream records (written to DynamoDB Local, read back through its Streams API) →
 * SigV4-signed publishItemChange calls to a fake AppSync that verifies every signature and executes the mutation
 * against schema.graphql.
 *
 * @aws-sdk/client-dynamodb-streams is not installed, so the records are read with DynamoDB Local's own Streams
 * JSON API (DynamoDBStreams_20120810.GetRecords) over fetch; the records come back in the very shape Lambda hands
 * to the function (epoch-second ApproximateCreationDateTime included); only eventSourceARN is added, as Lambda does.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { DeleteItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { bundleHandler } from '../../components/bundle';
import { readStreamRecords } from '../../local/dynamodbStreams';
import { processRecords, readSettings } from '../../handlers/notifier';
import { classify, Publisher } from '../../handlers/lib/publish';
import type { DeadLetterEntry } from '../../handlers/lib/deadLetter';
import { NOTIFIER_USER_AGENT } from '../../handlers/lib/signedPost';
import { type ItemChangeInput, toItemChange } from '../../handlers/lib/streamRecord';
import { PUBLISH_ITEM_CHANGE } from '../../schema/publish';
import { createTable, ddbClient, dynamoEndpoint, uniqueTableName } from '../support/dynamodb';
import { BAD_GATEWAY, DROPPED, FakeAppSync, type FakeCredentials, graphqlError, SERVER_ERROR, THROTTLED } from '../support/fakeAppSync';

const REGION = 'eu-west-1';
const CREDS: FakeCredentials = { accessKeyId: 'AKIDNOTIFIERTEST', secretAccessKey: 'notifier-test-secret', sessionToken: 'notifier-session-token' };
const FAST = { baseDelayMs: 1, maxDelayMs: 5, requestTimeoutMs: 2000 };
const quiet = (): void => undefined;

// ── DynamoDB Local: write items, read the stream back ──────────────────────────────────────────────────────

/** Every record of the table's stream so far, in sequence-number order, shaped as in a Lambda event. */
const readStream = (region: string, table: string): Promise<DynamoDBRecord[]> => readStreamRecords(dynamoEndpoint(), region, table);

interface Row {
  id: string;
  value: string;
  version: number;
  updatedAt: string;
  updatedRegion: string;
  updatedBy?: string | null;
}
let clock = Date.parse('2026-03-01T10:00:00.000Z');
function row(id: string, value: string, version: number, updatedRegion = REGION): Row {
  clock += 1000;
  return { id, value, version, updatedAt: new Date(clock).toISOString(), updatedRegion };
}

async function freshTable(): Promise<string> {
  const table = uniqueTableName('notifier');
  await createTable(REGION, table);
  return table;
}
const put = (table: string, r: Row) => ddbClient(REGION).send(new PutItemCommand({ TableName: table, Item: marshall(r) }));
const del = (table: string, id: string) => ddbClient(REGION).send(new DeleteItemCommand({ TableName: table, Key: marshall({ id }) }));
const update = (table: string, r: Row) =>
  ddbClient(REGION).send(
    new UpdateItemCommand({
      TableName: table,
      Key: marshall({ id: r.id }),
      UpdateExpression: `SET #v = :v, version = :n, updatedAt = :t, updatedRegion = :r${r.updatedBy ? ', updatedBy = :b' : ''}`,
      ExpressionAttributeNames: { '#v': 'value' },
      ExpressionAttributeValues: marshall({ ':v': r.value, ':n': r.version, ':t': r.updatedAt, ':r': r.updatedRegion, ...(r.updatedBy ? { ':b': r.updatedBy } : {}) }),
    }),
  );

const seqOf = (r: DynamoDBRecord): string => r.dynamodb!.SequenceNumber!;
const failedIds = (res: DynamoDBBatchResponse): string[] => res.batchItemFailures.map((f) => f.itemIdentifier);

// ── the tests ──────────────────────────────────────────────────────────────────────────────────────────────

describe('notifier (stream → signed publishItemChange)', function () {
  this.timeout(20000);
  let fake: FakeAppSync;

  const publisher = (over: Partial<ConstructorParameters<typeof Publisher>[0]> = {}): Publisher =>
    new Publisher({ url: fake.url, region: REGION, credentials: CREDS, maxAttempts: 4, ...FAST, ...over });
  const run = (records: DynamoDBRecord[], p: Publisher = publisher(), concurrency = 8) =>
    processRecords(records, { region: REGION, publish: (i) => p.publish(i), concurrency, log: quiet });

  before(async () => {
    fake = await FakeAppSync.start(REGION, CREDS);
  });
  after(async () => {
    await fake.stop();
  });
  beforeEach(() => fake.reset());

  it('publishes INSERT, MODIFY and REMOVE exactly once each, as CREATED/UPDATED/DELETED with every field', async () => {
    const table = await freshTable();
    const v1 = row('item-1', 'first', 1);
    // a replicated write: published all the same; written by a caller with an identity (token auth), so it has updatedBy
    const v2 = { ...row('item-1', 'second', 2, 'ap-southeast-2'), updatedBy: 'alice' };
    await put(table, v1);
    await update(table, v2);
    await del(table, 'item-1');
    const records = await readStream(REGION, table);
    assert.deepEqual(records.map((r) => r.eventName), ['INSERT', 'MODIFY', 'REMOVE']);

    const report = await run(records);

    assert.deepEqual(report.response, { batchItemFailures: [] });
    const removedAt = new Date(Number(records[2].dynamodb!.ApproximateCreationDateTime) * 1000).toISOString();
    const expected: ItemChangeInput[] = [
      // no caller identity (API key): updatedBy is null, never absent
      { id: 'item-1', kind: 'CREATED', item: { ...v1, updatedBy: null }, publishedRegion: REGION, sequenceNumber: seqOf(records[0]), changedAt: v1.updatedAt },
      { id: 'item-1', kind: 'UPDATED', item: v2, publishedRegion: REGION, sequenceNumber: seqOf(records[1]), changedAt: v2.updatedAt },
      { id: 'item-1', kind: 'DELETED', item: v2, publishedRegion: REGION, sequenceNumber: seqOf(records[2]), changedAt: removedAt },
    ];
    assert.deepEqual(fake.publishes, expected);
    // Every call was signed, accepted, executed against the schema and sent the exact mutation document.
    assert.deepEqual(fake.requests.map((r) => r.status), [200, 200, 200]);
    // ...through the real publishItemChange resolver, and what onItemChange subscribers would receive is the
    // whole ItemChange, nested item included (AppSync delivers only the mutation's selection).
    assert.deepEqual(
      fake.published.map((e) => ({ field: e.mutationField, to: e.subscriptionFields, data: e.data })),
      expected.map((data) => ({ field: 'publishItemChange', to: ['onItemChange'], data })),
    );
    assert.ok(Math.abs(Date.parse(removedAt) - Date.now()) < 120_000, `REMOVE changedAt ${removedAt} is when the stream saw it`);
  });

  it('sends the PUBLISH_ITEM_CHANGE document, signed for appsync in its region with the session token, keep-alive', async () => {
    const p = publisher();
    const input: ItemChangeInput = {
      id: 'doc-1',
      kind: 'CREATED',
      item: row('doc-1', 'x', 1),
      publishedRegion: REGION,
      sequenceNumber: '100',
      changedAt: '2026-03-01T10:00:00.000Z',
    };
    assert.deepEqual(await p.publish(input), { ok: true, attempts: 1 });
    assert.deepEqual(await p.publish({ ...input, sequenceNumber: '101' }), { ok: true, attempts: 1 });
    const [req] = fake.requests;
    assert.equal(req.query, PUBLISH_ITEM_CHANGE);
    assert.match(String(req.headers.authorization), new RegExp(`^AWS4-HMAC-SHA256 Credential=${CREDS.accessKeyId}/\\d{8}/${REGION}/appsync/aws4_request, SignedHeaders=`));
    assert.equal(req.headers['x-amz-security-token'], CREDS.sessionToken);
    // AWSManagedRulesCommonRuleSet (NoUserAgent_HEADER) blocks requests without a User-Agent; it is sent and the
    // signature still verifies (the fake accepted both calls)
    assert.equal(req.headers['user-agent'], NOTIFIER_USER_AGENT);
    assert.deepEqual(fake.requests.map((r) => r.status), [200, 200]);
    assert.equal(req.headers.connection, 'keep-alive');
    assert.equal(fake.requests[1].remotePort, req.remotePort, 'the second call reused the connection');
    assert.deepEqual(fake.publishes, [input, { ...input, sequenceNumber: '101' }]);
  });

  it('skips a MODIFY whose old and new images are identical', async () => {
    const table = await freshTable();
    await put(table, row('same-1', 'v', 1));
    await update(table, row('same-1', 'w', 2));
    const [insert, modify] = await readStream(REGION, table);
    // DynamoDB itself writes no record for a write that changes nothing; a replayed/echoed one must not publish.
    const identical: DynamoDBRecord = { ...modify, dynamodb: { ...modify.dynamodb, OldImage: modify.dynamodb!.NewImage } };

    const report = await run([insert, identical]);

    assert.deepEqual(report.response.batchItemFailures, []);
    assert.deepEqual(report.skipped, [seqOf(modify)]);
    assert.deepEqual(fake.publishes.map((p) => p.kind), ['CREATED']);
    assert.equal(toItemChange(modify, REGION).status, 'change', 'the real MODIFY (different images) is not skipped');
  });

  describe('the fake AppSync verifies SigV4', () => {
    const input: ItemChangeInput = {
      id: 'auth-1',
      kind: 'CREATED',
      item: { id: 'auth-1', value: 'v', version: 1, updatedAt: '2026-03-01T10:00:00.000Z', updatedRegion: REGION },
      publishedRegion: REGION,
      sequenceNumber: '1',
      changedAt: '2026-03-01T10:00:00.000Z',
    };

    it('rejects an unsigned request with 401', async () => {
      const res = await fetch(fake.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: PUBLISH_ITEM_CHANGE, variables: { input } }),
      });
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as { errors: { errorType: string }[] }).errors[0].errorType, 'UnauthorizedException');
      assert.deepEqual(fake.publishes, []);
    });

    it('rejects a wrong secret, an unknown key, a missing session token and a wrong region with 403, without retrying', async () => {
      const cases: [string, Partial<ConstructorParameters<typeof Publisher>[0]>, string][] = [
        ['wrong secret', { credentials: { ...CREDS, secretAccessKey: 'not-the-secret' } }, 'InvalidSignatureException'],
        ['unknown key', { credentials: { ...CREDS, accessKeyId: 'AKIDSOMEONEELSE' } }, 'UnrecognizedClientException'],
        ['no session token', { credentials: { accessKeyId: CREDS.accessKeyId, secretAccessKey: CREDS.secretAccessKey } }, 'UnrecognizedClientException'],
        ['other region', { region: 'us-east-1' }, 'InvalidSignatureException'],
      ];
      for (const [name, over, errorType] of cases) {
        fake.reset();
        const result = await publisher(over).publish(input);
        assert.equal(result.ok, false, name);
        assert.equal(result.attempts, 1, `${name}: a 403 is not retried`);
        assert.match(result.ok ? '' : result.reason, new RegExp(`HTTP 403: ${errorType}`), name);
        assert.deepEqual(fake.requests.map((r) => r.status), [403], name);
        assert.deepEqual(fake.publishes, [], name);
      }
    });

    it('rejects a body changed after signing', async () => {
      // Sign one body, send another (same length so only the payload hash differs).
      const body = JSON.stringify({ query: PUBLISH_ITEM_CHANGE, variables: { input } });
      const { SignatureV4 } = await import('@smithy/signature-v4');
      const { HttpRequest } = await import('@smithy/protocol-http');
      const { Sha256 } = await import('@aws-crypto/sha256-js');
      const url = new URL(fake.url);
      const signed = await new SignatureV4({ service: 'appsync', region: REGION, credentials: CREDS, sha256: Sha256 }).sign(
        new HttpRequest({ method: 'POST', protocol: 'http:', hostname: url.hostname, port: +url.port, path: url.pathname, headers: { host: url.host, 'content-type': 'application/json' }, body }),
      );
      const accepted = await fetch(fake.url, { method: 'POST', headers: signed.headers, body });
      assert.equal(accepted.status, 200, 'the correctly signed request passes');
      const tampered = await fetch(fake.url, { method: 'POST', headers: signed.headers, body: body.replace('"v"', '"w"') });
      assert.ok([400, 403].includes(tampered.status), `tampered body answered ${tampered.status}`);
      assert.equal(fake.publishes.length, 1);
      // Without the payload-hash header the fake must hash the body itself: the signature no longer matches.
      const withoutHash = Object.fromEntries(Object.entries(signed.headers).filter(([k]) => k !== 'x-amz-content-sha256'));
      const tamperedNoHash = await fetch(fake.url, { method: 'POST', headers: withoutHash, body: body.replace('"v"', '"w"') });
      assert.equal(tamperedNoHash.status, 403);
      assert.equal(fake.publishes.length, 1);
    });

    it('a notifier with bad credentials publishes nothing and reports every record', async () => {
      const table = await freshTable();
      await put(table, row('bad-1', 'a', 1));
      await put(table, row('bad-2', 'b', 1));
      const records = await readStream(REGION, table);
      const report = await run(records, publisher({ credentials: { ...CREDS, secretAccessKey: 'wrong' } }));
      assert.deepEqual(failedIds(report.response), records.map(seqOf));
      assert.deepEqual(fake.publishes, []);
      assert.equal(fake.requests.length, 2, 'one attempt each: 403 is final');
    });
  });

  describe('retries', () => {
    let records: DynamoDBRecord[];
    before(async () => {
      const table = await freshTable();
      await put(table, row('retry-1', 'a', 1));
      records = await readStream(REGION, table);
    });

    it('retries 429 throttling, then succeeds', async () => {
      fake.script({ answer: THROTTLED, times: 2 });
      const report = await run(records);
      assert.deepEqual(report.response.batchItemFailures, []);
      assert.deepEqual(fake.requests.map((r) => r.status), [429, 429, 200]);
      assert.equal(fake.publishes.length, 1);
    });

    it('retries a GraphQL Throttling error in a 200, then succeeds', async () => {
      fake.script({ answer: graphqlError('Throttling'), times: 1 });
      const result = await publisher().publish((toItemChange(records[0], REGION) as { input: ItemChangeInput }).input);
      assert.deepEqual(result, { ok: true, attempts: 2 });
    });

    it('retries 500, 502 and a dropped connection, then succeeds', async () => {
      fake.script({ answer: SERVER_ERROR, times: 1 });
      fake.script({ answer: BAD_GATEWAY, times: 1 });
      fake.script({ answer: DROPPED, times: 1 });
      const report = await run(records);
      assert.deepEqual(report.response.batchItemFailures, []);
      assert.deepEqual(fake.requests.map((r) => r.status), [500, 502, 0, 200]);
      assert.equal(fake.publishes.length, 1);
    });

    it('does not retry a non-retryable GraphQL error (Unauthorized): one attempt, reported', async () => {
      fake.script({ answer: graphqlError('Unauthorized', 'Not Authorized to access publishItemChange on type Mutation') });
      const report = await run(records);
      assert.deepEqual(failedIds(report.response), [seqOf(records[0])]);
      assert.equal(fake.requests.length, 1);
      assert.match(report.failures[0].reason, /Unauthorized/);
    });

    it('backs off with full jitter, exponentially, capped', async () => {
      const sleeps: number[] = [];
      fake.script({ answer: SERVER_ERROR });
      const p = publisher({ maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 300, random: () => 0.5, sleep: async (ms) => void sleeps.push(ms) });
      const result = await p.publish((toItemChange(records[0], REGION) as { input: ItemChangeInput }).input);
      assert.equal(result.ok, false);
      assert.equal(result.attempts, 5);
      assert.deepEqual(sleeps, [50, 100, 150, 150]); // 0.5 × min(300, 100·2^(n-1))
    });

    it('honours Retry-After on a 429, capped at the maximum delay', async () => {
      const sleeps: number[] = [];
      fake.script({ answer: { ...THROTTLED, headers: { 'retry-after': '1' } }, times: 1 });
      fake.script({ answer: { ...THROTTLED, headers: { 'retry-after': '0.05' } }, times: 1 });
      const p = publisher({ baseDelayMs: 10, maxDelayMs: 300, random: () => 0, sleep: async (ms) => void sleeps.push(ms) });
      const result = await p.publish((toItemChange(records[0], REGION) as { input: ItemChangeInput }).input);
      assert.deepEqual(result, { ok: true, attempts: 3 });
      assert.deepEqual(sleeps, [300, 50]);
    });

    it('starts no attempt that could not finish before the deadline', async () => {
      fake.script({ answer: SERVER_ERROR });
      const p = publisher({ maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 1000, requestTimeoutMs: 200, random: () => 1 });
      const input = (toItemChange(records[0], REGION) as { input: ItemChangeInput }).input;
      const result = await p.publish(input, Date.now() + 300);
      assert.equal(result.ok, false);
      assert.equal(result.attempts, 1, 'attempt 1 fits, attempt 2 (after a 200 ms backoff) would not');
      assert.match(result.ok ? '' : result.reason, /no time left in this invocation for attempt 2; last error: HTTP 500/);
      assert.equal(fake.requests.length, 1);
    });

    it('classifies answers', () => {
      const c = (status: number, body: unknown): string => {
        const v = classify({ status, headers: {}, body: typeof body === 'string' ? body : JSON.stringify(body) });
        return v.ok ? 'ok' : v.retryable ? 'retry' : 'fail';
      };
      assert.equal(c(200, { data: { publishItemChange: { id: 'a' } } }), 'ok');
      assert.equal(c(200, { data: { publishItemChange: null }, errors: [{ errorType: 'BadInput', message: 'id is invalid' }] }), 'fail');
      assert.equal(c(200, { data: { publishItemChange: null }, errors: [{ errorType: 'Unauthorized' }] }), 'fail');
      assert.equal(c(200, { data: { publishItemChange: null } }), 'fail');
      assert.equal(c(400, { errors: [{ errorType: 'BadRequestException' }] }), 'fail');
      assert.equal(c(401, { errors: [{ errorType: 'UnauthorizedException' }] }), 'fail');
      assert.equal(c(200, { errors: [{ errorType: 'TooManyRequestsException' }] }), 'retry');
      assert.equal(c(200, { errors: [{ errorType: 'Throttling', message: 'Rate exceeded' }] }), 'retry');
      assert.equal(c(200, '<html>'), 'retry');
      assert.equal(c(429, ''), 'retry');
      assert.equal(c(503, 'x'), 'retry');
    });
  });

  it('persistent 5xx: exactly the failing records are reported (with later records of the same id held back), the rest published', async () => {
    const table = await freshTable();
    await put(table, row('ok-1', 'a', 1));
    await put(table, row('down-1', 'b', 1));
    await put(table, row('ok-2', 'c', 1));
    await update(table, row('down-1', 'b2', 2));
    await put(table, row('down-2', 'd', 1));
    await put(table, row('ok-1', 'a2', 2));
    const records = await readStream(REGION, table);
    assert.equal(records.length, 6);
    fake.script({ answer: SERVER_ERROR, match: (i) => i.id.startsWith('down-') });

    const report = await run(records, publisher({ maxAttempts: 3 }));

    const downSeqs = records.filter((r) => r.dynamodb!.Keys!.id.S!.startsWith('down-')).map(seqOf);
    assert.deepEqual(failedIds(report.response), downSeqs, 'exactly the down-* records, in stream order');
    assert.deepEqual(report.failures.map((f) => f.cause), ['publish', 'held', 'publish']);
    assert.deepEqual(fake.publishes.map((p) => `${p.id}:${p.item?.version}`).sort(), ['ok-1:1', 'ok-1:2', 'ok-2:1']);
    const downAttempts = fake.requests.filter((r) => r.input?.id.startsWith('down-'));
    assert.equal(downAttempts.length, 6, '3 attempts for down-1 v1 and for down-2; down-1 v2 never sent');
    assert.ok(!downAttempts.some((r) => r.input?.item?.version === 2));
  });

  it('a poison record in the middle is dead-lettered whole (not reported) while every other record is published', async () => {
    const table = await freshTable();
    for (let i = 1; i <= 5; i += 1) await put(table, row(`p-${i}`, `v${i}`, 1));
    const records = await readStream(REGION, table);
    const poison: DynamoDBRecord = {
      ...records[2],
      dynamodb: { ...records[2].dynamodb, NewImage: { ...records[2].dynamodb!.NewImage, version: { S: 'one' } } },
    };
    const logged: Record<string, unknown>[] = [];
    const dead: DeadLetterEntry[] = [];
    const p = publisher();
    const report = await processRecords([records[0], records[1], poison, records[3], records[4]], {
      region: REGION,
      publish: (i) => p.publish(i),
      deadLetter: async (e) => void dead.push(e),
      log: (level, msg, fields) => void (level === 'error' && logged.push({ msg, ...fields })),
    });

    assert.deepEqual(report.response.batchItemFailures, [], 'a permanent failure is handled, not reported');
    assert.deepEqual(fake.publishes.map((x) => x.id).sort(), ['p-1', 'p-2', 'p-4', 'p-5']);
    assert.equal(dead.length, 1);
    assert.deepEqual(dead[0].record, poison, 'the whole record goes to the DLQ');
    assert.equal(dead[0].cause, 'invalid');
    assert.equal(logged.length, 1);
    assert.equal(logged[0].sequenceNumber, seqOf(records[2]));
    assert.equal(logged[0].disposition, 'deadLettered');
    assert.match(String(logged[0].reason), /INSERT record of p-3: NewImage has no valid version/);

    // The DLQ write fails: then, and only then, the record is reported (Lambda retries it, DLQ write included).
    fake.reset();
    const again = await processRecords([poison, records[3]], {
      region: REGION,
      publish: (i) => p.publish(i),
      deadLetter: async () => {
        throw Object.assign(new Error('SQS down'), { name: 'ServiceUnavailable' });
      },
      log: quiet,
    });
    assert.deepEqual(failedIds(again.response), [seqOf(records[2])]);
    assert.match(again.failures[0].reason, /the DLQ write failed \(ServiceUnavailable: SQS down\)/);
  });

  it('turns every kind of unparseable record into a typed failure with its reason, never a throw', async () => {
    const table = await freshTable();
    await put(table, row('shape-1', 'a', 1));
    await update(table, row('shape-1', 'b', 2));
    await del(table, 'shape-1');
    const [ins, mod, rem] = await readStream(REGION, table);
    const withDdb = (r: DynamoDBRecord, over: Record<string, unknown>): DynamoDBRecord => ({ ...r, dynamodb: { ...r.dynamodb, ...over } });
    const img = ins.dynamodb!.NewImage!;
    const cases: [DynamoDBRecord, RegExp][] = [
      [{ ...ins, eventName: 'TRUNCATE' as never }, /unknown eventName "TRUNCATE"/],
      [withDdb(ins, { Keys: {} }), /no string key dynamodb\.Keys\.id\.S/],
      [withDdb(ins, { Keys: { id: { S: 'bad id!' } } }), /id "bad id!" is invalid/],
      [withDdb(ins, { NewImage: undefined }), /INSERT record of shape-1 has no NewImage/],
      [withDdb(rem, { OldImage: undefined }), /REMOVE record of shape-1 has no OldImage/],
      [withDdb(mod, { NewImage: { ...img, id: { S: 'other' } } }), /has id "other", not the record key "shape-1"/],
      [withDdb(ins, { NewImage: { ...img, value: { N: '3' } } }), /no string value/],
      [withDdb(ins, { NewImage: { ...img, updatedAt: { S: 'yesterday' } } }), /no valid updatedAt/],
      [withDdb(ins, { NewImage: Object.fromEntries(Object.entries(img).filter(([k]) => k !== 'updatedRegion')) }), /no updatedRegion/],
      [withDdb(ins, { NewImage: { ...img, value: undefined } }), /NewImage cannot be decoded/],
      [withDdb(ins, { NewImage: { ...img, version: { N: '99999999999999999999' } } }), /NewImage (cannot be decoded|has no valid version)/],
      [{ ...ins, dynamodb: undefined }, /no dynamodb section/],
    ];
    for (const [record, reason] of cases) {
      const out = toItemChange(record, REGION);
      assert.equal(out.status, 'invalid', String(reason));
      assert.match(out.status === 'invalid' ? out.reason : '', reason);
    }
    assert.equal(toItemChange(withDdb(ins, { SequenceNumber: undefined }), REGION).status, 'invalid');
    // Without a sequence number the record cannot be reported: it is dead-lettered; only if that fails does the batch fail.
    const noSeq = withDdb(ins, { SequenceNumber: undefined });
    const dead: DeadLetterEntry[] = [];
    const p = publisher();
    const ok = await processRecords([noSeq, mod], { region: REGION, publish: (i) => p.publish(i), deadLetter: async (e) => void dead.push(e), log: quiet });
    assert.deepEqual(ok.response.batchItemFailures, []);
    assert.equal(dead.length, 1);
    await assert.rejects(
      processRecords([noSeq, mod], { region: REGION, publish: (i) => p.publish(i), deadLetter: () => Promise.reject(new Error('no')), log: quiet }),
      /without a sequence number could not be dead-lettered/,
    );
    assert.deepEqual(fake.publishes.map((p) => p.kind), ['UPDATED', 'UPDATED']);
  });

  it('past the invocation deadline, starts nothing more and reports the rest', async () => {
    const table = await freshTable();
    await put(table, row('late-1', 'a', 1));
    await put(table, row('late-2', 'b', 1));
    const records = await readStream(REGION, table);
    const p = publisher();
    const report = await processRecords(records, { region: REGION, publish: (i) => p.publish(i), deadlineAt: Date.now() - 1, log: quiet });
    assert.deepEqual(failedIds(report.response), records.map(seqOf));
    assert.deepEqual(report.failures.map((f) => f.cause), ['deadline', 'deadline']);
    assert.equal(fake.requests.length, 0);
  });

  it('keeps each id in stream order under concurrency, never two calls for one id at once', async () => {
    const table = await freshTable();
    const ids = ['o-a', 'o-b', 'o-c', 'o-d', 'o-e', 'o-f'];
    // Each id's writes back to back, so a notifier that parallelised within an id would have them in flight at once.
    for (const id of ids) {
      for (let v = 1; v <= 5; v += 1) await (v === 1 ? put(table, row(id, `${id}-${v}`, v)) : update(table, row(id, `${id}-${v}`, v)));
    }
    const records = await readStream(REGION, table);
    assert.equal(records.length, 30);
    fake.delay = () => 2 + Math.floor(Math.random() * 12);
    fake.script({ answer: THROTTLED, times: 4 }); // some retries mixed in

    const started = Date.now();
    const report = await run(records, publisher(), 4);

    assert.deepEqual(report.response.batchItemFailures, []);
    assert.equal(fake.publishes.length, 30);
    for (const id of ids) {
      assert.deepEqual(fake.publishes.filter((p) => p.id === id).map((p) => p.item?.version), [1, 2, 3, 4, 5], id);
      const seqs = fake.publishes.filter((p) => p.id === id).map((p) => BigInt(p.sequenceNumber));
      assert.deepEqual(seqs, [...seqs].sort((a, b) => (a < b ? -1 : 1)), `${id} sequence numbers ascending`);
    }
    assert.equal(fake.maxInFlightPerId, 1, 'one id is never published concurrently');
    assert.ok(fake.maxInFlight > 1 && fake.maxInFlight <= 4, `ran ${fake.maxInFlight} at once (limit 4)`);
    assert.ok(Date.now() - started < 5000);
  });

  describe('settings from the environment', () => {
    it('reads APPSYNC_URL, AWS_REGION and the optional knobs, rejecting bad values', () => {
      const s = readSettings({ APPSYNC_URL: 'https://x.appsync-api.eu-west-1.amazonaws.com/graphql', AWS_REGION: 'eu-west-1', NOTIFIER_CONCURRENCY: '3' });
      assert.equal(s.concurrency, 3);
      assert.equal(s.maxAttempts, 5);
      assert.throws(() => readSettings({ AWS_REGION: 'eu-west-1' }), /APPSYNC_URL is not set/);
      assert.throws(() => readSettings({ APPSYNC_URL: 'http://x', AWS_REGION: 'r', NOTIFIER_MAX_ATTEMPTS: '0' }), /NOTIFIER_MAX_ATTEMPTS must be an integer ≥ 1/);
      assert.throws(() => readSettings({ APPSYNC_URL: 'http://x', AWS_REGION: 'r', NOTIFIER_CONCURRENCY: 'many' }), /NOTIFIER_CONCURRENCY/);
    });
  });

  describe('the bundled handler (dist/handlers/notifier/index.js)', () => {
    const saved: Record<string, string | undefined> = {};
    const env: Record<string, string> = {
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: CREDS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey,
      AWS_SESSION_TOKEN: CREDS.sessionToken!,
      NOTIFIER_MAX_ATTEMPTS: '3',
      NOTIFIER_BACKOFF_BASE_MS: '1',
      NOTIFIER_BACKOFF_MAX_MS: '5',
      NOTIFIER_CONCURRENCY: '4',
    };
    let handler: (e: DynamoDBStreamEvent, ctx?: { getRemainingTimeInMillis(): number }) => Promise<DynamoDBBatchResponse>;
    const logs: string[] = [];
    const consoleSaved = { log: console.log, warn: console.warn, error: console.error };

    before(async () => {
      const dir = bundleHandler('notifier');
      const file = path.join(dir, 'index.js');
      // a fresh module (its own clients and publish memo), as a new sandbox has: require, since the ESM loader's
      // cache (import()) ignores require.cache
      delete require.cache[require.resolve(file)];
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      handler = (require(file) as { handler: typeof handler }).handler;
      for (const k of [...Object.keys(env), 'APPSYNC_URL']) saved[k] = process.env[k];
    });
    beforeEach(() => {
      Object.assign(process.env, env, { APPSYNC_URL: fake.url });
      logs.length = 0;
      const capture = (...args: unknown[]): void => void logs.push(args.map(String).join(' '));
      Object.assign(console, { log: capture, warn: capture, error: capture });
    });
    afterEach(() => {
      Object.assign(console, consoleSaved);
    });
    after(() => {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    });

    it('publishes real stream records with default-chain credentials and reports failures', async () => {
      const table = await freshTable();
      await put(table, row('b-1', 'a', 1));
      await put(table, row('b-2', 'b', 1));
      await update(table, row('b-1', 'a2', 2));
      await del(table, 'b-2');
      const records = await readStream(REGION, table);
      fake.script({ answer: THROTTLED, times: 1 });
      fake.script({ answer: SERVER_ERROR, match: (i) => i.id === 'b-2' && i.kind === 'DELETED' });

      const res = await handler({ Records: records });

      assert.deepEqual(failedIds(res), [seqOf(records[3])]);
      assert.deepEqual(fake.publishes.map((p) => `${p.id}:${p.kind}`).sort(), ['b-1:CREATED', 'b-1:UPDATED', 'b-2:CREATED']);
      assert.ok(fake.requests.every((r) => r.authError === undefined), 'every call correctly signed');
      const errorLines = logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.level === 'error');
      assert.deepEqual(errorLines.map((l) => [l.sequenceNumber, l.id, l.kind, l.attempts]), [[seqOf(records[3]), 'b-2', 'DELETED', 3]]);
    });

    it('uses the Lambda context\'s remaining time: too little left → nothing sent, everything reported', async () => {
      const table = await freshTable();
      await put(table, row('t-1', 'a', 1));
      const records = await readStream(REGION, table);
      const res = await handler({ Records: records }, { getRemainingTimeInMillis: () => 3000 }); // < 5 s request timeout + 1 s
      assert.deepEqual(failedIds(res), records.map(seqOf));
      assert.equal(fake.requests.length, 0);
      const plenty = await handler({ Records: records }, { getRemainingTimeInMillis: () => 60_000 });
      assert.deepEqual(plenty.batchItemFailures, []);
      assert.equal(fake.publishes.length, 1);
    });

    it('reads APPSYNC_URL and AWS_REGION per invocation (another region, another endpoint)', async () => {
      const other = await FakeAppSync.start('ap-southeast-2', CREDS);
      try {
        const table = await freshTable();
        await put(table, row('r-1', 'a', 1));
        const records = await readStream(REGION, table);
        Object.assign(process.env, { APPSYNC_URL: other.url, AWS_REGION: 'ap-southeast-2' });
        const res = await handler({ Records: records });
        assert.deepEqual(res.batchItemFailures, []);
        assert.deepEqual(other.publishes.map((p) => p.publishedRegion), ['ap-southeast-2']);
        assert.deepEqual(fake.publishes, []);
      } finally {
        await other.stop();
      }
    });
  });
});
