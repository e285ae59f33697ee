/**
 * The write rule table (docs/architecture.md, "Write rules"), every cell: writeMode × app state × serving region (the primary, eu-west-1, or not, ap-southeast-2),
 * for putItem and deleteItem, checked in the tables themselves.
 */
import assert from 'node:assert/strict';
import { APP_STATES, WRITE_FENCED, WRITE_MODES, WRITE_REJECTED_IN_PRIMARY } from '../../schema/rules';
import { AP, createFixture, DELETE, EU, type Fixture, PUT, rawItem, rawItems, REGIONS, seedItem, setState } from './support';

const PRIMARY = EU;

/** Where a write from `region` must land, or the error it must get. */
function expected(mode: string, state: string, region: string): { lands: string } | { errorType: string } {
  if (state === 'fenced') return { errorType: WRITE_FENCED };
  if (state === 'failover') return region === PRIMARY ? { errorType: WRITE_REJECTED_IN_PRIMARY } : { lands: region };
  return mode === 'primary' ? { lands: PRIMARY } : { lands: region };
}

describe('write rule table through putItem and deleteItem', () => {
  const fixtures = new Map<string, Fixture>();
  before(async () => {
    for (const mode of WRITE_MODES) fixtures.set(mode, await createFixture(mode, PRIMARY));
  });

  for (const mode of WRITE_MODES) {
    for (const state of APP_STATES) {
      for (const region of [EU, AP]) {
        const want = expected(mode, state, region);
        const cell = `${mode} × ${state} × ${region === PRIMARY ? 'in the primary' : 'not in the primary'} (${region})`;
        const outcome = 'lands' in want ? `writes to ${want.lands}` : `rejects with ${want.errorType}`;

        it(`${cell}: putItem ${outcome}`, async () => {
          const fx = fixtures.get(mode)!;
          await setState(fx, state);
          const id = `put-${mode}-${state}-${region}`;
          const res = await fx.api(region).execute({ query: PUT, variables: { input: { id, value: `written via ${region}` } } });
          if ('lands' in want) {
            assert.equal(res.errors, undefined, JSON.stringify(res.errors));
            const item = res.data?.putItem as Record<string, unknown>;
            assert.equal(item.updatedRegion, want.lands);
            assert.equal(item.version, 1);
            assert.deepEqual(await rawItem(fx, want.lands, id), item);
            for (const other of REGIONS.filter((r) => r !== want.lands)) assert.equal(await rawItem(fx, other, id), null, `nothing in ${other}`);
          } else {
            assert.equal(res.data, null);
            assert.equal(res.errors?.length, 1);
            assert.equal(res.errors?.[0].errorType, want.errorType);
            assert.deepEqual(res.errors?.[0].path, ['putItem']);
            assert.match(res.errors![0].message, state === 'fenced' ? /fenced/ : /primary region eu-west-1 during failover/);
            for (const r of REGIONS) assert.equal(await rawItem(fx, r, id), null, `nothing written in ${r}`);
          }
        });

        it(`${cell}: deleteItem ${outcome.replace('writes to', 'deletes in')}`, async () => {
          const fx = fixtures.get(mode)!;
          await setState(fx, state);
          const id = `del-${mode}-${state}-${region}`;
          const stored = { id, value: 'to delete', version: 2, updatedAt: '2026-02-03T04:05:06.000Z', updatedRegion: AP };
          for (const r of REGIONS) await seedItem(fx, r, stored);
          const res = await fx.api(region).execute({ query: DELETE, variables: { id, expectedVersion: 2 } });
          if ('lands' in want) {
            assert.deepEqual(res, { data: { deleteItem: stored } });
            assert.equal(await rawItem(fx, want.lands, id), null);
            for (const other of REGIONS.filter((r) => r !== want.lands)) assert.deepEqual(await rawItem(fx, other, id), stored, `${other} untouched`);
          } else {
            assert.equal(res.errors?.[0].errorType, want.errorType);
            assert.deepEqual(res.data, { deleteItem: null });
            for (const r of REGIONS) assert.deepEqual(await rawItem(fx, r, id), stored, `${r} untouched`);
          }
        });
      }
    }
  }

  it('a missing app state item rejects writes (fail closed) and writes nothing', async () => {
    const fx = fixtures.get('multi-master')!;
    await setState(fx, null);
    const before = await rawItems(fx, AP);
    const res = await fx.api(AP).execute({ query: PUT, variables: { input: { id: 'no-state', value: 'x' } } });
    assert.equal(res.errors?.[0].errorType, WRITE_FENCED);
    assert.match(res.errors![0].message, /app state is missing/);
    assert.deepEqual(await rawItems(fx, AP), before);
  });
});
