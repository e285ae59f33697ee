import assert from 'node:assert/strict';
import { IAM_CALLER, type PublishEvent } from '../../local/appsync/graphql';
import { PUBLISH_ITEM_CHANGE } from '../../schema/publish';
import { DEFAULT_PAGE_SIZE } from '../../schema/rules';
import { AP, APP_STATE, createFixture, DELETE, EU, type Fixture, GET, LIST, PUT, rawItem, seedItem, setState } from './support';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('item resolvers on DynamoDB Local (multi-master, active)', () => {
  let fx: Fixture;
  before(async () => {
    fx = await createFixture('multi-master');
    await setState(fx, 'active');
  });

  it('putItem creates with version 1, stamped by the accepting region, in the local replica only', async () => {
    const t0 = Date.now();
    const res = await fx.api(AP).execute({ query: PUT, variables: { input: { id: 'item-1', value: 'first value' } } });
    assert.equal(res.errors, undefined);
    const item = res.data?.putItem as Record<string, unknown>;
    assert.equal(item.id, 'item-1');
    assert.equal(item.value, 'first value');
    assert.equal(item.version, 1);
    assert.equal(item.updatedRegion, AP);
    assert.match(String(item.updatedAt), ISO);
    assert.ok(Math.abs(Date.parse(String(item.updatedAt)) - t0) < 5000);
    assert.deepEqual(await rawItem(fx, AP, 'item-1'), item);
    assert.equal(await rawItem(fx, EU, 'item-1'), null, 'multi-master writes the local replica; replication is the global table’s job');
  });

  it('putItem updates: version 2, new value, later updatedAt; with or without expectedVersion', async () => {
    const v1 = (await fx.api(EU).execute({ query: PUT, variables: { input: { id: 'item-2', value: 'a' } } })).data?.putItem as Record<string, unknown>;
    await new Promise((r) => setTimeout(r, 5));
    const res = await fx.api(EU).execute({ query: PUT, variables: { input: { id: 'item-2', value: 'b', expectedVersion: 1 } } });
    assert.equal(res.errors, undefined);
    const v2 = res.data?.putItem as Record<string, unknown>;
    assert.equal(v2.version, 2);
    assert.equal(v2.value, 'b');
    assert.equal(v2.updatedRegion, EU);
    assert.ok(String(v2.updatedAt) > String(v1.updatedAt), `${v2.updatedAt} after ${v1.updatedAt}`);
    const v3 = (await fx.api(EU).execute({ query: PUT, variables: { input: { id: 'item-2', value: 'c' } } })).data?.putItem as Record<string, unknown>;
    assert.equal(v3.version, 3);
    assert.deepEqual(await rawItem(fx, EU, 'item-2'), v3);
  });

  it('getItem reads the local replica; a missing id is null without error', async () => {
    await seedItem(fx, EU, { id: 'seeded', value: 'from the table', version: 7, updatedAt: '2026-03-04T05:06:07.000Z', updatedRegion: AP });
    const got = await fx.api(EU).execute({ query: GET, variables: { id: 'seeded' } });
    assert.deepEqual(got, { data: { getItem: { id: 'seeded', value: 'from the table', version: 7, updatedAt: '2026-03-04T05:06:07.000Z', updatedRegion: AP } } });
    assert.deepEqual(await fx.api(AP).execute({ query: GET, variables: { id: 'seeded' } }), { data: { getItem: null } }, 'AP replica has no copy');
    assert.deepEqual(await fx.api(EU).execute({ query: GET, variables: { id: 'never-written' } }), { data: { getItem: null } });
  });

  it('deleteItem returns the deleted item, removes it, and returns null for a missing item', async () => {
    const created = (await fx.api(EU).execute({ query: PUT, variables: { input: { id: 'to-delete', value: 'bye' } } })).data?.putItem;
    const del = await fx.api(EU).execute({ query: DELETE, variables: { id: 'to-delete', expectedVersion: 1 } });
    assert.deepEqual(del, { data: { deleteItem: created } });
    assert.equal(await rawItem(fx, EU, 'to-delete'), null);
    assert.deepEqual(await fx.api(EU).execute({ query: DELETE, variables: { id: 'to-delete' } }), { data: { deleteItem: null } });
    assert.deepEqual(await fx.api(EU).execute({ query: DELETE, variables: { id: 'to-delete', expectedVersion: 4 } }), { data: { deleteItem: null } }, 'gone already: idempotent');
  });

  it('publishItemChange (IAM) returns its input and hands the selected result to onPublish listeners', async () => {
    const input = {
      id: 'item-1',
      kind: 'UPDATED',
      item: { id: 'item-1', value: 'v', version: 4, updatedAt: '2026-05-06T07:08:09.123Z', updatedRegion: AP },
      publishedRegion: EU,
      sequenceNumber: '4900000000000000001',
      changedAt: '2026-05-06T07:08:09.123Z',
    };
    const events: PublishEvent[] = [];
    const off = fx.api(EU).onPublish((e) => {
      events.push(e);
    });
    const res = await fx.api(EU).execute({ query: PUBLISH_ITEM_CHANGE, variables: { input }, identity: IAM_CALLER });
    off();
    assert.deepEqual(res, { data: { publishItemChange: { id: 'item-1', kind: 'UPDATED', publishedRegion: EU, sequenceNumber: '4900000000000000001', changedAt: input.changedAt, item: { ...input.item, updatedBy: null } } } });
    await new Promise((r) => setImmediate(r));
    assert.equal(events.length, 1);
    assert.equal(events[0].mutationField, 'publishItemChange');
    assert.deepEqual(events[0].subscriptionFields, ['onItemChange']);
    assert.deepEqual(events[0].data, res.data?.publishItemChange);
    assert.deepEqual(events[0].args, { input });
  });

  it('two putItem with the same expectedVersion: exactly one wins, the other gets VersionConflict', async () => {
    await fx.api(EU).execute({ query: PUT, variables: { input: { id: 'contended', value: 'base' } } });
    for (let round = 1; round <= 5; round += 1) {
      const [a, b] = await Promise.all(
        ['A', 'B'].map((w) => fx.api(EU).execute({ query: PUT, variables: { input: { id: 'contended', value: `${w}${round}`, expectedVersion: round } } })),
      );
      const winners = [a, b].filter((r) => r.data?.putItem);
      const losers = [a, b].filter((r) => !r.data);
      assert.equal(winners.length, 1, `round ${round}: ${JSON.stringify([a, b])}`);
      assert.equal(losers[0].errors?.[0].errorType, 'VersionConflict');
      assert.match(String(losers[0].errors?.[0].message), new RegExp(`not at version ${round}`));
      const stored = await rawItem(fx, EU, 'contended');
      assert.equal(stored?.version, round + 1);
      assert.equal(stored?.value, (winners[0].data?.putItem as { value: string }).value);
    }
    const creates = await Promise.all(
      ['A', 'B'].map((w) => fx.api(EU).execute({ query: PUT, variables: { input: { id: 'created-once', value: w, expectedVersion: 0 } } })),
    );
    assert.equal(creates.filter((r) => r.data?.putItem).length, 1);
    assert.equal(creates.filter((r) => r.errors?.[0].errorType === 'VersionConflict').length, 1);
    assert.equal((await rawItem(fx, EU, 'created-once'))?.version, 1);
  });
});

describe('listItems paging on DynamoDB Local', () => {
  let fx: Fixture;
  const ids = Array.from({ length: 25 }, (_, i) => `page-item-${String(i).padStart(2, '0')}`);
  before(async () => {
    fx = await createFixture('multi-master');
    await setState(fx, 'active');
    for (const id of ids) await seedItem(fx, EU, { id, value: `value of ${id}`, version: 1, updatedAt: '2026-01-01T00:00:00.000Z', updatedRegion: EU });
  });

  it(`without limit returns at most DEFAULT_PAGE_SIZE (${DEFAULT_PAGE_SIZE}) items and a nextToken`, async () => {
    const res = await fx.api(EU).execute({ query: LIST });
    assert.equal(res.errors, undefined);
    const page = res.data?.listItems as { items: { id: string }[]; nextToken: string | null };
    assert.equal(page.items.length, DEFAULT_PAGE_SIZE);
    assert.equal(typeof page.nextToken, 'string');
  });

  it('limit 3 + nextToken walks every item exactly once, then nextToken is null', async () => {
    const seen: string[] = [];
    let token: string | null = null;
    let pages = 0;
    do {
      const res = await fx.api(EU).execute({ query: LIST, variables: { limit: 3, nextToken: token } });
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      const page = res.data?.listItems as { items: { id: string; value: string }[]; nextToken: string | null };
      assert.ok(page.items.length <= 3);
      for (const it of page.items) assert.equal(it.value, `value of ${it.id}`);
      seen.push(...page.items.map((i) => i.id));
      token = page.nextToken;
      pages += 1;
      assert.ok(pages < 20, 'paging must end');
    } while (token);
    assert.deepEqual([...seen].sort(), ids);
    assert.ok(pages >= 9, `25 items in pages of 3 need at least 9 pages, got ${pages}`);
  });

  it('an empty replica lists nothing', async () => {
    assert.deepEqual(await fx.api(AP).execute({ query: LIST, variables: { limit: 5 } }), { data: { listItems: { items: [], nextToken: null } } });
  });
});

describe('appState resolver', () => {
  let fx: Fixture;
  before(async () => {
    fx = await createFixture('multi-master', EU);
  });

  it('reports the stored state, the answering region and writability by the write rule table', async () => {
    await setState(fx, 'failover', 'eu-west-1 degraded');
    const eu = await fx.api(EU).execute({ query: APP_STATE });
    assert.deepEqual(eu, {
      data: { appState: { state: 'failover', region: EU, writeMode: 'multi-master', primaryRegion: EU, writable: false, updatedAt: '2026-01-02T03:04:05.000Z', reason: 'eu-west-1 degraded' } },
    });
    const ap = await fx.api(AP).execute({ query: APP_STATE });
    assert.equal((ap.data?.appState as { writable: boolean }).writable, true);
    await setState(fx, 'active');
    assert.deepEqual(((await fx.api(EU).execute({ query: APP_STATE })).data?.appState as Record<string, unknown>).writable, true);
  });

  it('a missing or unknown state item reads as fenced, not writable, with the reason (fail closed)', async () => {
    await setState(fx, null);
    const missing = (await fx.api(AP).execute({ query: APP_STATE })).data?.appState as Record<string, unknown>;
    assert.equal(missing.state, 'fenced');
    assert.equal(missing.writable, false);
    assert.equal(missing.updatedAt, null);
    assert.match(String(missing.reason), /missing/);
    await setState(fx, 'paused');
    const unknown = (await fx.api(AP).execute({ query: APP_STATE })).data?.appState as Record<string, unknown>;
    assert.equal(unknown.state, 'fenced');
    assert.equal(unknown.writable, false);
    assert.match(String(unknown.reason), /"paused" is unknown/);
  });
});
