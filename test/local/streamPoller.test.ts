/**
 * Stream poller (local/dynamodbStreams.ts) on DynamoDB Local: records exactly in Lambda's DynamoDB-event format,
 * stream order and batch limits, redelivery of records handle() did not finish, LATEST, a closed shard (DynamoDB
 * Local closes its shard when the stream is disabled), and recovery from an expired iterator and from errors,
 * injected by a proxy in front of DynamoDB Local. Pacing: the idle backoff, its cap, and what wakes a sleeping
 * poller (poke(), settled(), caughtUp()), counted in polls, never timed.
 */
import assert from 'node:assert/strict';
import type { DynamoDBRecord } from 'aws-lambda';
import { MAX_IDLE_MS, recordSeenAt, type StreamPoller, startStreamPoller } from '../../local/dynamodbStreams';
import { createTable, dynamoEndpoint, uniqueTableName } from '../support/dynamodb';
import { del, disableStream, FaultyProxy, item, put, waitFor } from './support';

const REGION = 'eu-west-1';

describe('local stream poller', function () {
  this.timeout(30_000);
  const pollers: StreamPoller[] = [];
  const logs: string[] = [];
  const start = async (o: Omit<Parameters<typeof startStreamPoller>[0], 'endpoint' | 'region' | 'log'> & { endpoint?: string; region?: string }): Promise<StreamPoller> => {
    const p = await startStreamPoller({ endpoint: dynamoEndpoint(), region: REGION, log: (l) => logs.push(l), ...o });
    pollers.push(p);
    return p;
  };
  afterEach(async () => {
    while (pollers.length) await pollers.pop()!.stop();
    logs.length = 0;
  });

  it('delivers INSERT, MODIFY and REMOVE exactly in the format of a Lambda DynamoDB stream event', async () => {
    const table = uniqueTableName('poll-format');
    await createTable(REGION, table);
    const got: DynamoDBRecord[] = [];
    const poller = await start({ table, handle: async (rs) => (got.push(...rs), rs.length) });
    const before = Date.now();
    const v1 = item('fmt-1', 'one', '2026-11-30T10:00:00.000Z', REGION);
    const v2 = { ...v1, value: 'two', version: 2, updatedAt: '2026-11-30T10:00:01.000Z' };
    await put(REGION, table, v1);
    await put(REGION, table, v2);
    await del(REGION, table, 'fmt-1');
    await waitFor('3 records', () => got.length >= 3);
    const after = Date.now();

    assert.match(poller.streamArn, new RegExp(`^arn:aws:dynamodb:${REGION}:\\d{12}:table/${table}/stream/\\d{4}-\\d{2}-\\d{2}T[\\d:.]+$`));
    const S = (v: string) => ({ S: v });
    const N = (v: number) => ({ N: String(v) });
    const image = (x: typeof v1) => ({ id: S(x.id as string), value: S(x.value as string), version: N(x.version as number), updatedAt: S(x.updatedAt as string), updatedRegion: S(REGION) });
    const expected = [
      { eventName: 'INSERT', NewImage: image(v1) },
      { eventName: 'MODIFY', NewImage: image(v2), OldImage: image(v1) },
      { eventName: 'REMOVE', OldImage: image(v2) },
    ];
    const seqs = got.map((r) => BigInt(r.dynamodb!.SequenceNumber!));
    assert.ok(seqs[0] < seqs[1] && seqs[1] < seqs[2], 'sequence numbers increase');
    got.forEach((r, i) => {
      assert.deepEqual(Object.keys(r).sort(), ['awsRegion', 'dynamodb', 'eventID', 'eventName', 'eventSource', 'eventSourceARN', 'eventVersion']);
      assert.match(r.eventID!, /^[0-9a-f-]{16,}$/);
      assert.equal(r.eventName, expected[i].eventName);
      assert.equal(r.eventVersion, '1.1');
      assert.equal(r.eventSource, 'aws:dynamodb');
      assert.equal(r.awsRegion, REGION, 'the emulated region, not DynamoDB Local\'s "ddblocal"');
      assert.equal(r.eventSourceARN, poller.streamArn);
      const d = r.dynamodb!;
      const t = d.ApproximateCreationDateTime!;
      assert.ok(Number.isInteger(t), `ApproximateCreationDateTime is whole epoch seconds, got ${t}`);
      assert.ok(t >= Math.floor(before / 1000) && t <= Math.ceil(after / 1000), `ApproximateCreationDateTime ${t} lies within the write's second(s) ${before / 1000}..${after / 1000}`);
      const seen = recordSeenAt(r)!;
      assert.ok(seen >= before && seen <= after + 1, 'high-resolution first-read time is kept');
      assert.deepEqual(d.Keys, { id: S('fmt-1') });
      assert.deepEqual(d.NewImage, expected[i].NewImage);
      assert.deepEqual(d.OldImage, expected[i].OldImage);
      assert.match(d.SequenceNumber!, /^\d+$/);
      assert.ok(Number.isInteger(d.SizeBytes) && d.SizeBytes! > 0);
      assert.equal(d.StreamViewType, 'NEW_AND_OLD_IMAGES');
      const keys = ['ApproximateCreationDateTime', 'Keys', ...(expected[i].NewImage ? ['NewImage'] : []), ...(expected[i].OldImage ? ['OldImage'] : []), 'SequenceNumber', 'SizeBytes', 'StreamViewType'];
      assert.deepEqual(Object.keys(d), keys);
    });
    assert.equal(poller.lastError(), null);
  });

  it('hands records over in stream order, at most batchSize at a time', async () => {
    const table = uniqueTableName('poll-order');
    await createTable(REGION, table);
    for (let i = 0; i < 25; i += 1) await put(REGION, table, item(`order-${String(i).padStart(2, '0')}`, `v${i}`, '2026-11-30T10:00:00.000Z', REGION));
    const batches: string[][] = [];
    const poller = await start({ table, batchSize: 10, handle: async (rs) => (batches.push(rs.map((r) => r.dynamodb!.Keys!.id.S!)), rs.length) });
    await poller.settled();
    assert.deepEqual(batches.map((b) => b.length), [10, 10, 5]);
    assert.deepEqual(batches.flat(), Array.from({ length: 25 }, (_, i) => `order-${String(i).padStart(2, '0')}`));
    assert.equal(poller.backlog(), 0);
  });

  it('hands over again the records handle() did not finish, and those of a handle() that threw', async () => {
    const table = uniqueTableName('poll-redeliver');
    await createTable(REGION, table);
    for (let i = 0; i < 5; i += 1) await put(REGION, table, item(`re-${i}`, 'v', '2026-11-30T10:00:00.000Z', REGION));
    const calls: string[][] = [];
    let n = 0;
    const poller = await start({
      table,
      handle: async (rs) => {
        calls.push(rs.map((r) => r.dynamodb!.Keys!.id.S!));
        n += 1;
        if (n === 1) return 2; // the first two are done
        if (n === 2) throw new Error('boom');
        return rs.length;
      },
    });
    await waitFor('three calls', () => calls.length >= 3);
    await poller.settled();
    assert.deepEqual(calls, [
      ['re-0', 're-1', 're-2', 're-3', 're-4'],
      ['re-2', 're-3', 're-4'],
      ['re-2', 're-3', 're-4'],
    ]);
    assert.match(poller.lastError()!.message, /handle\(\) threw.*boom/);
    assert.equal(poller.stats().handled, 5);
  });

  it('from LATEST skips what was written before it started', async () => {
    const table = uniqueTableName('poll-latest');
    await createTable(REGION, table);
    await put(REGION, table, item('old-1', 'v', '2026-11-30T10:00:00.000Z', REGION));
    const got: string[] = [];
    const poller = await start({ table, from: 'LATEST', handle: async (rs) => (got.push(...rs.map((r) => r.dynamodb!.Keys!.id.S!)), rs.length) });
    await poller.settled();
    await put(REGION, table, item('new-1', 'v', '2026-11-30T10:00:00.000Z', REGION));
    await waitFor('the new record', () => got.length >= 1);
    await poller.settled();
    assert.deepEqual(got, ['new-1']);
  });

  it('reads a closed shard to its end, then finishes it (no child shard: the stream was disabled) without errors', async () => {
    const table = uniqueTableName('poll-closed');
    await createTable(REGION, table);
    const got: string[] = [];
    const poller = await start({ table, handle: async (rs) => (got.push(...rs.map((r) => r.dynamodb!.Keys!.id.S!)), rs.length) });
    await put(REGION, table, item('c-1', 'v', '2026-11-30T10:00:00.000Z', REGION));
    await waitFor('c-1', () => got.length === 1);
    await put(REGION, table, item('c-2', 'v', '2026-11-30T10:00:00.000Z', REGION));
    await disableStream(REGION, table);
    await put(REGION, table, item('c-3', 'v', '2026-11-30T10:00:00.000Z', REGION)); // not on any stream
    await waitFor('the shard finished', () => poller.stats().finishedShards === 1);
    await poller.settled();
    assert.deepEqual(got, ['c-1', 'c-2']);
    assert.deepEqual({ shards: poller.stats().shards, finished: poller.stats().finishedShards }, { shards: 1, finished: 1 });
    assert.equal(poller.lastError(), null);
  });

  it('re-fetches an expired iterator after the last record read, and rides out errors with backoff, remembering the last one', async () => {
    const table = uniqueTableName('poll-faults');
    await createTable(REGION, table);
    const proxy = await FaultyProxy.start();
    try {
      const got: string[] = [];
      const seqs: string[] = [];
      const poller = await start({
        endpoint: proxy.endpoint,
        table,
        handle: async (rs) => (got.push(...rs.map((r) => r.dynamodb!.Keys!.id.S!)), seqs.push(...rs.map((r) => r.dynamodb!.SequenceNumber!)), rs.length),
      });
      await put(REGION, table, item('f-1', 'v', '2026-11-30T10:00:00.000Z', REGION));
      await waitFor('f-1', () => got.length === 1);

      // DynamoDB Local itself may call the first iterator trimmed once the empty shard gets its first record
      // (https://github.com/aws/aws-sdk-java/issues/2923), which the poller also refreshes: count from here
      await poller.settled();
      const before = { refreshes: poller.stats().iteratorRefreshes, calls: proxy.calls.length };
      proxy.fault({ target: 'GetRecords', status: 400, type: 'ExpiredIteratorException', message: 'Iterator expired', times: 1 });
      await waitFor('the expired iterator to be answered', () => proxy.calls.slice(before.calls).some((c) => c.target === 'GetRecords' && c.status === 400));
      await put(REGION, table, item('f-2', 'v', '2026-11-30T10:00:00.000Z', REGION));
      await waitFor('f-2', () => got.length === 2);
      await poller.settled(); // no read in flight: every answer the proxy gave has been seen by the poller
      const since = proxy.calls.slice(before.calls);
      const expired = since.findIndex((c) => c.target === 'GetRecords' && c.status === 400);
      assert.deepEqual(
        since.slice(expired, expired + 3).map((c) => [c.target, c.status]),
        [['GetRecords', 400], ['GetShardIterator', 200], ['GetRecords', 200]],
        'the expired iterator is re-fetched and read at once, without a backoff round',
      );
      const refetch = since[expired + 1];
      assert.equal(refetch.body.ShardIteratorType, 'AFTER_SEQUENCE_NUMBER');
      assert.equal(refetch.body.SequenceNumber, seqs[0], 'from just after the last record read');
      assert.equal(poller.stats().iteratorRefreshes - before.refreshes, since.filter((c) => c.target === 'GetRecords' && c.status === 400).length, 'each stale iterator answered is refreshed once');
      assert.equal(poller.lastError(), null, 'a refreshed iterator is routine, not an error');

      proxy.fault({ target: 'GetRecords', status: 500, type: 'InternalServerError', message: 'DynamoDB Local is unwell', times: 4 });
      await waitFor('the faults to be used up', () => proxy.calls.filter((c) => c.status === 500).length === 4);
      await put(REGION, table, item('f-3', 'v', '2026-11-30T10:00:00.000Z', REGION));
      await waitFor('f-3', () => got.length === 3);
      assert.deepEqual(got, ['f-1', 'f-2', 'f-3'], 'nothing lost, nothing twice');
      assert.match(poller.lastError()!.message, /InternalServerError: DynamoDB Local is unwell/);
      assert.ok(logs.some((l) => l.includes('InternalServerError')), 'the error is logged');
      assert.ok(poller.stats().errors >= 4, 'each failed round is counted');
      // each failed round waits intervalMs (25) × 2^failures before the next: at least 50, 100, 200 ms (lower
      // bounds only: a loaded machine may wait longer, never shorter)
      const t = proxy.calls.filter((c) => c.status === 500).map((c) => c.at);
      const gaps = t.slice(1).map((x, i) => x - t[i]);
      assert.ok(gaps.every((g, i) => g >= 25 * 2 ** (i + 1) - 2), `retries back off, doubling (gaps ${gaps.join(', ')} ms)`);
    } finally {
      while (pollers.length) await pollers.pop()!.stop();
      await proxy.stop();
    }
  });

  // Pacing: counted in polls (GetRecords calls; one shard, so one per round) from settled points, never timed. Each
  // settled() wakes the sleeping poller for one quiet round, so N of them take the pause to intervalMs × 2^N.
  /** Quiet rounds that take a 10 ms poller's pause past an hour (MAX_IDLE_MS): it never polls on its own after them. */
  const TO_THE_CAP = 20;
  /** `p` or, after `ms`, a failure naming `what`: a guard against a hang only. */
  const guard = <T>(p: Promise<T>, what: string, ms = 10_000): Promise<T> =>
    Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still waiting after ${ms} ms for ${what}`)), ms).unref())]);
  const idleSetup = async (prefix: string, o: { idleMaxMs: number; endpoint?: string; intervalMs?: number }) => {
    const table = uniqueTableName(prefix);
    await createTable(REGION, table);
    const got: string[] = [];
    let next: ((id: string) => void) | undefined;
    const poller = await start({
      table,
      intervalMs: 10,
      ...o,
      handle: async (rs) => {
        for (const r of rs) {
          const id = r.dynamodb!.Keys!.id.S!;
          got.push(id);
          next?.(id);
        }
        return rs.length;
      },
    });
    /** Resolves with the id of the next record handed over. */
    const nextRecord = (): Promise<string> => new Promise((resolve) => (next = resolve));
    return { table, got, poller, nextRecord };
  };

  it('backs off while its stream is quiet (the pause doubling per quiet round) and polls every intervalMs again once a record comes', async () => {
    const { table, poller, nextRecord } = await idleSetup('poll-idle', { idleMaxMs: MAX_IDLE_MS });
    for (let i = 0; i < TO_THE_CAP; i += 1) await poller.settled();
    // a poller without backoff on the same stream is the clock: 50 of its polls take at least 50 × 10 ms
    const clock = await start({ table, intervalMs: 10, handle: async (rs) => rs.length });
    const quietPolls = poller.stats().polls;
    const c0 = clock.stats().polls;
    await waitFor('50 polls of the clock poller', () => clock.stats().polls >= c0 + 50);
    assert.equal(poller.stats().polls, quietPolls, 'after 20 quiet rounds it does not poll on its own (its pause is past an hour)');

    const first = nextRecord();
    await put(REGION, table, item('idle-1', 'v', '2026-11-30T10:00:00.000Z', REGION));
    poller.poke();
    assert.equal(await guard(first, 'idle-1'), 'idle-1');
    // the round that read it set the pause back to intervalMs: 10, 20, 40 ms — not an hour
    const p1 = poller.stats().polls;
    await waitFor('3 polls of its own after the record', () => poller.stats().polls >= p1 + 3);
  });

  it('never pauses longer than idleMaxMs', async () => {
    const { poller } = await idleSetup('poll-cap', { idleMaxMs: 40 });
    for (let i = 0; i < TO_THE_CAP; i += 1) await poller.settled();
    const p0 = poller.stats().polls;
    await waitFor('5 polls of its own at the 40 ms cap', () => poller.stats().polls >= p0 + 5);
  });

  it('settled() and caughtUp() wake a sleeping poller (one round each), and one asked mid-round gets the next round after intervalMs', async () => {
    const proxy = await FaultyProxy.start();
    try {
      const { poller } = await idleSetup('poll-waiters', { idleMaxMs: MAX_IDLE_MS, endpoint: proxy.endpoint });
      for (let i = 0; i < TO_THE_CAP; i += 1) await poller.settled();
      const p0 = poller.stats().polls;
      await guard(poller.caughtUp(), 'caughtUp() of a poller pausing for an hour');
      assert.equal(poller.stats().polls, p0 + 1);
      await guard(poller.settled(), 'settled() of a poller pausing for an hour');
      assert.equal(poller.stats().polls, p0 + 2);

      // asked while a round is under way: that round does not count, the next comes intervalMs after it
      const hold = proxy.holdNextReply('GetRecords');
      const first = poller.settled();
      await guard(hold.held, 'the held GetRecords');
      const second = poller.caughtUp();
      hold.release();
      await guard(first, 'the held round');
      assert.equal(poller.stats().polls, p0 + 3);
      await guard(second, 'caughtUp() asked mid-round');
      assert.equal(poller.stats().polls, p0 + 4);
    } finally {
      while (pollers.length) await pollers.pop()!.stop();
      await proxy.stop();
    }
  });

  it('poke(): a sleeping poller polls at once; poked mid-round, it pauses only intervalMs after the round', async () => {
    const proxy = await FaultyProxy.start();
    try {
      const { table, got, poller, nextRecord } = await idleSetup('poll-poke', { idleMaxMs: MAX_IDLE_MS, endpoint: proxy.endpoint });
      for (let i = 0; i < TO_THE_CAP; i += 1) await poller.settled();

      // asleep for an hour: a write and a poke, and the record is handed over
      const first = nextRecord();
      await put(REGION, table, item('poke-1', 'v', '2026-11-30T10:00:00.000Z', REGION));
      poller.poke();
      assert.equal(await guard(first, 'poke-1 after a poke'), 'poke-1');
      for (let i = 0; i < TO_THE_CAP; i += 1) await poller.settled();

      // a round whose GetRecords DynamoDB Local has answered (empty) but the poller has not yet received: the write
      // lands after the read, the poke comes during the round; the round is quiet, yet the next pause is intervalMs
      const hold = proxy.holdNextReply('GetRecords');
      const roundDone = poller.settled();
      await guard(hold.held, 'the held GetRecords');
      const second = nextRecord();
      await put(REGION, table, item('poke-2', 'v', '2026-11-30T10:00:00.000Z', REGION));
      poller.poke();
      hold.release();
      await guard(roundDone, 'the held round to end');
      assert.deepEqual(got, ['poke-1'], 'the held round read before the write');
      assert.equal(await guard(second, 'poke-2, read by the round after the poked one'), 'poke-2');
    } finally {
      while (pollers.length) await pollers.pop()!.stop();
      await proxy.stop();
    }
  });

  it('a burst of pokes on a quiet stream costs a poll now and one intervalMs later, then the pause goes back to where the backoff had it', async () => {
    const { table, poller } = await idleSetup('poll-burst', { idleMaxMs: MAX_IDLE_MS });
    for (let i = 0; i < TO_THE_CAP; i += 1) await poller.settled();
    const p0 = poller.stats().polls;
    for (let i = 0; i < 100; i += 1) poller.poke(); // 100 writes signalled, none written: the rounds find nothing
    await waitFor('the poked round and the one intervalMs after it', () => poller.stats().polls >= p0 + 2);
    const clock = await start({ table, intervalMs: 10, handle: async (rs) => rs.length });
    const c0 = clock.stats().polls;
    await waitFor('50 polls of the clock poller', () => clock.stats().polls >= c0 + 50);
    assert.equal(poller.stats().polls, p0 + 2, 'then no poll of its own: the pause is past an hour again, not reset by the pokes');
  });

  it('pokes while the next poll is due within intervalMs change nothing: polls stay at least intervalMs apart', async () => {
    const proxy = await FaultyProxy.start();
    try {
      const { poller } = await idleSetup('poll-coalesce', { idleMaxMs: MAX_IDLE_MS, endpoint: proxy.endpoint, intervalMs: 50 });
      for (let i = 0; i < TO_THE_CAP; i += 1) await poller.settled();
      const reads = () => proxy.calls.filter((c) => c.target === 'GetRecords').map((c) => c.at);
      const n0 = reads().length;
      poller.poke();
      await guard(poller.settled(), 'the poked round'); // it ended: the pause a poke buys (intervalMs) has begun
      for (let i = 0; i < 100; i += 1) {
        poller.poke(); // a burst of writes during that pause
        await new Promise((r) => setImmediate(r));
      }
      await waitFor('the round after the pause', () => reads().length >= n0 + 2);
      const [poked, next] = reads().slice(n0, n0 + 2);
      // a lower bound only: a loaded machine may wait longer, never shorter (proxy times are whole ms)
      assert.ok(next - poked >= 50 - 2, `the next poll came ${next - poked} ms after the poked one: a poke during the pause (intervalMs, 50) woke it early`);
    } finally {
      while (pollers.length) await pollers.pop()!.stop();
      await proxy.stop();
    }
  });

  it('refuses bad options with a clear error', async () => {
    for (const idleMaxMs of [5, 12.5, MAX_IDLE_MS + 1, Number.NaN]) {
      await assert.rejects(
        startStreamPoller({ endpoint: dynamoEndpoint(), region: REGION, table: 'x-table', intervalMs: 10, idleMaxMs, handle: async () => 0 }),
        { message: `startStreamPoller: idleMaxMs must be an integer from intervalMs (10) to ${MAX_IDLE_MS}, got ${idleMaxMs}` },
      );
    }
    await assert.rejects(startStreamPoller({ endpoint: dynamoEndpoint(), region: REGION, table: 'x-table', intervalMs: 500, handle: async () => 0 }), /intervalMs must be an integer from 1 to 50, got 500/);
    await assert.rejects(startStreamPoller({ endpoint: dynamoEndpoint(), region: REGION, table: 'no-such-table-here', handle: async () => 0 }), /DescribeTable \(eu-west-1\): ResourceNotFoundException/);
  });
});
