/**
 * How many times each stream record is published when the notifier runs under Lambda's documented event source
 * mapping semantics: the notifier's real `handler` (env, DLQ, per-sandbox memory of what it
 * published) driven by the emulator's mapping driver (local/notifierLoop.ts `createMappingDriver`: checkpoint at the
 * lowest reported identifier, bisect, retries up to maximumRetryAttempts, then the range to the onFailure
 * destination), publishing SigV4-signed to local/publishSink.ts (a publishItemChange endpoint that counts; the
 * signature and the GraphQL execution are covered by notifier.test.ts against the fake AppSync).
 *
 * Asserted for one poison record among 100 (unparseable, or refused by AppSync), and for a transient failure:
 * every record is published at most once per delivery attempt, and no record is published again because another
 * record failed. NOTIFIER_DELIVERY_REPORT=1 prints the publishes per record (the numbers in docs/notifier.md).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue, DynamoDBRecord } from 'aws-lambda';
import { STREAM_MAPPING } from '../../components/streamMapping';
import { handler } from '../../handlers/notifier';
import { createMappingDriver, type DiscardedRange } from '../../local/notifierLoop';
import { type PublishSink, startPublishSink } from '../../local/publishSink';
import { type FakeCredentials, graphqlError, SERVER_ERROR } from '../support/fakeAppSync';

const REGION = 'eu-west-1';
const CREDS: FakeCredentials = { accessKeyId: 'AKIDDELIVERYTEST', secretAccessKey: 'delivery-secret', sessionToken: 'delivery-token' };
let streamNo = 0;

/** `n` INSERT records of distinct ids, shaped as Lambda delivers them, on a stream of their own. */
function records(n: number): DynamoDBRecord[] {
  streamNo += 1;
  const arn = `arn:aws:dynamodb:${REGION}:123456789012:table/delivery/stream/2026-11-30T00:00:0${streamNo}.000`;
  const now = Math.floor(Date.now() / 1000);
  return Array.from({ length: n }, (_, i) => {
    const id = `d${streamNo}-${String(i).padStart(3, '0')}`;
    const item = { id, value: `value of ${id}`, version: 1, updatedAt: '2026-11-30T10:00:00.000Z', updatedRegion: REGION };
    return {
      eventID: `e${streamNo}-${i}`,
      eventName: 'INSERT',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: REGION,
      eventSourceARN: arn,
      dynamodb: {
        ApproximateCreationDateTime: now,
        Keys: { id: { S: id } },
        NewImage: marshall(item) as Record<string, AttributeValue>,
        SequenceNumber: String(1000 + i).padStart(21, '0'),
        SizeBytes: 100,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    } as DynamoDBRecord;
  });
}

interface Delivery {
  /** publishes per sequence number, over the whole run */
  perRecord: Map<string, number>;
  /** the largest number of publishes of one record within one invocation */
  maxPerInvocation: number;
  invocations: number;
  discarded: DiscardedRange[];
  deadLettered: Array<{ sequenceNumber?: string; cause: string; record: DynamoDBRecord }>;
}

describe('notifier delivery under Lambda\'s stream semantics (publishes per record)', function () {
  this.timeout(30_000);
  let fake: PublishSink;
  let dir: string;
  const saved: Record<string, string | undefined> = {};
  const consoleSaved = { log: console.log, warn: console.warn, error: console.error };
  const report: string[] = [];

  before(async () => {
    fake = await startPublishSink();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'notifier-delivery-'));
    const env = {
      APPSYNC_URL: fake.url,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: CREDS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey,
      AWS_SESSION_TOKEN: CREDS.sessionToken!,
      NOTIFIER_MAX_ATTEMPTS: '3',
      NOTIFIER_BACKOFF_BASE_MS: '1',
      NOTIFIER_BACKOFF_MAX_MS: '2',
    };
    for (const k of [...Object.keys(env), 'NOTIFIER_DLQ_URL']) saved[k] = process.env[k];
    Object.assign(process.env, env);
  });
  beforeEach(() => {
    fake.reset();
    process.env.NOTIFIER_DLQ_URL = pathToFileURL(path.join(dir, `dlq-${streamNo + 1}.jsonl`)).href;
    const mute = (): void => undefined;
    Object.assign(console, { log: mute, warn: mute, error: mute });
  });
  afterEach(() => Object.assign(console, consoleSaved));
  after(async () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await fake.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    if (process.env.NOTIFIER_DELIVERY_REPORT) consoleSaved.log(report.join('\n'));
  });

  /** Runs the mapping over `batch` until every record is checkpointed or discarded. */
  async function deliver(batch: DynamoDBRecord[]): Promise<Delivery> {
    const discarded: DiscardedRange[] = [];
    let maxPerInvocation = 0;
    const driver = createMappingDriver({
      mapping: { ...STREAM_MAPPING },
      intervalMs: 0,
      label: 'delivery',
      log: () => undefined,
      onDiscard: (r) => discarded.push(r),
      invoke: async (event) => {
        const before = fake.publishes.length;
        const res = await handler(JSON.parse(JSON.stringify(event)), { getRemainingTimeInMillis: () => 60_000, awsRequestId: 'req' });
        const counts = new Map<string, number>();
        for (const p of fake.publishes.slice(before)) counts.set(p.sequenceNumber, (counts.get(p.sequenceNumber) ?? 0) + 1);
        maxPerInvocation = Math.max(maxPerInvocation, ...counts.values(), 0);
        return JSON.parse(JSON.stringify(res));
      },
    });
    let pos = 0;
    for (let guard = 0; pos < batch.length && guard < 500; guard += 1) pos += await driver.handle(batch.slice(pos));
    assert.equal(pos, batch.length, 'the mapping got through the batch');
    const perRecord = new Map<string, number>();
    for (const p of fake.publishes) perRecord.set(p.sequenceNumber, (perRecord.get(p.sequenceNumber) ?? 0) + 1);
    const file = new URL(process.env.NOTIFIER_DLQ_URL!);
    const deadLettered = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l)) : [];
    return { perRecord, maxPerInvocation, invocations: driver.stats.invocations, discarded, deadLettered };
  }

  function summary(name: string, batch: DynamoDBRecord[], d: Delivery): void {
    const total = [...d.perRecord.values()].reduce((a, b) => a + b, 0);
    const max = Math.max(...d.perRecord.values());
    report.push(`${name}: ${batch.length} records, ${d.invocations} invocations, ${total} publishes, at most ${max} per record, ${d.discarded.reduce((a, r) => a + r.batchSize, 0)} records in discarded ranges, ${d.deadLettered.length} dead-lettered`);
  }

  it('one unparseable record among 100: each good record published once, the poison dead-lettered whole, nothing discarded', async () => {
    const batch = records(100);
    const seq = (i: number): string => batch[i].dynamodb!.SequenceNumber!;
    batch[9] = { ...batch[9], dynamodb: { ...batch[9].dynamodb, NewImage: { ...batch[9].dynamodb!.NewImage, version: { S: 'one' } } } };
    const d = await deliver(batch);
    summary('unparseable poison', batch, d);

    assert.equal(d.invocations, 1);
    assert.equal(d.perRecord.size, 99);
    assert.ok(batch.every((_, i) => i === 9 || d.perRecord.get(seq(i)) === 1), 'every good record exactly once');
    assert.equal(d.perRecord.get(seq(9)), undefined);
    assert.deepEqual(d.discarded, []);
    assert.deepEqual(d.deadLettered.map((m) => [m.sequenceNumber, m.cause]), [[seq(9), 'invalid']]);
    assert.deepEqual(d.deadLettered[0].record, batch[9]);
  });

  it('one record AppSync refuses (a validation error) among 100: one attempt for it, everything else once', async () => {
    const batch = records(100);
    const poisonId = batch[9].dynamodb!.Keys!.id.S!;
    fake.script({ answer: graphqlError('ValidationError', 'Validation error of type WrongType: argument input.item.value'), match: (i) => i.id === poisonId });
    const d = await deliver(batch);
    summary('refused poison', batch, d);

    assert.equal(d.invocations, 1);
    assert.equal(fake.requests.filter((i) => i.id === poisonId).length, 1, 'a permanent refusal is not retried');
    assert.equal(d.perRecord.size, 99);
    assert.ok([...d.perRecord.values()].every((n) => n === 1));
    assert.deepEqual(d.deadLettered.map((m) => [m.sequenceNumber, m.cause]), [[batch[9].dynamodb!.SequenceNumber, 'publish']]);
    assert.deepEqual(d.discarded, []);
  });

  it('poison records behind a transient failure: Lambda replays them with every retry, yet each is dead-lettered once', async () => {
    const batch = records(100);
    const seq = (i: number): string => batch[i].dynamodb!.SequenceNumber!;
    const flakyId = batch[9].dynamodb!.Keys!.id.S!;
    const refusedId = batch[30].dynamodb!.Keys!.id.S!;
    batch[20] = { ...batch[20], dynamodb: { ...batch[20].dynamodb, NewImage: { ...batch[20].dynamodb!.NewImage, version: { S: 'one' } } } };
    // two invocations' 3 attempts each: Lambda retries from record 9 twice, replaying the two poison records behind it
    fake.script({ answer: SERVER_ERROR, times: 6, match: (i) => i.id === flakyId });
    fake.script({ answer: graphqlError('ValidationError', 'Validation error of type WrongType: argument input.item.value'), match: (i) => i.id === refusedId });
    const d = await deliver(batch);
    summary('poison behind a transient failure', batch, d);

    assert.equal(d.invocations, 3, 'reported twice, then published');
    assert.deepEqual(d.deadLettered.map((m) => [m.sequenceNumber, m.cause]), [[seq(20), 'invalid'], [seq(30), 'publish']], 'one DLQ entry per poison record');
    assert.equal(fake.requests.filter((i) => i.id === refusedId).length, 1, 'the refused record is sent once, not once per retry');
    assert.equal(d.perRecord.size, 98);
    assert.ok([...d.perRecord.values()].every((n) => n === 1), 'each good record published once in all');
    assert.deepEqual(d.discarded, []);
  });

  it('a transient failure: the failing record is retried by Lambda, the 90 behind it are not published again', async () => {
    const batch = records(100);
    const flakyId = batch[9].dynamodb!.Keys!.id.S!;
    fake.script({ answer: SERVER_ERROR, times: 3, match: (i) => i.id === flakyId }); // one invocation's 3 attempts
    const d = await deliver(batch);
    summary('transient failure', batch, d);

    assert.equal(d.invocations, 2, 'the first invocation reports it, Lambda retries from it');
    assert.equal(d.maxPerInvocation, 1, 'at most once per delivery attempt');
    assert.equal(d.perRecord.size, 100);
    assert.ok([...d.perRecord.values()].every((n) => n === 1), 'each record published once in all');
    assert.deepEqual(d.deadLettered, []);
    assert.deepEqual(d.discarded, []);
  });
});
