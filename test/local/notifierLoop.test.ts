/**
 * Notifier loop (local/notifierLoop.ts): the event source mapping's behaviour on real DynamoDB Local streams —
 * batch size, retry from the lowest batchItemFailure (with and without bisect), function errors retried, bisected
 * and finally discarded after maximumRetryAttempts — with a fake `invoke` that records every batch; then once with
 * the real notifier handler (handlers/notifier.ts) publishing to the fake AppSync, each record published once.
 */
import assert from 'node:assert/strict';
import type { DynamoDBRecord } from 'aws-lambda';
import { STREAM_MAPPING } from '../../components/streamMapping';
import { handler } from '../../handlers/notifier';
import { readStreamRecords } from '../../local/dynamodbStreams';
import { type NotifierLoop, type NotifierMapping, startNotifierLoop } from '../../local/notifierLoop';
import { createTable, dynamoEndpoint, uniqueTableName } from '../support/dynamodb';
import { FakeAppSync } from '../support/fakeAppSync';
import { del, item, put, putBatch, waitFor } from './support';

const REGION = 'eu-west-1';
const ids = (rs: DynamoDBRecord[]): string[] => rs.map((r) => r.dynamodb!.Keys!.id.S!);
const small = (over: Partial<NotifierMapping>): NotifierMapping => ({ ...STREAM_MAPPING, ...over });

describe('local notifier loop (event source mapping semantics)', function () {
  this.timeout(60_000);
  const loops: NotifierLoop[] = [];
  const logs: string[] = [];
  afterEach(async () => {
    while (loops.length) await loops.pop()!.stop();
    logs.length = 0;
  });

  async function tableWith(prefix: string, n: number): Promise<string> {
    const table = uniqueTableName(prefix);
    await createTable(REGION, table);
    for (let i = 0; i < n; i += 1) await put(REGION, table, item(`${prefix}-${String(i).padStart(3, '0')}`, 'v', '2026-11-30T10:00:00.000Z', REGION));
    return table;
  }
  async function loop(table: string, invoke: (e: { Records: DynamoDBRecord[] }) => Promise<unknown>, mapping?: NotifierMapping): Promise<NotifierLoop> {
    const l = await startNotifierLoop({ endpoint: dynamoEndpoint(), region: REGION, table, invoke, mapping, intervalMs: 10, log: (line) => logs.push(line) });
    loops.push(l);
    return l;
  }

  it('invokes with batches of at most mapping.batchSize (100), in stream order, each record once', async () => {
    const table = uniqueTableName('nb');
    await createTable(REGION, table);
    // 230 records in 10 BatchWriteItem calls (25 items each, DynamoDB's limit) instead of 230 PutItem round trips;
    // the order to expect is the stream's own, read back from DynamoDB Local
    const all = Array.from({ length: 230 }, (_, i) => item(`nb-${String(i).padStart(3, '0')}`, 'v', '2026-11-30T10:00:00.000Z', REGION));
    for (let i = 0; i < all.length; i += 25) await putBatch(REGION, table, all.slice(i, i + 25));
    const streamOrder = ids(await readStreamRecords(dynamoEndpoint(), REGION, table));
    assert.deepEqual([...streamOrder].sort(), all.map((x) => x.id), 'every record is on the stream once');
    const batches: string[][] = [];
    const l = await loop(table, async (e) => {
      batches.push(ids(e.Records));
      return { batchItemFailures: [] };
    });
    await waitFor('230 records', () => batches.flat().length >= 230);
    await l.poller.settled();
    assert.ok(batches.every((b) => b.length <= 100), `batch sizes ${batches.map((b) => b.length)}`);
    assert.deepEqual(batches.map((b) => b.length), [100, 100, 30]);
    assert.deepEqual(batches.flat(), streamOrder);
    assert.deepEqual(l.stats(), { invocations: 3, records: 230, failedRecords: 0, discarded: 0 });
  });

  // Lambda checkpoints before the LOWEST reported sequence number, whatever order the response lists them in
  // (https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html)
  const reports: Array<[string, number[]]> = [
    ['in stream order', [1, 3]],
    ['in reverse order', [3, 1]],
    ['with duplicates, the lowest neither first nor last', [3, 1, 3, 1, 3]],
  ];
  for (const [how, failed] of reports) {
    for (const bisect of [false, true]) {
      it(`retries from the lowest batchItemFailure, reported ${how} ${JSON.stringify(failed)}: ${bisect ? 'only the batch remainder (bisect on)' : 'the whole rest of the stream (bisect off)'}`, async () => {
        const p = `pf${bisect ? 'b' : ''}${failed.join('')}`;
        const table = await tableWith(p, 8);
        const batches: string[][] = [];
        const l = await loop(
          table,
          async (e) => {
            batches.push(ids(e.Records));
            if (batches.length > 1) return { batchItemFailures: [] };
            return { batchItemFailures: failed.map((i) => ({ itemIdentifier: e.Records[i].dynamodb!.SequenceNumber })) };
          },
          small({ batchSize: 5, bisectBatchOnFunctionError: bisect, maximumRetryAttempts: 3 }),
        );
        await waitFor('all 8 through', () => new Set(batches.flat()).size === 8 && batches.length >= 3);
        await l.poller.settled();
        const r = (i: number) => `${p}-00${i}`;
        assert.deepEqual(
          batches,
          bisect
            ? [[0, 1, 2, 3, 4].map(r), [1, 2, 3, 4].map(r), [5, 6, 7].map(r)]
            : [[0, 1, 2, 3, 4].map(r), [1, 2, 3, 4, 5].map(r), [6, 7].map(r)],
          'the retried batch starts at record 1, the lowest reported',
        );
        assert.equal(l.stats().failedRecords, 4, 'records 1..4 of the first batch failed once');
        assert.equal(l.stats().discarded, 0);
      });
    }
  }

  it('treats an empty itemIdentifier, or one not in the batch, as a failure of the whole batch', async () => {
    const table = await tableWith('pe', 3);
    const batches: string[][] = [];
    const answers: unknown[] = [{ batchItemFailures: [{ itemIdentifier: '' }] }, { batchItemFailures: [{ itemIdentifier: '999999999999' }] }, null];
    const l = await loop(table, async (e) => (batches.push(ids(e.Records)), answers[batches.length - 1]), small({ bisectBatchOnFunctionError: false }));
    await waitFor('3 invocations', () => batches.length >= 3);
    await l.poller.settled();
    assert.deepEqual(batches, [['pe-000', 'pe-001', 'pe-002'], ['pe-000', 'pe-001', 'pe-002'], ['pe-000', 'pe-001', 'pe-002']]);
    assert.deepEqual(l.stats(), { invocations: 3, records: 9, failedRecords: 6, discarded: 0 });
  });

  it('retries a batch that threw, then discards it after maximumRetryAttempts (one log line) and moves on', async () => {
    const table = await tableWith('te', 4);
    const batches: string[][] = [];
    const l = await loop(
      table,
      async (e) => {
        batches.push(ids(e.Records));
        if (ids(e.Records).includes('te-001')) throw new Error('poison te-001');
        return {};
      },
      small({ batchSize: 4, bisectBatchOnFunctionError: false, maximumRetryAttempts: 2 }),
    );
    await waitFor('the discard', () => l.stats().discarded > 0);
    await put(REGION, table, item('te-004', 'v', '2026-11-30T10:00:00.000Z', REGION));
    await waitFor('te-004', () => batches.flat().includes('te-004'));
    await l.poller.settled();
    const all = ['te-000', 'te-001', 'te-002', 'te-003'];
    assert.deepEqual(batches, [all, all, all, ['te-004']], '1 attempt + 2 retries, then the stream moves on');
    assert.deepEqual(l.stats(), { invocations: 4, records: 13, failedRecords: 12, discarded: 4 });
    assert.equal(logs.filter((x) => x.includes('discarded')).length, 1);
    assert.match(logs.find((x) => x.includes('discarded'))!, /discarded 4 records \(sequence numbers \d+\.\.\d+, eventSourceARN arn:aws:dynamodb:eu-west-1:.*function error: poison te-001; 2 retries spent/);
  });

  it('with bisectBatchOnFunctionError, splits a failing batch until only the poison record is discarded', async () => {
    const table = await tableWith('bi', 4);
    const batches: string[][] = [];
    const l = await loop(
      table,
      async (e) => {
        batches.push(ids(e.Records));
        if (ids(e.Records).includes('bi-001')) throw new Error('poison bi-001');
        return {};
      },
      small({ batchSize: 4, bisectBatchOnFunctionError: true, maximumRetryAttempts: 2 }),
    );
    await waitFor('bi-003 through', () => batches.some((b) => b.includes('bi-003') && !b.includes('bi-001')));
    await l.poller.settled();
    assert.deepEqual(batches, [['bi-000', 'bi-001', 'bi-002', 'bi-003'], ['bi-000', 'bi-001'], ['bi-000'], ['bi-001', 'bi-002', 'bi-003'], ['bi-001', 'bi-002'], ['bi-001'], ['bi-002', 'bi-003']]);
    assert.equal(l.stats().discarded, 1, 'only the poison record');
  });

  it('with the real notifier handler, publishes each stream record once to the region\'s AppSync', async () => {
    const fake = await FakeAppSync.start(REGION, { accessKeyId: process.env.AWS_ACCESS_KEY_ID!, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY! });
    const saved = { AWS_REGION: process.env.AWS_REGION, APPSYNC_URL: process.env.APPSYNC_URL };
    const quiet = console.log;
    try {
      Object.assign(process.env, { AWS_REGION: REGION, APPSYNC_URL: fake.url });
      console.log = () => undefined;
      const table = uniqueTableName('real');
      await createTable(REGION, table);
      const l = await loop(table, (e) => handler(e as Parameters<typeof handler>[0]));
      await put(REGION, table, item('real-1', 'a', '2026-11-30T10:00:00.000Z', REGION));
      await put(REGION, table, item('real-2', 'b', '2026-11-30T10:00:01.000Z', REGION));
      await put(REGION, table, item('real-1', 'a2', '2026-11-30T10:00:02.000Z', REGION, 2));
      await del(REGION, table, 'real-2');
      await waitFor('4 publishes', () => fake.publishes.length >= 4);
      // settled: every record handed over and its invocation (which awaits its publishes) returned, so a duplicate
      // publish would already be here
      await l.poller.settled();
      assert.deepEqual(
        fake.publishes.map((p) => [p.id, p.kind, p.item?.value, p.publishedRegion]).sort(), // ids publish in parallel
        [
          ['real-1', 'CREATED', 'a', REGION],
          ['real-2', 'CREATED', 'b', REGION],
          ['real-1', 'UPDATED', 'a2', REGION],
          ['real-2', 'DELETED', 'b', REGION],
        ].sort(),
      );
      assert.deepEqual(fake.publishes.filter((p) => p.id === 'real-1').map((p) => p.kind), ['CREATED', 'UPDATED'], 'one id in stream order');
      const seqs = fake.publishes.map((p) => p.sequenceNumber);
      assert.equal(new Set(seqs).size, 4, 'each sequence number published once');
      assert.deepEqual(l.stats(), { invocations: l.stats().invocations, records: 4, failedRecords: 0, discarded: 0 });
      assert.ok(fake.requests.every((r) => r.status === 200 && !r.authError), 'every publish was SigV4-verified and accepted');
    } finally {
      console.log = quiet;
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await fake.stop();
    }
  });

  it('refuses a bad mapping with a clear error', async () => {
    await assert.rejects(
      startNotifierLoop({ endpoint: dynamoEndpoint(), region: REGION, table: 'x-table', invoke: async () => ({}), mapping: small({ batchSize: 0, maximumRetryAttempts: -5 }) }),
      /batchSize must be an integer from 1 to 10000, got 0; maximumRetryAttempts must be an integer from -1 \(forever\) to 10000, got -5/,
    );
    await assert.rejects(
      startNotifierLoop({ endpoint: dynamoEndpoint(), region: REGION, table: 'x-table', invoke: async () => ({}), mapping: small({ maximumRetryAttempts: 10_001, maximumRecordAgeInSeconds: 604_801 }) }),
      /maximumRetryAttempts must be an integer from -1 \(forever\) to 10000, got 10001; maximumRecordAgeInSeconds must be -1 or an integer from 60 to 604800, got 604801/,
    );
  });
});
