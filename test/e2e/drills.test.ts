/**
 * Failure drills (issue 9) end to end over real sockets, each through the admin API (local/admin.ts) and the global
 * endpoint (local/router.ts), each printing what it measured — time to detect, time to recover — and what was lost
 * (expected: nothing): region kill with ≥ 1,000 writes during the outage, replication pause with conflicting writes
 * (last writer wins), drain, and failover in writeMode primary (failover → fenced → active).
 * Health checks run at 100 ms × 3 (Route53's 30 s × 3 scaled 1:300) so the drills take seconds.
 */
import assert from 'node:assert/strict';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { main as stateCli } from '../../scripts/state';
import { ddbClient } from '../support/dynamodb';
import { eventually, startTestEmulator, Subscriber, type TestEmulator } from '../support/emulator';

const EU = 'eu-west-1'; // first region and primary of the dev stack
const AP = 'ap-southeast-2';
const HEALTH = { intervalMs: 100, failureThreshold: 3 };
const PUT = 'mutation Put($input: PutItemInput!) { putItem(input: $input) { id value version updatedRegion } }';

type Item = { id: string; value: string; version: number; updatedAt: string; updatedRegion: string };

/** Every item of one region's replica whose id starts with prefix, by id. */
async function scan(t: TestEmulator, region: string, prefix: string): Promise<Map<string, Item>> {
  const client = ddbClient(region);
  const out = new Map<string, Item>();
  try {
    let start: Record<string, never> | undefined;
    do {
      const page = await client.send(new ScanCommand({ TableName: t.emulator.config.tableName, ExclusiveStartKey: start }));
      for (const raw of page.Items ?? []) {
        const item = unmarshall(raw) as Item;
        if (item.id.startsWith(prefix)) out.set(item.id, item);
      }
      start = page.LastEvaluatedKey as typeof start;
    } while (start);
  } finally {
    client.destroy();
  }
  return out;
}

interface Answer {
  status: number;
  servedBy: string | null;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

async function send(url: string, init: RequestInit): Promise<Answer> {
  try {
    const res = await fetch(url, init);
    const text = await res.text();
    return { status: res.status, servedBy: res.headers.get('x-served-by'), body: text ? JSON.parse(text) : null };
  } catch (err) {
    return { status: 0, servedBy: null, body: { message: (err as Error).message } };
  }
}

/** A write through the global endpoint: GraphQL putItem, or (every 10th) REST PUT /live/items/{id}. */
function globalWrite(t: TestEmulator, id: string, value: string, preferred: string, viaRest: boolean): Promise<Answer> {
  const g = t.endpoints.globalUrl;
  const headers = { 'content-type': 'application/json', 'x-preferred-region': preferred };
  if (viaRest) return send(`${g}/live/items/${id}`, { method: 'PUT', headers, body: JSON.stringify({ value }) });
  return send(`${g}/graphql`, { method: 'POST', headers: { ...headers, 'x-api-key': t.endpoints.globalApiKey }, body: JSON.stringify({ query: PUT, variables: { input: { id, value } } }) });
}

const accepted = (a: Answer): boolean => (a.status === 200 && !!a.body?.data?.putItem) || a.status === 201 || (a.status === 200 && a.body?.value !== undefined);

function admin(t: TestEmulator, path: string, body?: unknown): Promise<Answer> {
  return send(`${t.endpoints.adminUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
}

/** Per id, the changes a subscriber received (arrival order). */
function byId(sub: Subscriber): Map<string, Array<Record<string, unknown>>> {
  sub.changes('');
  const m = new Map<string, Array<Record<string, unknown>>>();
  for (const c of sub.data) m.set(String(c.id), [...(m.get(String(c.id)) ?? []), c]);
  return m;
}

const report = (drill: string, lines: Record<string, string | number>) =>
  console.log(`    [drill] ${drill}: ${Object.entries(lines).map(([k, v]) => `${k} ${v}`).join('; ')}`);

describe('failure drills (multi-master)', function () {
  this.timeout(120_000);
  let t: TestEmulator;

  before(async () => {
    t = await startTestEmulator({}, { health: HEALTH });
  });
  after(async () => {
    await t?.stop();
  });

  it('region kill: the global endpoint moves to B within the threshold, ≥ 1,000 writes during the outage, A catches up, nothing lost, B\'s subscriber got each write once', async () => {
    const router = t.emulator.router;
    const subB = await Subscriber.open(t.endpoints.regions[AP].realtimeUrl, t.endpoints.regions[AP].graphqlUrl, t.endpoints.regions[AP].apiKey);
    try {
      const before = await globalWrite(t, 'kill-warm', 'warm', EU, false);
      assert.equal(before.servedBy, EU, 'clients preferring A are served by A before the kill');

      const stopped = await admin(t, `/regions/${EU}/stop`);
      assert.equal(stopped.status, 200, JSON.stringify(stopped.body));
      const t0 = performance.now();
      assert.equal((await send(`${t.endpoints.regions[EU].restUrl}/health`, {})).status, 0, 'A\'s endpoints refuse connections');

      // 20 writers, each preferring A, until 1,000 writes were accepted after the router moved to B
      const results: Array<{ id: string; value: string; answer: Answer }> = [];
      let detectedAt: number | undefined;
      let acceptedOnB = 0;
      let n = 0;
      const writer = async () => {
        while (acceptedOnB < 1000) {
          n += 1;
          const i = n;
          const id = `kill-${i}`;
          const value = `v-${i}-${Math.random().toString(36).slice(2, 8)}`;
          const answer = await globalWrite(t, id, value, EU, i % 10 === 0);
          results.push({ id, value, answer });
          if (accepted(answer) && answer.servedBy === AP) {
            acceptedOnB += 1;
            detectedAt ??= performance.now();
          }
        }
      };
      await Promise.all(Array.from({ length: 20 }, writer));
      const writesDone = performance.now();
      const detectMs = (detectedAt as number) - t0;
      const ok = results.filter((r) => accepted(r.answer));
      const refused = results.filter((r) => !accepted(r.answer));
      assert.ok(ok.length >= 1000, `${ok.length} writes accepted`);
      assert.ok(ok.every((r) => r.answer.servedBy === AP), 'every accepted write during the outage was served by B');
      assert.ok(refused.every((r) => r.answer.status === 502 && r.answer.servedBy === EU), `refusals are A's 502 before detection: ${JSON.stringify(refused.slice(0, 2).map((r) => r.answer))}`);
      // detection within threshold × interval plus scheduling slack on a busy machine
      assert.ok(detectMs < HEALTH.failureThreshold * HEALTH.intervalMs + 3000, `detected after ${detectMs.toFixed(0)} ms`);
      const queued = (await send(`${t.endpoints.adminUrl}/replication`, {})).body.find((p: { from: string }) => p.from === AP);
      assert.deepEqual(queued.pausedBy, [`outage of ${EU}`]);
      assert.ok(queued.pending >= 1000, `B → A queued ${queued.pending} writes during the outage`);

      const t1 = performance.now();
      assert.equal((await admin(t, `/regions/${EU}/start`)).status, 200);
      await router.waitFor(EU, true, 20_000);
      const healthyMs = performance.now() - t1;
      assert.equal((await globalWrite(t, 'kill-after', 'after', EU, false)).servedBy, EU, 'A serves its clients again');
      await t.emulator.replicator.idle();
      const caughtUpMs = performance.now() - t1;

      const [a, b] = [await scan(t, EU, 'kill-'), await scan(t, AP, 'kill-')];
      const missing = ok.filter((r) => a.get(r.id)?.value !== r.value || b.get(r.id)?.value !== r.value);
      assert.deepEqual(missing.map((r) => r.id), [], 'every accepted write is in both regions with its value');
      assert.equal(a.size, b.size, 'both regions hold the same number of items');
      assert.deepEqual([...a.values()].sort((x, y) => x.id.localeCompare(y.id)), [...b.values()].sort((x, y) => x.id.localeCompare(y.id)));

      await eventually('B\'s subscriber heard every accepted write', () => ok.every((r) => subB.changes(r.id).length >= 1), 30_000);
      await new Promise((r) => setTimeout(r, 300));
      const heard = byId(subB);
      const notOnce = ok.filter((r) => heard.get(r.id)?.length !== 1 || (heard.get(r.id)?.[0].item as Item).value !== r.value);
      assert.deepEqual(notOnce.map((r) => r.id), [], 'B\'s subscriber got each write once, with its value');
      report('region kill', {
        'detect (stop → first write served by B)': `${detectMs.toFixed(0)} ms`,
        'writes accepted during outage': ok.length,
        'refused before detection (502, never acknowledged)': refused.length,
        'writes/s': (ok.length / ((writesDone - t0) / 1000)).toFixed(0),
        'recover (start → A healthy)': `${healthyMs.toFixed(0)} ms`,
        'A caught up': `${caughtUpMs.toFixed(0)} ms`,
        'items in A / B': `${a.size} / ${b.size}`,
        lost: missing.length,
      });
    } finally {
      await subB.close();
    }
  });

  it('pause replication: writes in both regions (same ids too) → resume → converged, last writer wins; each subscriber got each write its region accepted once', async () => {
    const ep = t.endpoints.regions;
    const subs = { [EU]: await Subscriber.open(ep[EU].realtimeUrl, ep[EU].graphqlUrl, ep[EU].apiKey), [AP]: await Subscriber.open(ep[AP].realtimeUrl, ep[AP].graphqlUrl, ep[AP].apiKey) };
    try {
      const paused = await admin(t, '/replication/pause', {});
      assert.equal(paused.body.action, 'aws:dynamodb:global-table-pause-replication');
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
      await new Promise((r) => setTimeout(r, 200));
      const during = (await send(`${t.endpoints.adminUrl}/replication`, {})).body as Array<{ from: string; pending: number; paused: boolean }>;
      const pending = Object.fromEntries(during.map((p) => [p.from, p.pending]));
      assert.deepEqual(pending, { [EU]: 50, [AP]: 50 }, 'every write queued on its pair while paused');
      const divergedAt = performance.now() - t0;
      assert.equal((await scan(t, AP, 'pause-eu-')).size, 0, 'nothing crossed while paused');

      const t1 = performance.now();
      await admin(t, '/replication/resume', {});
      await t.emulator.replicator.idle();
      const [a, b] = [await scan(t, EU, 'pause-'), await scan(t, AP, 'pause-')];
      const convergeMs = performance.now() - t1;
      assert.equal(a.size, 70);
      assert.deepEqual([...a.entries()].sort(), [...b.entries()].sort(), 'both replicas hold the same items');
      for (const id of shared) assert.equal(a.get(id)?.value, `ap:${id}`, `${id}: the later write (AP) wins`);
      for (const id of euOnly) assert.equal(b.get(id)?.value, `eu:${id}`);
      for (const id of apOnly) assert.equal(a.get(id)?.value, `ap:${id}`);
      const stats = t.emulator.replicator.stats().find((p) => p.from === EU && p.to === AP);
      assert.ok((stats?.superseded ?? 0) >= 30, 'EU\'s older writes to the shared ids were refused by AP (last writer wins)');

      // what each subscriber must hear, once each: every change its own replica accepted
      const expectEU = new Map<string, string[]>([...shared.map((id): [string, string[]] => [id, [`eu:${id}`, `ap:${id}`]]), ...euOnly.map((id): [string, string[]] => [id, [`eu:${id}`]]), ...apOnly.map((id): [string, string[]] => [id, [`ap:${id}`]])]);
      const expectAP = new Map<string, string[]>([...shared.map((id): [string, string[]] => [id, [`ap:${id}`]]), ...euOnly.map((id): [string, string[]] => [id, [`eu:${id}`]]), ...apOnly.map((id): [string, string[]] => [id, [`ap:${id}`]])]);
      for (const [region, expected] of [[EU, expectEU], [AP, expectAP]] as const) {
        const total = [...expected.values()].reduce((s, v) => s + v.length, 0);
        await eventually(`${region} subscriber heard ${total} changes`, () => subs[region].changes('').length >= 0 && subs[region].data.filter((c) => String(c.id).startsWith('pause-')).length >= total, 20_000);
        await new Promise((r) => setTimeout(r, 300));
        const heard = byId(subs[region]);
        for (const [id, values] of expected) assert.deepEqual(heard.get(id)?.map((c) => (c.item as Item).value), values, `${region} subscriber, ${id}`);
      }
      report('pause replication', {
        'writes while paused (EU / AP, 30 ids in both)': '50 / 50',
        'queued per pair': `${pending[EU]} / ${pending[AP]}`,
        'diverged for': `${divergedAt.toFixed(0)} ms`,
        'converge after resume': `${convergeMs.toFixed(0)} ms`,
        'LWW superseded EU → AP': stats?.superseded ?? 0,
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

describe('failure drill: failover in writeMode primary', function () {
  this.timeout(120_000);
  let t: TestEmulator;

  before(async () => {
    t = await startTestEmulator({ writeMode: 'primary', primaryRegion: EU }, { health: HEALTH });
  });
  after(async () => {
    await t?.stop();
  });

  it('failover: the primary refuses writes and leaves routing, the others take them; fenced refuses all; active is back to normal; nothing lost', async () => {
    const router = t.emulator.router;
    const ep = t.endpoints.regions;
    const putIn = (r: string, id: string, value: string) =>
      send(ep[r].graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': ep[r].apiKey }, body: JSON.stringify({ query: PUT, variables: { input: { id, value } } }) });
    const stateEverywhere = (s: string) => eventually(`every region reads ${s}`, async () => (await Promise.all([EU, AP].map(async (r) => (await send(`${ep[r].restUrl}/state`, {})).body?.state))).every((x) => x === s));
    const cli = async (argv: string[]) => {
      const err: string[] = [];
      const code = await stateCli([...argv, '--local', '--endpoints', t.endpointsFile], { out: () => {}, err: (l) => err.push(l) });
      assert.equal(code, 0, err.join('\n'));
    };
    const acceptedWrites: Array<{ id: string; value: string }> = [];

    const t0 = performance.now();
    const failover = await admin(t, '/state', { state: 'failover', reason: 'drill: primary degraded' });
    assert.equal(failover.body.region, AP, 'failover goes through a region that is not the primary');
    assert.equal(failover.body.answer.ok, true, JSON.stringify(failover.body));
    await stateEverywhere('failover');
    await router.waitFor(EU, false, 20_000);
    const detectMs = performance.now() - t0;
    const primaryHealth = await send(`${ep[EU].restUrl}/health`, {});
    assert.deepEqual([primaryHealth.status, primaryHealth.body.reason], [503, 'region eu-west-1 is the primary and the app state is failover']);
    const refusedInPrimary = await putIn(EU, 'fo-primary', 'x');
    assert.equal(refusedInPrimary.body.data?.putItem ?? null, null, 'the primary refuses writes during failover');
    assert.ok(refusedInPrimary.body.errors?.length, JSON.stringify(refusedInPrimary.body));
    const during = await Promise.all(Array.from({ length: 100 }, (_, i) => globalWrite(t, `fo-${i}`, `failover-${i}`, EU, i % 10 === 0)));
    assert.ok(during.every((w) => accepted(w) && w.servedBy === AP), `writes through the global endpoint go to ${AP} and are accepted: ${JSON.stringify(during.find((w) => !accepted(w)))}`);
    during.forEach((_, i) => acceptedWrites.push({ id: `fo-${i}`, value: `failover-${i}` }));
    const inAP = await scan(t, AP, 'fo-');
    assert.equal([...inAP.values()].filter((x) => x.updatedRegion === AP).length, 100, 'written locally in AP (not in the failed primary)');

    await cli(['fenced', '--reason', 'drill: replication settles']);
    await stateEverywhere('fenced');
    for (const r of [EU, AP]) {
      const w = await putIn(r, 'fo-fenced', 'x');
      assert.match(w.body.errors?.[0]?.errorType ?? '', /Fenced/i, `${r} refuses writes when fenced: ${JSON.stringify(w.body)}`);
    }
    await router.waitFor(EU, true, 20_000);
    const t1 = performance.now();
    await cli(['active', '--reason', 'drill: back to normal']);
    await stateEverywhere('active');
    const back = await Promise.all(Array.from({ length: 20 }, (_, i) => globalWrite(t, `fo-back-${i}`, `back-${i}`, EU, false)));
    assert.ok(back.every((w) => accepted(w) && w.servedBy === EU && w.body.data.putItem.updatedRegion === EU), 'the primary takes writes again');
    const recoverMs = performance.now() - t1;
    back.forEach((_, i) => acceptedWrites.push({ id: `fo-back-${i}`, value: `back-${i}` }));
    await t.emulator.replicator.idle();
    const [a, b] = [await scan(t, EU, 'fo-'), await scan(t, AP, 'fo-')];
    const lost = acceptedWrites.filter((w) => a.get(w.id)?.value !== w.value || b.get(w.id)?.value !== w.value);
    assert.deepEqual(lost, []);
    assert.equal(a.has('fo-primary') || a.has('fo-fenced'), false, 'refused writes wrote nothing');
    report('failover (writeMode primary)', {
      'detect (failover → primary unhealthy)': `${detectMs.toFixed(0)} ms`,
      'writes accepted by AP during failover': during.length,
      'recover (active → primary takes writes)': `${recoverMs.toFixed(0)} ms`,
      'items in EU / AP': `${a.size} / ${b.size}`,
      lost: lost.length,
    });
  });
});
