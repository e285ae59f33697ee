/**
 * Replication pause with conflicting writes (last writer wins, each subscriber hears what its replica accepted once)
 * and drain, end to end through the admin API and the global endpoint (test/support/drills.ts), each printing what it
 * measured. No sleeps: the drills wait for the replicator idle and the subscribers settled.
 */
import assert from 'node:assert/strict';
import { accepted, admin, AP, byId, EU, globalWrite, HEALTH, type Item, PUT, report, scan, send } from '../support/drills';
import { eventually, settleSubscribers as settled, startTestEmulator, Subscriber, type TestEmulator } from '../support/emulator';

describe('failure drills (multi-master): replication pause and drain', function () {
  this.timeout(120_000);
  let t: TestEmulator;

  before(async () => {
    t = await startTestEmulator({}, { health: HEALTH });
  });
  after(async () => {
    await t?.stop();
  });

  it('pause replication: writes in both regions (same ids too) → resume → converged, last writer wins; each subscriber got each write its region accepted once', async () => {
    const ep = t.endpoints.regions;
    const subs = { [EU]: await Subscriber.open(ep[EU].realtimeUrl, ep[EU].graphqlUrl, ep[EU].apiKey), [AP]: await Subscriber.open(ep[AP].realtimeUrl, ep[AP].graphqlUrl, ep[AP].apiKey) };
    try {
      // start from a quiet replicator: a change still in flight from the emulator's start (or an earlier drill on this
      // emulator) would otherwise be counted as one of this drill's queued writes
      await t.emulator.replicator.idle();
      await eventually('nothing pending on any pair before the pause', async () =>
        ((await send(`${t.endpoints.adminUrl}/replication`, {})).body as Array<{ pending: number }>).every((p) => p.pending === 0),
      );
      // superseded counts are cumulative over the emulator's life: this drill's are the growth from here
      const supersededBefore = t.emulator.replicator.stats().find((p) => p.from === EU && p.to === AP)?.superseded ?? 0;
      // FIS's shape: one replica (AP), replication to and from it
      const paused = await admin(t, '/replication/pause', { region: AP });
      assert.equal(paused.body.action, 'aws:dynamodb:global-table-pause-replication');
      assert.deepEqual(paused.body.paused, [[AP, EU], [EU, AP]]);
      const t0 = performance.now();
      const put = (r: string, id: string, value: string) =>
        send(ep[r].graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': ep[r].apiKey }, body: JSON.stringify({ query: PUT, variables: { input: { id, value } } }) });
      // EU first, then AP: for the shared ids AP's write is the later one and must win everywhere
      const shared = Array.from({ length: 30 }, (_, i) => `pause-shared-${i}`);
      const euOnly = Array.from({ length: 20 }, (_, i) => `pause-eu-${i}`);
      const apOnly = Array.from({ length: 20 }, (_, i) => `pause-ap-${i}`);
      for (const id of [...shared, ...euOnly]) assert.equal((await put(EU, id, `eu:${id}`)).status, 200);
      await new Promise((r) => setTimeout(r, 5));
      for (const id of [...shared, ...apOnly]) assert.equal((await put(AP, id, `ap:${id}`)).status, 200);
      await t.emulator.replicator.idle(); // streams read up to date; paused pairs keep their queues
      const during = (await send(`${t.endpoints.adminUrl}/replication`, {})).body as Array<{ from: string; pending: number; paused: boolean }>;
      const pending = Object.fromEntries(during.map((p) => [p.from, p.pending]));
      assert.deepEqual(pending, { [EU]: 50, [AP]: 50 }, 'every write queued on its pair while paused');
      const divergedAt = performance.now() - t0;
      assert.equal((await scan(t, AP, 'pause-eu-')).size, 0, 'nothing crossed while paused');

      const t1 = performance.now();
      await admin(t, '/replication/resume', { region: AP });
      await t.emulator.replicator.idle();
      const [a, b] = [await scan(t, EU, 'pause-'), await scan(t, AP, 'pause-')];
      const convergeMs = performance.now() - t1;
      assert.equal(a.size, 70);
      assert.deepEqual([...a.entries()].sort(), [...b.entries()].sort(), 'both replicas hold the same items');
      for (const id of shared) assert.equal(a.get(id)?.value, `ap:${id}`, `${id}: the later write (AP) wins`);
      for (const id of euOnly) assert.equal(b.get(id)?.value, `eu:${id}`);
      for (const id of apOnly) assert.equal(a.get(id)?.value, `ap:${id}`);
      const superseded = (t.emulator.replicator.stats().find((p) => p.from === EU && p.to === AP)?.superseded ?? 0) - supersededBefore;
      assert.equal(superseded, shared.length, 'EU\'s older writes to the shared ids, and only those, were refused by AP (last writer wins)');

      // what each subscriber must hear, once each: every change its own replica accepted
      const expectEU = new Map<string, string[]>([...shared.map((id): [string, string[]] => [id, [`eu:${id}`, `ap:${id}`]]), ...euOnly.map((id): [string, string[]] => [id, [`eu:${id}`]]), ...apOnly.map((id): [string, string[]] => [id, [`ap:${id}`]])]);
      const expectAP = new Map<string, string[]>([...shared.map((id): [string, string[]] => [id, [`ap:${id}`]]), ...euOnly.map((id): [string, string[]] => [id, [`eu:${id}`]]), ...apOnly.map((id): [string, string[]] => [id, [`ap:${id}`]])]);
      await settled(t, [[EU, subs[EU]], [AP, subs[AP]]]);
      for (const [region, expected] of [[EU, expectEU], [AP, expectAP]] as const) {
        const heard = byId(subs[region]);
        for (const [id, values] of expected) assert.deepEqual(heard.get(id)?.map((c) => (c.item as Item).value), values, `${region} subscriber, ${id}`);
      }
      report('pause replication', {
        'writes while paused (EU / AP, 30 ids in both)': '50 / 50',
        'queued per pair': `${pending[EU]} / ${pending[AP]}`,
        'diverged for': `${divergedAt.toFixed(0)} ms`,
        'converge after resume': `${convergeMs.toFixed(0)} ms`,
        'LWW superseded EU → AP (this drill)': superseded,
        lost: 0,
      });
    } finally {
      await Promise.all([subs[EU].close(), subs[AP].close()]);
    }
  });

  it('drain: the drained region\'s /health says why, the global endpoint stops sending to it, and takes it back on undrain', async () => {
    const router = t.emulator.router;
    const t0 = performance.now();
    assert.equal((await admin(t, `/regions/${EU}/drain`)).body.drained, true);
    const health = await send(`${t.endpoints.regions[EU].restUrl}/health`, {});
    assert.equal(health.status, 503);
    assert.equal(health.body.reason, 'region eu-west-1 is drained by the DRAIN environment variable');
    await router.waitFor(EU, false, 20_000);
    const detectMs = performance.now() - t0;
    const writes = await Promise.all(Array.from({ length: 50 }, (_, i) => globalWrite(t, `drain-${i}`, `d-${i}`, EU, i % 2 === 0)));
    assert.deepEqual([...new Set(writes.map((w) => w.servedBy))], [AP], 'clients preferring the drained region are served by the other');
    assert.ok(writes.every(accepted));
    const t1 = performance.now();
    await admin(t, `/regions/${EU}/undrain`);
    await router.waitFor(EU, true, 20_000);
    const recoverMs = performance.now() - t1;
    assert.equal((await globalWrite(t, 'drain-back', 'back', EU, false)).servedBy, EU);
    await t.emulator.replicator.idle();
    const a = await scan(t, EU, 'drain-');
    const lost = writes.filter((_, i) => a.get(`drain-${i}`)?.value !== `d-${i}`).length;
    assert.equal(lost, 0);
    report('drain', { 'detect (drain → unhealthy)': `${detectMs.toFixed(0)} ms`, 'writes while drained (all served by AP)': writes.length, 'recover (undrain → healthy)': `${recoverMs.toFixed(0)} ms`, lost });
  });
});
