/**
 * A region added to, then removed from, a running emulator while writers keep writing through the global endpoint
 * (admin API POST /regions/{region}/add and /remove, over real sockets):
 *   - 0 acknowledged writes lost: every write the global endpoint acknowledged is, at the end, the value every
 *     remaining region answers; right after the add, the new region holds every write acknowledged before the add
 *     answered;
 *   - no empty answers: every answer the new region gave to a routed request for an id acknowledged before it joined
 *     the rotation is that item (no 404), the first answer included;
 *   - its subscribers hear every change acknowledged after they subscribed;
 *   - the removed region's writes (a writer prefers it while it is in) are all in the remaining regions.
 * Every wait is on a state: the admin API's answer (its phases), a count of acknowledged writes, the replicator's idle().
 */
import assert from 'node:assert/strict';
import { credentialHeaders, eventually, startTestEmulator, Subscriber, type TestEmulator } from '../support/emulator';
import { PREFERRED_HEADER } from '../../local/router';

const NEW = 'us-west-2';
const SEED = 80;
const WRITERS = 3;

/** Runs `fn` over `items`, `n` at a time (REST reads of a few hundred ids). */
async function inChunks<T>(items: T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += n) await Promise.all(items.slice(i, i + n).map(fn));
}

interface Ack {
  id: string;
  value: string;
  at: number;
}

describe('adding and removing a region live (emulator, end to end)', function () {
  this.timeout(60_000); // a guard against hangs; the drill itself waits on states only
  let t: TestEmulator;

  before(async () => {
    t = await startTestEmulator({}, { health: { intervalMs: 200, failureThreshold: 3 } });
  });
  after(async () => {
    await t?.stop();
  });

  it('writers never stop, nothing acknowledged is lost, the new region never answers 404 for an existing id, its subscribers hear every change', async () => {
    const e = t.emulator;
    const globalUrl = e.endpoints.globalUrl;
    const adminUrl = e.endpoints.adminUrl;
    const auth = await credentialHeaders(t);
    const acks: Ack[] = [];
    const last = new Map<string, Ack>();
    const ackWaiters: Array<{ n: number; resolve: () => void }> = [];
    const ack = (a: Ack): void => {
      acks.push(a);
      last.set(a.id, a);
      for (const w of ackWaiters.filter((x) => acks.length >= x.n)) {
        ackWaiters.splice(ackWaiters.indexOf(w), 1);
        w.resolve();
      }
    };
    /** resolves once `more` further writes were acknowledged */
    const acked = (more: number): Promise<void> => new Promise((resolve) => ackWaiters.push({ n: acks.length + more, resolve }));
    const put = async (id: string, value: string, preferred?: string): Promise<{ status: number; servedBy: string | null }> => {
      const res = await fetch(`${globalUrl}/live/items/${id}`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json', ...(preferred ? { [PREFERRED_HEADER]: preferred } : {}) }, body: JSON.stringify({ value }) });
      await res.arrayBuffer();
      if (res.status === 200 || res.status === 201) ack({ id, value, at: Date.now() }); // 201: created
      return { status: res.status, servedBy: res.headers.get('x-served-by') };
    };

    for (let i = 0; i < SEED; i += 1) assert.equal((await put(`seed-${i}`, `seed-${i}-v0`)).status, 201);

    // writers: each owns its ids (creates and updates them), so the last acknowledged value of an id is well defined
    let running = true;
    let preferNew = false;
    const refused: string[] = [];
    const servedByNew: string[] = [];
    const writer = async (w: number): Promise<void> => {
      for (let n = 0; running; n += 1) {
        const id = `w${w}-${n % 40}`;
        const preferred = w === 0 && preferNew ? NEW : undefined;
        const r = await put(id, `w${w}-${n}`, preferred);
        if (r.status !== 200 && r.status !== 201) refused.push(`${id}: ${r.status}`);
        if (preferred && r.servedBy === NEW) servedByNew.push(id);
      }
    };
    // the prober reads, through the global endpoint and preferring the new region, the id acknowledged last
    const probes: Array<{ id: string; ackedAt: number; status: number; servedBy: string | null }> = [];
    let probe = 0;
    const prober = async (): Promise<void> => {
      while (running) {
        // the latest acknowledged id, or one of the 50 before it: around the join, ids acknowledged just before it
        probe += 1;
        const a = acks[Math.max(0, acks.length - 1 - (probe % 50))];
        const res = await fetch(`${globalUrl}/live/items/${a.id}`, { headers: { ...auth, [PREFERRED_HEADER]: NEW } }).catch(() => undefined);
        if (!res) continue;
        await res.arrayBuffer();
        // before the region is known to the global endpoint, preferring it is a 400: not a routed answer
        if (res.status !== 400) probes.push({ id: a.id, ackedAt: a.at, status: res.status, servedBy: res.headers.get('x-served-by') });
      }
    };
    let joinedAt = 0;
    const loops = [...Array.from({ length: WRITERS }, (_, w) => writer(w)), prober()];
    try {
      await acked(50); // the writers are writing

      // ---- add ------------------------------------------------------------------------------------------------
      const before = acks.length;
      const addRes = await fetch(`${adminUrl}/regions/${NEW}/add`, { method: 'POST' });
      const added = (await addRes.json()) as { phases: Array<{ phase: string; ms: number; detail?: { copied?: number; scanned?: number } }>; regions: string[] };
      assert.equal(addRes.status, 200, JSON.stringify(added));
      const addedAt = Date.now();
      assert.deepEqual(added.phases.map((p) => p.phase), ['tables', 'replicate', 'backfill', 'start', 'health', 'join', 'endpoints']);
      assert.ok(added.regions.includes(NEW));
      const backfill = added.phases.find((p) => p.phase === 'backfill')!.detail!;
      assert.ok((backfill.scanned ?? 0) >= SEED && (backfill.copied ?? 0) > 0, `the copy read ${backfill.scanned} items, wrote ${backfill.copied}`);
      assert.ok(acks.length > before, 'writes were acknowledged while the region was added');
      joinedAt = e.router.health().find((h) => h.region === NEW)?.joinedAt ?? 0;
      assert.ok(joinedAt > 0 && joinedAt <= addedAt);

      // the endpoints file names the region (written by rename: a reader sees the old or the new file, whole)
      const endpointsFile = JSON.parse((await import('node:fs')).readFileSync(t.endpointsFile, 'utf8')) as { regions: Record<string, { restUrl: string; realtimeUrl: string; graphqlUrl: string; apiKey: string }> };
      const mine = endpointsFile.regions[NEW];
      assert.ok(mine, 'the endpoints file lists the new region');

      // every write acknowledged before the add answered is in the new region (or a newer value of it)
      const snapshot = new Map([...last].filter(([, a]) => a.at <= addedAt));
      await inChunks([...snapshot], 16, async ([id, a]) => {
        const res = await fetch(`${mine.restUrl}/items/${id}`, { headers: auth });
        const body = (await res.json()) as { value?: string };
        assert.equal(res.status, 200, `${id} (acknowledged ${addedAt - a.at} ms before the add answered) is missing in ${NEW}`);
        // a writer's values count up (w<writer>-<n>): the new region may already hold a later one, never an earlier
        const n = (v: string | undefined): number => Number(v?.split('-').pop()?.replace(/^v/, ''));
        assert.ok(n(body.value) >= n(a.value), `${id}: ${NEW} has ${body.value}, older than ${a.value}`);
      });

      // ---- subscribers of the new region hear every change from the moment they subscribe -----------------------
      const sub = await Subscriber.open(mine.realtimeUrl, mine.graphqlUrl, mine.apiKey);
      const subscribedAt = Date.now();
      preferNew = true; // one writer now writes in the new region
      await acked(80);
      preferNew = false;
      const heardFrom = acks.length;
      await e.replicator.catchUp?.(NEW); // every write acknowledged so far is applied in the new region
      const expected = acks.filter((a) => a.at > subscribedAt).slice(0, heardFrom);
      const heard = (a: Ack): boolean => sub.changes(a.id).some((c) => (c.item as { value?: string } | null)?.value === a.value);
      await eventually(`${NEW}'s subscriber heard the ${expected.length} changes acknowledged after it subscribed`, () => expected.every(heard), 20_000);
      await sub.close();
      assert.ok(servedByNew.length > 0, `a writer preferring ${NEW} was served by it`);

      // ---- remove ---------------------------------------------------------------------------------------------
      const removeRes = await fetch(`${adminUrl}/regions/${NEW}/remove`, { method: 'POST' });
      const removed = (await removeRes.json()) as { phases: Array<{ phase: string }>; regions: string[] };
      assert.equal(removeRes.status, 200, JSON.stringify(removed));
      assert.deepEqual(removed.phases.map((p) => p.phase), ['drain', 'quiesce', 'replicate-out', 'stop', 'endpoints']);
      assert.ok(!removed.regions.includes(NEW));
      await acked(50); // writing goes on after the removal
    } finally {
      running = false;
      await Promise.all(loops);
    }

    // ---- nothing acknowledged was lost ----------------------------------------------------------------------------
    assert.deepEqual(refused, [], 'the global endpoint refused no write');
    await e.replicator.idle();
    const regions = Object.values(e.endpoints.regions);
    assert.equal(regions.length, 2);
    for (const r of regions) {
      await inChunks([...last], 16, async ([id, a]) => {
        const res = await fetch(`${r.restUrl}/items/${id}`, { headers: auth });
        const body = (await res.json()) as { value?: string };
        assert.deepEqual([res.status, body.value], [200, a.value], `${id} in ${r.restUrl}`);
      });
    }

    // ---- no empty answers ------------------------------------------------------------------------------------------
    const answered = probes.filter((p) => p.servedBy === NEW);
    const ofOld = answered.filter((p) => p.ackedAt < joinedAt);
    assert.ok(ofOld.length > 0, `the new region answered routed requests for ids acknowledged before it joined (${answered.length} answers in all)`);
    assert.equal(answered[0].status, 200, `its first routed answer: ${JSON.stringify(answered[0])}`);
    assert.deepEqual(ofOld.filter((p) => p.status !== 200), [], 'the new region answered an id acknowledged before it joined with an error (404: the item was not there yet)');
  });
});
