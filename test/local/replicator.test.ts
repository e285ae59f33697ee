/**
 * Replicator (local/replicator.ts) across three emulated regions on one DynamoDB Local: writes and deletes reach
 * every other region unchanged (no extra attribute), nothing echoes back, concurrent writes converge to the
 * last writer (updatedAt, then region) everywhere, a delete beats older writes that arrive after it, lag per pair
 * is honoured, pause queues and resume converges, stats() counts what happened, and with an idle backoff a poke
 * and the replicator's own writes wake its pollers. Plus the realistic-lag table.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { MAX_IDLE_MS } from '../../local/dynamodbStreams';
import { NEARBY_RTT_MS, realisticLagMs, REPLICATION_BASE_MS, roundTripMs } from '../../local/latency';
import { type Replicator, type ReplicatorOptions, startReplicator } from '../../local/replicator';
import { createTable, dynamoEndpoint, uniqueTableName } from '../support/dynamodb';
import { del, get, item, put, waitFor } from './support';

const EU = 'eu-west-1';
const US = 'us-east-1';
const AP = 'ap-southeast-2';
const REGIONS = [EU, US, AP];

describe('local replicator (global table stand-in)', function () {
  this.timeout(60_000);
  const running: Replicator[] = [];
  afterEach(async () => {
    while (running.length) await running.pop()!.stop();
  });

  async function setup(prefix: string, o: Partial<ReplicatorOptions> = {}): Promise<{ items: string; config: string; rep: Replicator }> {
    const items = uniqueTableName(`${prefix}-items`);
    const config = uniqueTableName(`${prefix}-app-config`);
    for (const r of REGIONS) for (const t of [items, config]) await createTable(r, t);
    const rep = await startReplicator({ endpoint: dynamoEndpoint(), regions: REGIONS, tables: [items, config], log: () => undefined, ...o });
    running.push(rep);
    return { items, config, rep };
  }
  const everywhere = async (table: string, id: string) => Promise.all(REGIONS.map((r) => get(r, table, id)));
  const pair = (rep: Replicator, from: string, to: string) => rep.stats().find((s) => s.from === from && s.to === to)!;

  it('applies writes and deletes of one region to the others, identical and without extra attributes, and never echoes', async () => {
    const { items, config, rep } = await setup('rep-basic');
    const a1 = item('x-1', 'one', '2026-11-30T10:00:00.000Z', EU);
    const a2 = { ...a1, value: 'two', version: 2, updatedAt: '2026-11-30T10:00:01.000Z' };
    const flag = { id: 'drain#us-east-1', drained: true, reason: 'drill' }; // app-config item without updatedAt
    await put(EU, items, a1);
    await put(EU, items, a2);
    await put(EU, items, item('x-2', 'gone soon', '2026-11-30T10:00:00.000Z', EU));
    await put(EU, config, flag);
    await rep.idle();
    assert.deepEqual(await everywhere(items, 'x-1'), [a2, a2, a2]);
    assert.deepEqual(await everywhere(config, 'drain#us-east-1'), [flag, flag, flag]);

    await del(EU, items, 'x-2');
    await rep.idle();
    assert.deepEqual(await everywhere(items, 'x-2'), [null, null, null]);

    // idle() reads every stream up to date after the last write landed: each echo has been read by then
    await rep.idle();
    // 5 source writes in eu-west-1 (4 puts + 1 delete; x-2's put counted in the 4), each applied in 2 regions,
    // each application seen once on its destination's stream and recognised as an echo.
    assert.deepEqual(rep.totals(), { sourceRecords: 5, echoesSkipped: 10 });
    for (const to of [US, AP]) {
      const s = pair(rep, EU, to);
      assert.deepEqual([s.applied, s.superseded, s.pending, s.paused, s.configuredLagMs, s.lastError], [5, 0, 0, false, 0, null]);
      assert.ok(s.lastLagMs !== null && s.lastLagMs >= 0 && s.maxLagMs! >= s.lastLagMs);
    }
    for (const from of [US, AP]) for (const to of REGIONS.filter((r) => r !== from)) assert.equal(pair(rep, from, to).applied, 0, `${from} → ${to} applied nothing`);
  });

  it('converges concurrent writes to the last writer by updatedAt in every region, whichever arrives first', async () => {
    const { items, rep } = await setup('rep-lww');
    rep.pause(); // let all three regions write before anything is replicated
    const fromEU = item('c-1', 'eu', '2026-11-30T10:00:01.000Z', EU);
    const fromUS = item('c-1', 'us wins', '2026-11-30T10:00:02.000Z', US);
    const fromAP = item('c-1', 'ap', '2026-11-30T10:00:00.500Z', AP);
    await put(EU, items, fromEU);
    await put(US, items, fromUS);
    await put(AP, items, fromAP);
    await rep.idle();
    assert.deepEqual(rep.stats().map((s) => s.pending), [1, 1, 1, 1, 1, 1], 'paused: every pair holds its write');
    rep.resume();
    await rep.idle();
    assert.deepEqual(await everywhere(items, 'c-1'), [fromUS, fromUS, fromUS]);
    assert.equal(rep.stats().reduce((n, s) => n + s.superseded, 0), 3, 'the three losing writes were refused where newer items stood');
  });

  it('breaks an updatedAt tie by region (the higher region name wins), the same everywhere', async () => {
    const { items, rep } = await setup('rep-tie');
    rep.pause();
    const at = '2026-11-30T10:00:00.000Z';
    const fromEU = item('t-1', 'eu', at, EU);
    const fromUS = item('t-1', 'us', at, US);
    const fromAP = item('t-1', 'ap', at, AP);
    await put(AP, items, fromAP);
    await put(EU, items, fromEU);
    await put(US, items, fromUS);
    rep.resume();
    await rep.idle();
    assert.deepEqual(await everywhere(items, 't-1'), [fromUS, fromUS, fromUS]);
  });

  it('a delete beats a write with an older updatedAt that arrives after it (no resurrection), and loses to a newer one', async () => {
    const { items, rep } = await setup('rep-del');
    const v1 = item('d-1', 'v1', new Date(Date.now() - 60_000).toISOString(), EU);
    await put(EU, items, v1);
    await put(EU, items, item('d-2', 'v1', new Date(Date.now() - 60_000).toISOString(), EU));
    await rep.idle();

    rep.pause();
    const stale = item('d-1', 'stale write', new Date(Date.now() - 30_000).toISOString(), US, 2); // older than the delete
    await put(US, items, stale);
    await del(EU, items, 'd-1');
    const newer = item('d-2', 'newer write', new Date(Date.now() + 30_000).toISOString(), US, 2); // newer than the delete
    await del(EU, items, 'd-2');
    await put(US, items, newer);
    rep.resume();
    await rep.idle();
    assert.deepEqual(await everywhere(items, 'd-1'), [null, null, null]);
    assert.deepEqual(await everywhere(items, 'd-2'), [newer, newer, newer]);
  });

  it('honours each pair\'s lag: the item appears no sooner than configured, and stats measure it', async () => {
    // AP → EU lags a minute: far longer than this test runs, so that write is still queued when the test looks
    const lag = (from: string, to: string): number => (from === EU && to === AP ? 400 : from === EU && to === US ? 100 : from === AP && to === EU ? 60_000 : 0);
    const { items, rep } = await setup('rep-lag', { lagMs: lag });
    // the replicator's clock (performance.now() differences), not Date.now(): the two may drift apart
    const t0 = performance.now();
    await put(EU, items, item('l-1', 'v', '2026-11-30T10:00:00.000Z', EU));
    await waitFor('us-east-1', () => get(US, items, 'l-1'));
    const tUS = performance.now() - t0;
    await waitFor('ap-southeast-2', () => get(AP, items, 'l-1'));
    const tAP = performance.now() - t0;
    // a write is applied no sooner than its pair's lag after it was first read (which is after t0)
    assert.ok(tUS >= 100, `us-east-1 after ${tUS} ms (lag 100)`);
    assert.ok(tAP >= 400, `ap-southeast-2 after ${tAP} ms (lag 400)`);
    // the stats are set once apply() has returned, which can be after the item is visible: wait for them
    await rep.idle();
    const s = pair(rep, EU, AP);
    assert.equal(s.configuredLagMs, 400);
    assert.ok(s.lastLagMs! >= 400, `measured ${s.lastLagMs} ms`);
    assert.ok(pair(rep, EU, US).lastLagMs! >= 100, `measured ${pair(rep, EU, US).lastLagMs} ms`);
    assert.equal(pair(rep, EU, US).configuredLagMs, 100);
    assert.equal(pair(rep, US, EU).configuredLagMs, 0);

    // each pair has its own lag: from ap-southeast-2 the write reaches us-east-1 (lag 0) while eu-west-1's waits
    await put(AP, items, item('l-2', 'v', '2026-11-30T10:00:00.000Z', AP));
    await waitFor('l-2 in us-east-1', () => get(US, items, 'l-2'));
    assert.deepEqual([pair(rep, AP, EU).configuredLagMs, pair(rep, AP, EU).pending, pair(rep, AP, EU).applied], [60_000, 1, 0]);
    assert.equal(await get(EU, items, 'l-2'), null, 'still queued for a minute');
  });

  it('pause queues a pair\'s writes in order; resume flushes them and the regions converge', async () => {
    const { items, rep } = await setup('rep-pause');
    rep.pause(EU, US);
    for (let i = 1; i <= 3; i += 1) await put(EU, items, item('p-1', `v${i}`, `2026-11-30T10:00:0${i}.000Z`, EU, i));
    await put(EU, items, item('p-2', 'other', '2026-11-30T10:00:00.000Z', EU));
    await rep.idle();
    assert.deepEqual((await everywhere(items, 'p-1')).map((x) => x?.value ?? null), ['v3', null, 'v3']);
    const held = pair(rep, EU, US);
    assert.deepEqual([held.paused, held.pending, held.applied], [true, 4, 0]);
    assert.equal(pair(rep, EU, AP).applied, 4);
    assert.equal(pair(rep, US, EU).paused, false, 'only eu-west-1 → us-east-1 is paused');

    rep.resume(EU, US);
    await rep.idle();
    assert.deepEqual((await everywhere(items, 'p-1')).map((x) => x?.value ?? null), ['v3', 'v3', 'v3']);
    assert.deepEqual(await get(US, items, 'p-2'), await get(EU, items, 'p-2'));
    const after = pair(rep, EU, US);
    assert.deepEqual([after.paused, after.pending, after.applied], [false, 0, 4], 'applied in order: each version was newer than the last');
    assert.ok(after.maxLagMs! >= after.lastLagMs!, 'queued time counts as lag');
  });

  it('with idleMaxMs its quiet streams wait for a poke, and each replicated write wakes its destination\'s pollers and is heard by onWrite', async () => {
    const heard: string[] = [];
    const { items, rep } = await setup('rep-poke', { idleMaxMs: MAX_IDLE_MS, onWrite: (region) => heard.push(region) });
    // each idle() is two quiet rounds of every poller (settled() wakes them): 20 take their pause past an hour
    for (let i = 0; i < 10; i += 1) await rep.idle();
    const a = item('w-1', 'one', '2026-11-30T10:00:00.000Z', EU);
    await put(EU, items, a);
    assert.ok(rep.poke, 'the asynchronous replicator can be poked');
    rep.poke(); // what the emulator does for each write its DynamoDB front accepted
    await waitFor('w-1 in every region', async () => (await everywhere(items, 'w-1')).every((x) => x !== null));
    // nothing but the replicator's own poke after each replicated write makes US and AP read their streams now
    await waitFor('both echoes read', () => rep.totals().echoesSkipped === 2);
    assert.deepEqual(rep.totals(), { sourceRecords: 1, echoesSkipped: 2 });
    assert.deepEqual(heard.sort(), [AP, US].sort());
  });

  it('refuses bad options and unknown regions with clear errors', async () => {
    await assert.rejects(
      startReplicator({ endpoint: dynamoEndpoint(), regions: [EU, US], tables: ['t-x'], intervalMs: 10, idleMaxMs: 19 }),
      { message: `replicator idleMaxMs must be an integer from the stream poll interval (20 ms) to ${MAX_IDLE_MS}, got 19` },
    );
    await assert.rejects(startReplicator({ endpoint: dynamoEndpoint(), regions: [EU], tables: ['t-x'] }), /at least two distinct region names, got \["eu-west-1"\]/);
    await assert.rejects(startReplicator({ endpoint: dynamoEndpoint(), regions: [EU, US], tables: ['t-x'], lagMs: -1 }), /lagMs for every pair → {2}must be a finite number ≥ 0, got -1|lagMs .* must be a finite number ≥ 0, got -1/);
    const { rep } = await setup('rep-bad');
    assert.throws(() => rep.pause('eu-west-9'), /from "eu-west-9" is not one of the regions eu-west-1, us-east-1, ap-southeast-2/);
  });

  it('realistic lag: half the published round trip plus a fixed replication base, per direction', async () => {
    assert.equal(realisticLagMs(EU, AP), Math.round(REPLICATION_BASE_MS + 309.6 / 2));
    assert.equal(realisticLagMs(AP, EU), Math.round(REPLICATION_BASE_MS + 309.6 / 2));
    assert.equal(realisticLagMs(US, EU), Math.round(REPLICATION_BASE_MS + 80.52 / 2));
    assert.equal(roundTripMs('eu-west-2', 'us-east-1'), 80.52, 'eu-west-2 borrows eu-west-1');
    assert.equal(roundTripMs('eu-west-2', EU), NEARBY_RTT_MS);
    assert.ok([EU, US, AP].every((a) => [EU, US, AP].every((b) => a === b || (realisticLagMs(a, b) > 250 && realisticLagMs(a, b) < 1000))), 'within a second');
    assert.throws(() => realisticLagMs('xx-nowhere-1', EU), /no latency figure for region "xx-nowhere-1"/);
    const { rep } = await setup('rep-real', { lagMs: 'realistic' });
    assert.equal(pair(rep, EU, AP).configuredLagMs, realisticLagMs(EU, AP));
  });
});
