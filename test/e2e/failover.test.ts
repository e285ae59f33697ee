/**
 * Failover in writeMode primary end to end (failover → fenced → active) through the admin API, `npm run state` and
 * the global endpoint (test/support/drills.ts): the primary refuses writes and leaves routing, the others take them
 * once the write bound has passed, fenced refuses all, active is back to normal, nothing lost.
 */
import assert from 'node:assert/strict';
import { STATE_CHANGING, WRITE_FENCED, WRITE_REJECTED_IN_PRIMARY } from '../../schema/rules';
import { main as stateCli } from '../../scripts/state';
import { accepted, admin, AP, EU, globalWrite, HEALTH, putIn, report, scan, send } from '../support/drills';
import { eventually, startTestEmulator, TEST_WRITE_BOUND_MS, type TestEmulator } from '../support/emulator';

describe('failure drill: failover in writeMode primary', function () {
  // two waits of the write bound (scaled to TEST_WRITE_BOUND_MS): AP's first local write, and active after fenced
  this.timeout(240_000);
  let t: TestEmulator;

  before(async () => {
    t = await startTestEmulator({ writeMode: 'primary', primaryRegion: EU }, { health: HEALTH, writeBoundMs: TEST_WRITE_BOUND_MS });
  });
  after(async () => {
    await t?.stop();
  });

  it('failover: the primary refuses writes and leaves routing, the others take them; fenced refuses all; active is back to normal; nothing lost', async () => {
    const router = t.emulator.router;
    const ep = t.endpoints.regions;
    const stateEverywhere = (s: string) => eventually(`every region reads ${s}`, async () => (await Promise.all([EU, AP].map(async (r) => (await send(`${ep[r].restUrl}/state`, { headers: { 'x-api-key': t.endpoints.globalApiKey } })).body?.state))).every((x) => x === s));
    const cli = async (argv: string[], expectCode = 0): Promise<string> => {
      const err: string[] = [];
      const out: string[] = [];
      const code = await stateCli([...argv, '--local', '--endpoints', t.endpointsFile], { out: (l) => out.push(l), err: (l) => err.push(l) });
      assert.equal(code, expectCode, `${out.join('\n')}\n${err.join('\n')}`);
      return out.join('\n');
    };
    // the write bound the emulator's state updaters wait out (lambdaEnv.ts: stateCacheMs + the items timeout, or the
    // GraphQL request limit): AWS's 30 s scaled down, with the limits it is made of (local/writeBound.ts)
    const boundMs = Number(t.emulator.region(EU).functions.stateUpdater.environment.STATE_WRITE_BOUND_MS);
    assert.equal(boundMs, TEST_WRITE_BOUND_MS);
    /** Waits until the moment the system announced (a failover's writesFrom, a fence's end of dwell). */
    const until = (epochMs: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, epochMs - Date.now())));
    const acceptedWrites: Array<{ id: string; value: string }> = [];

    const t0 = performance.now();
    const failover = await admin(t, '/state', { state: 'failover', reason: 'drill: primary degraded' });
    assert.equal(failover.body.region, AP, 'failover goes through a region that is not the primary');
    assert.equal(failover.body.answer.ok, true, JSON.stringify(failover.body));
    // the global endpoint's checks run meanwhile: detection is timed from the failover, whatever runs in between
    const detected = router.waitFor(EU, false, 20_000).then(() => performance.now() - t0);
    detected.catch(() => {}); // awaited below: its failure is reported there
    await stateEverywhere('failover');
    // AP wrote to the primary until now: it takes writes locally once every write that read `active` has committed
    // (checked first: the bound runs from the failover)
    const writesFrom = failover.body.answer.writesFromMs as number;
    assert.ok(typeof writesFrom === 'number' && writesFrom >= Date.parse(failover.body.answer.updatedAt) + boundMs, JSON.stringify(failover.body.answer));
    const early = await putIn(t, AP, 'fo-early', 'x');
    assert.equal(early.body.errors?.[0]?.errorType, STATE_CHANGING, `AP refuses until the bound has passed: ${JSON.stringify(early.body)}`);
    assert.equal(early.body.errors?.[0]?.errorInfo?.retryable, true);
    const apState = await send(`${ep[AP].restUrl}/state`, { headers: { 'x-api-key': t.endpoints.globalApiKey } });
    assert.deepEqual([apState.body.writable, apState.body.writesFrom], [false, new Date(writesFrom).toISOString()]);
    const detectMs = await detected;
    const primaryHealth = await send(`${ep[EU].restUrl}/health`, {});
    assert.deepEqual([primaryHealth.status, primaryHealth.body.reason], [503, 'region eu-west-1 is the primary and the app state is failover']);
    const refusedInPrimary = await putIn(t, EU, 'fo-primary', 'x');
    assert.equal(refusedInPrimary.body.data?.putItem ?? null, null, 'the primary refuses writes during failover');
    assert.equal(refusedInPrimary.body.errors?.[0]?.errorType, WRITE_REJECTED_IN_PRIMARY, JSON.stringify(refusedInPrimary.body));
    await until(writesFrom);
    const apTakesWritesMs = performance.now() - t0;
    const during = await Promise.all(Array.from({ length: 100 }, (_, i) => globalWrite(t, `fo-${i}`, `failover-${i}`, EU, i % 10 === 0)));
    assert.ok(during.every((w) => accepted(w) && w.servedBy === AP), `writes through the global endpoint go to ${AP} and are accepted: ${JSON.stringify(during.find((w) => !accepted(w)))}`);
    during.forEach((_, i) => acceptedWrites.push({ id: `fo-${i}`, value: `failover-${i}` }));
    const inAP = await scan(t, AP, 'fo-');
    assert.equal([...inAP.values()].filter((x) => x.updatedRegion === AP).length, 100, 'written locally in AP (not in the failed primary)');

    const tFenced = performance.now();
    await cli(['fenced', '--reason', 'drill: replication settles']);
    const healthy = router.waitFor(EU, true, 20_000).then(() => performance.now() - tFenced);
    healthy.catch(() => {}); // awaited below: its failure is reported there
    // active only once the fence has stood for the write bound: refused at once, saying when
    const tooSoon = await cli(['active', '--reason', 'drill: too soon'], 1);
    assert.match(tooSoon, new RegExp(`FencedTooShort[\\s\\S]*the write bound of ${boundMs / 1000} s: writes that read the state before the fence may commit until then`));
    await stateEverywhere('fenced');
    for (const r of [EU, AP]) {
      const w = await putIn(t, r, 'fo-fenced', 'x');
      assert.equal(w.body.errors?.[0]?.errorType, WRITE_FENCED, `${r} refuses writes when fenced: ${JSON.stringify(w.body)}`);
    }
    const fencedToHealthyMs = await healthy;
    const fencedAt = Date.parse((await send(`${ep[EU].restUrl}/state`, { headers: { 'x-api-key': t.endpoints.globalApiKey } })).body.updatedAt);
    await until(fencedAt + boundMs);
    const t1 = performance.now();
    await cli(['active', '--reason', 'drill: back to normal']);
    // recovery = active → the first write the primary accepts (probes refused while a region still reads fenced)
    let probes = 0;
    for (;;) {
      probes += 1;
      const id = `fo-probe-${probes}`;
      const w = await globalWrite(t, id, 'probe', EU, false);
      if (accepted(w) && w.servedBy === EU && w.body.data.putItem.updatedRegion === EU) {
        acceptedWrites.push({ id, value: 'probe' });
        break;
      }
      assert.equal(w.body.errors?.[0]?.errorType, WRITE_FENCED, `before the primary takes writes, a write is refused as fenced: ${JSON.stringify(w.body)}`);
      assert.ok(performance.now() - t1 < 20_000, 'the primary took no write within 20 s of active');
    }
    const recoverMs = performance.now() - t1;
    await stateEverywhere('active');
    const back = await Promise.all(Array.from({ length: 20 }, (_, i) => globalWrite(t, `fo-back-${i}`, `back-${i}`, EU, false)));
    assert.ok(back.every((w) => accepted(w) && w.servedBy === EU && w.body.data.putItem.updatedRegion === EU), 'the primary takes writes again');
    back.forEach((_, i) => acceptedWrites.push({ id: `fo-back-${i}`, value: `back-${i}` }));
    await t.emulator.replicator.idle();
    const [a, b] = [await scan(t, EU, 'fo-'), await scan(t, AP, 'fo-')];
    const lost = acceptedWrites.filter((w) => a.get(w.id)?.value !== w.value || b.get(w.id)?.value !== w.value);
    assert.deepEqual(lost, []);
    assert.equal(a.has('fo-primary') || a.has('fo-fenced') || a.has('fo-early') || b.has('fo-early'), false, 'refused writes wrote nothing');
    report('failover (writeMode primary)', {
      'detect (failover → primary unhealthy)': `${detectMs.toFixed(0)} ms`,
      'failover → AP takes writes (the write bound)': `${apTakesWritesMs.toFixed(0)} ms`,
      'writes accepted by AP during failover': during.length,
      'fenced → primary healthy': `${fencedToHealthyMs.toFixed(0)} ms`,
      'recover (active → first write accepted by the primary)': `${recoverMs.toFixed(0)} ms (${probes} probe${probes === 1 ? '' : 's'})`,
      'items in EU / AP': `${a.size} / ${b.size}`,
      lost: lost.length,
    });
  });
});
