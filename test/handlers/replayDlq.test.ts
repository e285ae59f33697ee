/**
 * `npm run replay-dlq` (scripts/replay-dlq.ts): DLQ messages of both kinds — Lambda's on-failure ranges
 * (DDBStreamBatchInfo) re-read from a real stream on DynamoDB Local with @aws-sdk/client-dynamodb-streams, and
 * the notifier's own dead-lettered records — republished through the notifier's core to a publishItemChange
 * endpoint; replayed messages deleted, expired or still-failing ones kept with the reason; the CLI's arguments.
 */
import assert from 'node:assert/strict';
import type { DynamoDBRecord } from 'aws-lambda';
import { deadLetterBody } from '../../handlers/lib/deadLetter';
import { Publisher } from '../../handlers/lib/publish';
import { readStreamRecords } from '../../local/dynamodbStreams';
import { type PublishSink, startPublishSink } from '../../local/publishSink';
import { LOCAL_CREDENTIALS } from '../../local/tables';
import { main, type QueueMessage, replay, sdkStreamReader } from '../../scripts/replay-dlq';
import { createTable, dynamoEndpoint, uniqueTableName } from '../support/dynamodb';
import { SERVER_ERROR } from '../support/fakeAppSync';
import { item, put } from '../local/support';

const REGION = 'eu-west-1';

describe('npm run replay-dlq', function () {
  this.timeout(30_000);
  let sink: PublishSink;
  before(async () => {
    sink = await startPublishSink();
  });
  after(() => sink.stop());

  it('republishes discarded ranges (re-read from the stream) and dead-lettered records; deletes those, keeps the expired and the failing', async () => {
    const table = uniqueTableName('replay');
    await createTable(REGION, table);
    for (let i = 1; i <= 6; i += 1) await put(REGION, table, item(`r-${i}`, `v${i}`, '2026-11-30T10:00:00.000Z', REGION));
    const recs = await readStreamRecords(dynamoEndpoint(), REGION, table);
    assert.equal(recs.length, 6);
    const seq = (i: number): string => recs[i].dynamodb!.SequenceNumber!;
    const arn = recs[0].eventSourceARN!;
    const range = (a: number, b: number, arrived: Date): string =>
      JSON.stringify({
        requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 6 },
        version: '1.0',
        DDBStreamBatchInfo: { startSequenceNumber: seq(a), endSequenceNumber: seq(b), approximateArrivalOfFirstRecord: arrived.toISOString(), batchSize: b - a + 1, streamArn: arn },
      });
    const dead = (r: DynamoDBRecord): string => deadLetterBody({ region: REGION, cause: 'publish', reason: 'HTTP 400', errorName: 'BadRequest', record: r });
    const messages: QueueMessage[] = [
      { id: 'range-1-3', body: range(1, 3, new Date()) },
      { id: 'dead-4', body: dead(recs[4]) },
      { id: 'expired', body: range(0, 0, new Date(Date.now() - 25 * 3600_000)) },
      { id: 'failing-5', body: range(5, 5, new Date()) },
      { id: 'junk', body: 'not json' },
    ];
    sink.script({ answer: SERVER_ERROR, match: (i) => i.id === 'r-6' });
    const removed: string[] = [];
    const publisher = new Publisher({ url: sink.url, region: REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
    const reader = await sdkStreamReader(REGION, { endpoint: dynamoEndpoint(), credentials: LOCAL_CREDENTIALS });

    const results = await replay(messages, { region: REGION, reader, publish: (i) => publisher.publish(i), remove: async (m) => void removed.push(m.id) });

    assert.deepEqual(removed, ['range-1-3', 'dead-4']);
    assert.deepEqual(sink.publishes.map((p) => p.sequenceNumber), [seq(1), seq(2), seq(3), seq(4)], 'exactly the records of the replayed messages, in order');
    assert.deepEqual(results.map((r) => [r.id, r.action, r.records]), [['range-1-3', 'deleted', 3], ['dead-4', 'deleted', 1], ['expired', 'kept', 0], ['failing-5', 'kept', 1], ['junk', 'kept', 0]]);
    assert.match(results[2].why!, /expired: .*past the stream's 24 h retention/);
    assert.match(results[3].why!, /1 record\(s\) failed again: .*HTTP 500/);

    // a dry run reads and counts, and neither publishes nor deletes
    sink.reset();
    removed.length = 0;
    const dry = await replay(messages.slice(0, 1), { region: REGION, reader, publish: (i) => publisher.publish(i), remove: async (m) => void removed.push(m.id), dryRun: true });
    assert.deepEqual(dry.map((r) => [r.action, r.records]), [['would publish', 3]]);
    assert.deepEqual([sink.requests.length, removed.length], [0, 0]);
  });

  it('one record dead-lettered twice (by two sandboxes) is published once; its range is not published again; every copy is deleted', async () => {
    const table = uniqueTableName('replay-dup');
    await createTable(REGION, table);
    for (let i = 1; i <= 3; i += 1) await put(REGION, table, item(`dup-${i}`, `v${i}`, '2026-11-30T10:00:00.000Z', REGION));
    const recs = await readStreamRecords(dynamoEndpoint(), REGION, table);
    const seq = (i: number): string => recs[i].dynamodb!.SequenceNumber!;
    const dead = (r: DynamoDBRecord, at: string): string =>
      deadLetterBody({ region: REGION, cause: 'publish', reason: 'HTTP 400', errorName: 'BadRequest', record: r }, new Date(at));
    const messages: QueueMessage[] = [
      { id: 'dead-1-sandbox-a', body: dead(recs[1], '2026-11-30T10:00:01.000Z') },
      { id: 'dead-1-sandbox-b', body: dead(recs[1], '2026-11-30T10:00:07.000Z') },
      {
        id: 'range-0-2',
        body: JSON.stringify({
          requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 6 },
          version: '1.0',
          DDBStreamBatchInfo: { startSequenceNumber: seq(0), endSequenceNumber: seq(2), approximateArrivalOfFirstRecord: new Date().toISOString(), batchSize: 3, streamArn: recs[0].eventSourceARN },
        }),
      },
    ];
    sink.reset();
    const removed: string[] = [];
    const publisher = new Publisher({ url: sink.url, region: REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
    const reader = await sdkStreamReader(REGION, { endpoint: dynamoEndpoint(), credentials: LOCAL_CREDENTIALS });

    const results = await replay(messages, { region: REGION, reader, publish: (i) => publisher.publish(i), remove: async (m) => void removed.push(m.id) });

    assert.deepEqual(sink.publishes.map((p) => p.sequenceNumber), [seq(1), seq(0), seq(2)], 'each record once');
    assert.deepEqual(removed, ['dead-1-sandbox-a', 'dead-1-sandbox-b', 'range-0-2']);
    assert.deepEqual(results.map((r) => [r.id, r.action, r.records, r.published]), [
      ['dead-1-sandbox-a', 'deleted', 1, 1],
      ['dead-1-sandbox-b', 'deleted', 1, 0],
      ['range-0-2', 'deleted', 3, 2],
    ]);
    assert.match(results[1].why!, /1 record\(s\) already published by this replay/);
  });

  it('arguments: --help, a missing region, --stack with --local, a bad --max', async () => {
    const out: string[] = [];
    const err: string[] = [];
    assert.equal(await main(['--help'], (l) => out.push(l), (l) => err.push(l)), 0);
    assert.match(out.join('\n'), /^usage: npm run replay-dlq/);
    assert.equal(await main([], () => undefined, (l) => err.push(l)), 2);
    assert.match(err.pop()!, /^--region is required/);
    assert.equal(await main(['--region', REGION, '--local', '--stack', 'dev'], () => undefined, (l) => err.push(l)), 2);
    assert.match(err.pop()!, /--stack and --local exclude each other/);
    assert.equal(await main(['--region', REGION, '--max', '0'], () => undefined, (l) => err.push(l)), 2);
    assert.match(err.pop()!, /--max must be an integer ≥ 1, got "0"/);
  });
});
