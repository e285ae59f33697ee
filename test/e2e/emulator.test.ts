/**
 * The emulator end to end (local/emulator.ts), over real sockets: the headline of the project — a subscriber in any
 * region hears about a write made in any region, exactly once — plus the app state and the refused calls, through
 * GraphQL (HTTP + realtime) and REST, with the bundled handlers, the notifier loops and the replicator running.
 */
import assert from 'node:assert/strict';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { PUBLISH_ITEM_CHANGE } from '../../schema/publish';
import { apiKeyHeaders, RealtimeClient } from '../appsync/support';
import { amplifyClient } from '../support/amplify';
import { eventually, gql, rest, settleSubscribers, startTestEmulator, Subscriber, TEST_WRITE_BOUND_MS, type TestEmulator } from '../support/emulator';

const EU = 'eu-west-1';
const AP = 'ap-southeast-2';
const PUT = 'mutation Put($input: PutItemInput!) { putItem(input: $input) { id value version updatedAt updatedRegion } }';
const DEL = 'mutation Del($id: ID!) { deleteItem(id: $id) { id value version } }';
const GET = 'query Get($id: ID!) { getItem(id: $id) { id value version updatedAt updatedRegion } }';
const ITEM_KEYS = ['id', 'updatedAt', 'updatedRegion', 'value', 'version'];
const CHANGE_KEYS = ['changedAt', 'id', 'item', 'kind', 'publishedRegion', 'sequenceNumber'];

describe('emulator end to end (two regions, multi-master)', function () {
  // the fence test waits out the write bound (scaled to TEST_WRITE_BOUND_MS) before `active`
  this.timeout(120_000);
  let t: TestEmulator;
  const ep = (r: string) => t.endpoints.regions[r];

  before(async () => {
    t = await startTestEmulator({}, { writeBoundMs: TEST_WRITE_BOUND_MS });
  });
  after(async () => {
    await t?.stop();
  });

  it('writes the endpoints file with every region', () => {
    assert.equal(t.endpoints.stack, 'dev');
    assert.deepEqual(Object.keys(t.endpoints.regions).sort(), [AP, EU]);
    for (const r of [EU, AP]) {
      const e = ep(r);
      assert.match(e.graphqlUrl, /^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
      assert.equal(e.realtimeUrl, `${e.graphqlUrl.replace('http://', 'ws://')}/realtime`);
      assert.match(e.restUrl, /^http:\/\/127\.0\.0\.1:\d+\/live$/);
      assert.match(e.apiKey, /^da2-[a-z0-9]{26}$/);
    }
    assert.notEqual(ep(EU).apiKey, ep(AP).apiKey, 'AppSync keys are per API, so per region');
  });

  it('every subscriber, in either region, gets each change of a write in either region exactly once, with every field', async () => {
    const subs = {
      [EU]: await Subscriber.open(ep(EU).realtimeUrl, ep(EU).graphqlUrl, ep(EU).apiKey),
      [AP]: await Subscriber.open(ep(AP).realtimeUrl, ep(AP).graphqlUrl, ep(AP).apiKey),
    };
    const onlyMine = await Subscriber.open(ep(AP).realtimeUrl, ep(AP).graphqlUrl, ep(AP).apiKey, { id: 'from-eu' });
    try {
      for (const [writer, id] of [[EU, 'from-eu'], [AP, 'from-ap']] as const) {
        const w = ep(writer);
        const created = await gql(w.graphqlUrl, w.apiKey, PUT, { input: { id, value: 'one' } });
        assert.equal(created.body.data.putItem.version, 1, JSON.stringify(created.body));
        const updated = await gql(w.graphqlUrl, w.apiKey, PUT, { input: { id, value: 'two' } });
        assert.equal(updated.body.data.putItem.version, 2, JSON.stringify(updated.body));
        const deleted = await gql(w.graphqlUrl, w.apiKey, DEL, { id });
        assert.equal(deleted.body.data.deleteItem.value, 'two', JSON.stringify(deleted.body));
        for (const [region, sub] of Object.entries(subs)) {
          await eventually(`3 changes of ${id} on ${region}`, () => sub.changes(id).length >= 3);
        }
      }
      // a duplicate would come before the marker each subscriber hears last: no time allowance needed
      await settleSubscribers(t, [
        [EU, subs[EU]],
        [AP, subs[AP]],
      ]);
      for (const [region, sub] of Object.entries(subs)) {
        for (const [writer, id] of [[EU, 'from-eu'], [AP, 'from-ap']] as const) {
          const got = sub.changes(id);
          assert.deepEqual(got.map((c) => c.kind), ['CREATED', 'UPDATED', 'DELETED'], `${region} subscriber, write in ${writer}`);
          for (const c of got) {
            assert.deepEqual(Object.keys(c).sort(), CHANGE_KEYS);
            assert.equal(c.publishedRegion, region, 'each region publishes its own replica\'s changes');
            assert.match(String(c.sequenceNumber), /^\d+$/);
            const item = c.item as Record<string, unknown>;
            assert.deepEqual(Object.keys(item).sort(), ITEM_KEYS);
            assert.equal(item.updatedRegion, writer);
          }
          assert.deepEqual(got.map((c) => (c.item as { value: string }).value), ['one', 'two', 'two']);
          assert.deepEqual(got.map((c) => (c.item as { version: number }).version), [1, 2, 2]);
        }
      }
      assert.deepEqual(onlyMine.changes('from-eu').map((c) => c.kind), ['CREATED', 'UPDATED', 'DELETED']);
      assert.equal(onlyMine.data.length, 3, 'onItemChange(id) gets only its own id');
    } finally {
      await Promise.all([subs[EU].close(), subs[AP].close(), onlyMine.close()]);
    }
  });

  it('REST writes in one region are read in the other, with writeRegion and readRegion', async () => {
    const put = await rest(`${ep(EU).restUrl}/items/rest-1`, 'PUT', { value: 'hello' });
    assert.equal(put.status, 201);
    assert.equal(put.body.writeRegion, EU);
    let got = await rest(`${ep(AP).restUrl}/items/rest-1`, 'GET');
    await eventually('rest-1 replicated to ap-southeast-2', async () => {
      got = await rest(`${ep(AP).restUrl}/items/rest-1`, 'GET');
      return got.status === 200;
    });
    assert.deepEqual({ value: got.body.value, writeRegion: got.body.writeRegion, readRegion: got.body.readRegion }, { value: 'hello', writeRegion: EU, readRegion: AP });
    const health = await rest(`${ep(AP).restUrl}/health`, 'GET');
    assert.equal(health.status, 200);
    assert.equal(health.body.region, AP);
    const missing = await rest(`${ep(AP).restUrl}/nothing-here`, 'GET');
    assert.deepEqual([missing.status, missing.body], [403, { message: 'Missing Authentication Token' }]);
    const viaRest = await fetch(`${ep(AP).restUrl}/graphql`, {
      method: 'POST',
      // the shared key (apiKey mode): API Gateway's /graphql swaps in the region's own AppSync key
      headers: { 'content-type': 'application/json', 'x-api-key': t.endpoints.globalApiKey },
      body: JSON.stringify({ query: GET, variables: { id: 'rest-1' } }),
    });
    assert.equal(((await viaRest.json()) as { data: { getItem: { value: string } } }).data.getItem.value, 'hello', '/graphql is proxied to AppSync');
  });

  it('a scaled write bound: every region ends GraphQL requests at it, the items function at it minus stateCacheMs, and its state updater waits it out', () => {
    const cacheMs = t.emulator.config.stateCacheMs;
    assert.deepEqual(t.emulator.writeBound, { boundMs: TEST_WRITE_BOUND_MS, awsBoundMs: 30_000, graphqlRequestLimitMs: TEST_WRITE_BOUND_MS, itemsTimeoutMs: TEST_WRITE_BOUND_MS - cacheMs, stateCacheMs: cacheMs });
    for (const r of [EU, AP]) {
      const region = t.emulator.region(r);
      assert.equal(region.executor.requestLimitMs, TEST_WRITE_BOUND_MS, r);
      assert.equal(region.functions.items.timeoutMs, TEST_WRITE_BOUND_MS - cacheMs, r);
      assert.equal(region.functions.items.environment.STATE_CACHE_MS, String(cacheMs), r);
      assert.equal(region.functions.stateUpdater.environment.STATE_WRITE_BOUND_MS, String(TEST_WRITE_BOUND_MS), r);
    }
  });

  it('fenced (set through the bundled state updater) refuses every write in every region, writes nothing, serves reads; active again works', async () => {
    await gql(ep(EU).graphqlUrl, ep(EU).apiKey, PUT, { input: { id: 'fence-1', value: 'before' } });
    await eventually('fence-1 in ap-southeast-2', async () => (await rest(`${ep(AP).restUrl}/items/fence-1`, 'GET')).status === 200);
    const answer = await t.emulator.region(EU).functions.stateUpdater.invoke<{ ok: boolean; updatedAt: string }>({ newState: 'fenced', reason: 'e2e fence' });
    assert.equal(answer.ok, true, JSON.stringify(answer));
    // active only once the fence has stood for the write bound (a write that read `active` may commit until then):
    // refused at once, saying when (the updater's bound is the emulator's, scaled from AWS's 30 s)
    const boundMs = Number(t.emulator.region(EU).functions.stateUpdater.environment.STATE_WRITE_BOUND_MS);
    assert.equal(boundMs, TEST_WRITE_BOUND_MS);
    const early = await t.emulator.region(EU).functions.stateUpdater.invoke<{ ok: boolean; errorType?: string; error?: string }>({ newState: 'active', reason: 'e2e too soon' });
    assert.deepEqual([early.ok, early.errorType], [false, 'FencedTooShort'], JSON.stringify(early));
    assert.match(early.error ?? '', new RegExp(`active is allowed after ${boundMs / 1000} s in fenced \\(the write bound of ${boundMs / 1000} s`), early.error);
    const allowedAt = Date.parse(/retry at (\S+) or later/.exec(early.error ?? '')?.[1] ?? '');
    assert.ok(allowedAt - Date.parse(answer.updatedAt) >= boundMs, early.error);
    await eventually('fenced state replicated', async () => (await rest(`${ep(AP).restUrl}/state`, 'GET')).body.state === 'fenced');
    // the fence is a bound: an items container may write on the state it read before the fence for stateCacheMs more
    // (a read sent before the fence was visible expires by then), so refusals are certain from that moment on
    await new Promise((resolve) => setTimeout(resolve, t.emulator.config.stateCacheMs));
    for (const r of [EU, AP]) {
      const g = await gql(ep(r).graphqlUrl, ep(r).apiKey, PUT, { input: { id: 'fence-1', value: `during-${r}` } });
      assert.equal(g.body.data?.putItem ?? null, null);
      assert.match(g.body.errors[0].errorType, /Fenced/i, JSON.stringify(g.body));
      const d = await gql(ep(r).graphqlUrl, ep(r).apiKey, DEL, { id: 'fence-1' });
      assert.match(d.body.errors[0].errorType, /Fenced/i, JSON.stringify(d.body));
      const p = await rest(`${ep(r).restUrl}/items/fence-1`, 'PUT', { value: `rest-during-${r}` });
      assert.equal(p.status, 503);
      const del = await rest(`${ep(r).restUrl}/items/fence-1`, 'DELETE');
      assert.equal(del.status, 503);
      const read = await gql(ep(r).graphqlUrl, ep(r).apiKey, GET, { id: 'fence-1' });
      assert.equal(read.body.data.getItem.value, 'before', 'reads are served and nothing was written');
      assert.equal(read.body.data.getItem.version, 1);
    }
    // one designated region per change: active is the primary's (EU) to set; AP's updater refuses, writing nothing
    const elsewhere = await t.emulator.region(AP).functions.stateUpdater.invoke<{ ok: boolean; errorType?: string }>({ newState: 'active', reason: 'e2e unfence' });
    assert.deepEqual([elsewhere.ok, elsewhere.errorType], [false, 'NotStateRegion'], JSON.stringify(elsewhere));
    assert.equal((await rest(`${ep(AP).restUrl}/state`, 'GET')).body.state, 'fenced');
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, allowedAt - Date.now())));
    const back = await t.emulator.region(EU).functions.stateUpdater.invoke<{ ok: boolean }>({ newState: 'active', reason: 'e2e unfence' });
    assert.equal(back.ok, true, JSON.stringify(back));
    await eventually('active state replicated', async () => (await rest(`${ep(EU).restUrl}/state`, 'GET')).body.state === 'active');
    const after = await gql(ep(EU).graphqlUrl, ep(EU).apiKey, PUT, { input: { id: 'fence-1', value: 'after' } });
    assert.equal(after.body.data.putItem.version, 2, JSON.stringify(after.body));
  });

  it('refuses an API-key publishItemChange over HTTP and over the socket, a bad key and a forged signature', async () => {
    const input = { id: 'forged', kind: 'CREATED', publishedRegion: EU, sequenceNumber: '1', changedAt: new Date().toISOString(), item: { id: 'forged', value: 'x', version: 1, updatedAt: new Date().toISOString(), updatedRegion: EU } };
    const sub = await Subscriber.open(ep(EU).realtimeUrl, ep(EU).graphqlUrl, ep(EU).apiKey);
    try {
      const byKey = await gql(ep(EU).graphqlUrl, ep(EU).apiKey, PUBLISH_ITEM_CHANGE, { input });
      assert.equal(byKey.body.data?.publishItemChange ?? null, null);
      assert.equal(byKey.body.errors[0].errorType, 'Unauthorized');

      const socket = await RealtimeClient.connect(ep(EU).realtimeUrl, apiKeyHeaders(ep(EU).graphqlUrl, ep(EU).apiKey));
      const overSocket = await socket.start('pub', PUBLISH_ITEM_CHANGE, { input }, apiKeyHeaders(ep(EU).graphqlUrl, ep(EU).apiKey));
      assert.equal(overSocket.type, 'error');
      await socket.close();

      const otherRegionsKey = await gql(ep(EU).graphqlUrl, ep(AP).apiKey, GET, { id: 'x' });
      assert.equal(otherRegionsKey.status, 401);
      assert.equal(otherRegionsKey.body.errors[0].errorType, 'UnauthorizedException');

      const body = JSON.stringify({ query: PUBLISH_ITEM_CHANGE, variables: { input } });
      const url = new URL(ep(EU).graphqlUrl);
      const signed = await new SignatureV4({ service: 'appsync', region: EU, credentials: { accessKeyId: 'local', secretAccessKey: 'not-the-secret' }, sha256: Sha256 }).sign(
        new HttpRequest({ method: 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, headers: { host: url.host, 'content-type': 'application/json' }, body }),
      );
      const forged = await fetch(ep(EU).graphqlUrl, { method: 'POST', headers: signed.headers, body });
      assert.ok(forged.status === 401 || forged.status === 403, `forged signature answered ${forged.status}`);
      // a change written after the refusals reaches the subscriber through the notifier's signed publish, on the same
      // socket after anything the refused publishes might have sent
      await settleSubscribers(t, [[EU, sub]]);
      assert.equal(sub.changes('forged').length, 0, 'nothing refused reached a subscriber');
    } finally {
      await sub.close();
    }
  });

  it('aws-amplify v6, unchanged but for the ws shim, queries, mutates and hears a write made in the other region', async () => {
    const client = amplifyClient({ graphqlUrl: ep(EU).graphqlUrl, apiKey: ep(EU).apiKey, region: EU });
    const heard: Record<string, unknown>[] = [];
    const observable = client.graphql({ query: 'subscription S($id: ID) { onItemChange(id: $id) { id kind publishedRegion item { value updatedRegion } } }', variables: { id: 'amp-1' } }) as {
      subscribe(o: { next: (v: { data: { onItemChange: Record<string, unknown> } }) => void; error: (e: unknown) => void }): { unsubscribe(): void };
    };
    const errors: unknown[] = [];
    const sub = observable.subscribe({ next: ({ data }) => heard.push(data.onItemChange), error: (e) => errors.push(e) });
    try {
      await eventually('Amplify subscribed', () => t.emulator.region(EU).subscriptions() > 0 || errors.length > 0);
      assert.deepEqual(errors, []);
      const put = (await client.graphql({ query: PUT, variables: { input: { id: 'amp-1', value: 'by amplify' } } })) as { data: { putItem: { version: number; updatedRegion: string } } };
      assert.deepEqual([put.data.putItem.version, put.data.putItem.updatedRegion], [1, EU]);
      await eventually('amp-1 replicated to ap-southeast-2', async () => (await gql(ep(AP).graphqlUrl, ep(AP).apiKey, GET, { id: 'amp-1' })).body.data.getItem !== null);
      await gql(ep(AP).graphqlUrl, ep(AP).apiKey, PUT, { input: { id: 'amp-1', value: 'from ap' } });
      await eventually('both changes heard', () => heard.length >= 2);
      assert.deepEqual(heard, [
        { id: 'amp-1', kind: 'CREATED', publishedRegion: EU, item: { value: 'by amplify', updatedRegion: EU } },
        { id: 'amp-1', kind: 'UPDATED', publishedRegion: EU, item: { value: 'from ap', updatedRegion: AP } },
      ]);
      const got = (await client.graphql({ query: GET, variables: { id: 'amp-1' } })) as { data: { getItem: { value: string; version: number } } };
      assert.deepEqual([got.data.getItem.value, got.data.getItem.version], ['from ap', 2]);
    } finally {
      sub.unsubscribe();
    }
  });
});
