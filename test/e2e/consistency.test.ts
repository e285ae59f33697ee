/**
 * `consistency: strong` in the emulator (local/syncReplication.ts), end to end over real sockets: a write
 * acknowledged in one region is read in the other immediately after, every time — through the bundled items λ
 * (REST) and through the resolvers (GraphQL), both directions — although the emulator is started with a 5 s
 * replication lag that eventual mode would apply. Then the MRSC pause drill: the paused region refuses writes
 * (MRSC answers AccessDeniedException), writes elsewhere are acknowledged, and no acknowledged write is missing
 * from the serving region: RPO 0 as components/recovery.ts computes for strong consistency; on resume the paused
 * region has them all.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DEFAULT_ALARM_THRESHOLDS } from '../../config/alarms';
import { recoveryObjectives } from '../../components/recovery';
import { ddbClient } from '../support/dynamodb';
import { eventually, gql, rest, startTestEmulator, type TestEmulator } from '../support/emulator';
import { STREAM_MAPPING } from '../../components/streamMapping';

const A = 'eu-west-1';
const B = 'eu-central-1';
const PUT = 'mutation Put($input: PutItemInput!) { putItem(input: $input) { id value version } }';
const GET = 'query Get($id: ID!) { getItem(id: $id) { id value version } }';

describe('consistency strong in the emulator (MRSC: synchronous replication)', function () {
  this.timeout(120_000);
  let t: TestEmulator;
  before(async () => {
    // 5 s of lag: eventual mode would make every read below stale; strong mode does not use the lag at all
    t = await startTestEmulator({ consistency: 'strong', witnessRegion: 'eu-west-2' }, { regions: [A, B], replicationLag: 5_000 });
  });
  after(async () => {
    await t?.stop();
  });

  it('a write acknowledged in one region is read in the other right after, every time (REST and GraphQL, both ways, 16 writes to 4 ids)', async () => {
    const ep = t.endpoints.regions;
    const stale: string[] = [];
    const t0 = performance.now();
    for (let i = 0; i < 16; i += 1) {
      const [w, r] = i % 2 === 0 ? [A, B] : [B, A];
      const id = `strong-${Math.floor(i / 2) % 4}`; // four ids, each written from A then at once from B: every read must see the latest version
      const value = `v${i}:${w}`;
      if (i % 4 < 2) {
        const put = await rest(`${ep[w].restUrl}/items/${id}`, 'PUT', { value });
        assert.ok([200, 201].includes(put.status), JSON.stringify(put.body));
        const got = await rest(`${ep[r].restUrl}/items/${id}`, 'GET');
        if (got.body?.value !== value) stale.push(`${i}: REST ${w} → ${r} read ${JSON.stringify(got.body?.value)}, wrote ${value}`);
      } else {
        const put = await gql(ep[w].graphqlUrl, ep[w].apiKey, PUT, { input: { id, value } });
        assert.equal(put.body.errors, undefined, JSON.stringify(put.body.errors));
        const got = await gql(ep[r].graphqlUrl, ep[r].apiKey, GET, { id });
        if (got.body.data?.getItem?.value !== value) stale.push(`${i}: GraphQL ${w} → ${r} read ${JSON.stringify(got.body.data?.getItem?.value)}, wrote ${value}`);
      }
    }
    const perPairMs = (performance.now() - t0) / 16;
    assert.deepEqual(stale, [], 'no read after an acknowledged write was stale');
    // the last versions agree in both tables, item for item
    for (let k = 0; k < 4; k += 1) {
      const key = { id: { S: `strong-${k}` } };
      const [a, b] = await Promise.all([A, B].map((r) => ddbClient(r).send(new GetItemCommand({ TableName: t.emulator.config.tableName, Key: key, ConsistentRead: true }))));
      assert.deepEqual(a.Item, b.Item, `strong-${k}`);
    }
    console.log(`      strong: 16 write → read-elsewhere pairs, ${perPairMs.toFixed(1)} ms per pair, 0 stale`);
  });

  it('pause drill: the paused region refuses writes, the other acknowledges them, none is missing where it serves (RPO 0, as recovery.ts says); resume brings them to the paused region', async () => {
    const ep = t.endpoints.regions;
    const computed = recoveryObjectives({ ...t.emulator.config, alarms: DEFAULT_ALARM_THRESHOLDS }).find((o) => o.failure.startsWith('replication paused'));
    assert.equal(computed?.rpoSeconds, 0);
    const paused = await fetch(`${t.endpoints.adminUrl}/replication/pause`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ region: B }) });
    assert.equal(paused.status, 200);
    try {
      const refused = await rest(`${ep[B].restUrl}/items/paused-b`, 'PUT', { value: 'from B' });
      assert.ok(refused.status >= 500, `B refuses writes while cut off: ${refused.status} ${JSON.stringify(refused.body)}`);
      const refusedGql = await gql(ep[B].graphqlUrl, ep[B].apiKey, PUT, { input: { id: 'paused-b', value: 'from B' } });
      assert.ok(refusedGql.body.errors?.length, 'the resolvers too');
      const acked: string[] = [];
      for (let i = 0; i < 6; i += 1) {
        const put = await rest(`${ep[A].restUrl}/items/paused-a-${i}`, 'PUT', { value: `a${i}` });
        assert.equal(put.status, 201, JSON.stringify(put.body));
        acked.push(`paused-a-${i}`);
      }
      // RPO measured: acknowledged writes missing from the region that serves (if B were lost now, nothing is lost)
      const missingInA = [];
      for (const id of acked) if ((await rest(`${ep[A].restUrl}/items/${id}`, 'GET')).status !== 200) missingInA.push(id);
      assert.deepEqual(missingInA, []);
      assert.equal((await ddbClient(B).send(new GetItemCommand({ TableName: t.emulator.config.tableName, Key: { id: { S: 'paused-a-0' } } }))).Item, undefined, 'nothing reached B while it was cut off');
      assert.equal((await ddbClient(A).send(new GetItemCommand({ TableName: t.emulator.config.tableName, Key: { id: { S: 'paused-b' } } }))).Item, undefined, 'B\'s refused write is nowhere');
      console.log(`      strong pause: ${acked.length} writes acknowledged in ${A}, ${missingInA.length} missing there (computed RPO ${computed?.rpoSeconds} s); ${B} refused ${refused.status}`);
    } finally {
      await fetch(`${t.endpoints.adminUrl}/replication/resume`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ region: B }) });
    }
    await t.emulator.replicator.idle();
    for (let i = 0; i < 6; i += 1) assert.equal((await rest(`${ep[B].restUrl}/items/paused-a-${i}`, 'GET')).body?.value, `a${i}`, `paused-a-${i} in ${B} after resume`);
    assert.equal((await rest(`${ep[B].restUrl}/items/after-resume`, 'PUT', { value: 'ok' })).status, 201, 'B writes again');
  });
  it('notifier-errors drill (the FIS template\'s name, emulated): the region\'s notifier fails, its retries are spent and the change goes to the DLQ stand-in; writes and reads are unaffected; after the drill the notifier delivers again', async () => {
    const ep = t.endpoints.regions;
    const notifierOf = async (r: string) => {
      const all = (await (await fetch(`${t.endpoints.adminUrl}/notifier`)).json()) as Array<{ region: string; backlog: number; failing: boolean; stats: { invocations: number; failedRecords: number; discarded: number } }>;
      return all.find((n) => n.region === r)!;
    };
    const post = (route: string, body: unknown) => fetch(`${t.endpoints.adminUrl}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    await t.emulator.replicator.idle();
    await eventually('A\'s notifier idle', async () => (await notifierOf(A)).backlog === 0);
    const before = await notifierOf(A);
    const started = await post('/drills/notifier-errors', { region: A, duration: 'PT2M' });
    assert.equal(started.status, 200);
    const answer = (await started.json()) as { drill: string; action: string; failing: boolean };
    assert.deepEqual([answer.drill, answer.action, answer.failing], ['notifier-errors', 'aws:lambda:invocation-error', true]);
    const t0 = performance.now();
    assert.equal((await rest(`${ep[A].restUrl}/items/drill-n1`, 'PUT', { value: 'during' })).status, 201, 'writes unaffected');
    assert.equal((await rest(`${ep[B].restUrl}/items/drill-n1`, 'GET')).body?.value, 'during', 'reads unaffected');
    // every retry fails; after the mapping's retries the record is given up (the DLQ in AWS)
    await eventually('the change is given up after its retries', async () => (await notifierOf(A)).stats.discarded > before.stats.discarded, 30_000);
    const lostAfterMs = performance.now() - t0;
    const during = await notifierOf(A);
    assert.ok(during.stats.failedRecords > before.stats.failedRecords && during.failing);
    assert.equal(during.stats.discarded - before.stats.discarded, 1, 'exactly the one change written during the drill');
    assert.equal((await post('/drills/notifier-errors/stop', { region: A })).status, 200);
    assert.equal((await rest(`${ep[A].restUrl}/items/drill-n2`, 'PUT', { value: 'after' })).status, 201);
    await eventually('the next change is delivered', async () => {
      const n = await notifierOf(A);
      return n.backlog === 0 && n.stats.invocations > during.stats.invocations && !n.failing;
    });
    assert.equal((await notifierOf(A)).stats.discarded, during.stats.discarded, 'nothing more given up after the drill');
    console.log(`      notifier-errors: a change written during the drill given up (DLQ) ${lostAfterMs.toFixed(0)} ms after the write, after ${STREAM_MAPPING.maximumRetryAttempts} retries`);
  });
});
