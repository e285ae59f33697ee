import assert from 'node:assert/strict';
import { handler, stateUpdaterDeps, updateState, MAX_REASON_CHARS } from '../../handlers/stateUpdater';
import { APP_STATE_ID } from '../../schema/rules';
import { setEnv } from '../support/apigw';
import { EU, createTables, getItem, putItem, scan } from './helpers';

describe('state updater (direct invoke, DynamoDB Local)', () => {
  let tables: { items: string; appConfig: string };
  let restore: () => void = () => undefined;
  function env(extra: Record<string, string | undefined> = {}): void {
    restore();
    // a one-region stack (so every change is EU's) without the fenced dwell or the write bound: the rules have their own tests
    restore = setEnv({ AWS_REGION: EU, APP_CONFIG_TABLE: tables.appConfig, PRIMARY_REGION: EU, STATE_REGIONS: EU, STATE_MIN_FENCED_SECONDS: '0', STATE_WRITE_BOUND_MS: '0', ...extra });
  }
  beforeEach(async () => {
    tables = await createTables('updater');
    env();
  });
  afterEach(() => {
    restore();
    restore = () => undefined;
  });
  const stored = () => getItem(EU, tables.appConfig, APP_STATE_ID);

  it('creates the missing state item for a valid state, then moves it, recording who, when, why and from what', async () => {
    const first = await handler({ newState: 'active', reason: 'bootstrap' });
    assert.equal(first.ok, true, JSON.stringify(first));
    assert.ok(first.ok);
    assert.equal(first.changed, true);
    assert.equal(first.version, 1);
    assert.equal(first.previousState, null);
    assert.deepEqual(await stored(), {
      id: APP_STATE_ID,
      state: 'active',
      version: 1,
      updatedAt: first.updatedAt,
      reason: 'bootstrap',
      previousState: null,
      updatedRegion: EU,
    });

    const fenced = await handler({ newState: 'fenced', reason: '  incident 42  ' });
    assert.ok(fenced.ok);
    assert.deepEqual(
      { changed: fenced.changed, state: fenced.state, previousState: fenced.previousState, version: fenced.version, reason: fenced.reason },
      { changed: true, state: 'fenced', previousState: 'active', version: 2, reason: 'incident 42' },
    );
    const item = await stored();
    assert.equal(item?.state, 'fenced');
    assert.equal(item?.version, 2);
    assert.equal(item?.previousState, 'active');
  });

  it("accepts seed 003's NewState spelling", async () => {
    const res = await handler({ NewState: 'failover', Reason: 'primary region down' });
    assert.ok(res.ok, JSON.stringify(res));
    assert.equal((await stored())?.state, 'failover');
  });

  it('asking for the current state is a no-op answer and writes nothing', async () => {
    await handler({ newState: 'active', reason: 'bootstrap' });
    const before = await stored();
    const res = await handler({ newState: 'active', reason: 'again' });
    assert.ok(res.ok);
    assert.equal(res.changed, false);
    assert.equal(res.version, 1);
    assert.deepEqual(await stored(), before);
  });

  const badEvents: Array<[string, unknown, RegExp]> = [
    ['no newState', { reason: 'x' }, /newState is required: one of active, fenced, failover/],
    ['unknown state', { newState: 'paused', reason: 'x' }, /newState "paused" is not a state: allowed are active, fenced, failover/],
    ['wrong case', { newState: 'Active', reason: 'x' }, /newState "Active" is not a state.*case-sensitive/],
    ['a number', { newState: 1, reason: 'x' }, /newState 1 is not a state/],
    ['no reason', { newState: 'fenced' }, /reason is required/],
    ['empty reason', { newState: 'fenced', reason: '' }, /reason is required/],
    ['blank reason', { newState: 'fenced', reason: '   ' }, /reason is required/],
    ['reason not a string', { newState: 'fenced', reason: 42 }, /reason is required/],
    ['reason too long', { newState: 'fenced', reason: 'r'.repeat(MAX_REASON_CHARS + 1) }, /reason is 501 characters, over the limit of 500/],
    ['seed 003 AppId/TableName', { AppId: 'a', TableName: 't', NewState: 'fenced', reason: 'x' }, /unknown fields "AppId", "TableName"/],
    ['newState and NewState disagree', { newState: 'fenced', NewState: 'active', reason: 'x' }, /newState "fenced" and NewState "active" disagree/],
    ['a string event', 'fenced', /the event must be a JSON object/],
    ['a null event', null, /the event must be a JSON object/],
    ['an array event', ['fenced'], /the event must be a JSON object/],
  ];
  for (const [name, event, error] of badEvents) {
    it(`bad input: ${name} → BadInput, nothing written`, async () => {
      // once against a missing state item (nothing may be created), once against an existing one
      const missing = await handler(event);
      assert.deepEqual({ ok: missing.ok, errorType: !missing.ok && missing.errorType }, { ok: false, errorType: 'BadInput' });
      assert.ok(!missing.ok);
      assert.match(missing.error, error);
      assert.deepEqual(await scan(EU, tables.appConfig), []);
      await handler({ newState: 'active', reason: 'bootstrap' });
      const before = await scan(EU, tables.appConfig);
      const existing = await handler(event);
      assert.ok(!existing.ok);
      assert.match(existing.error, error);
      assert.deepEqual(await scan(EU, tables.appConfig), before);
    });
  }

  it('refuses failover → active (TransitionNotAllowed, nothing written, names the allowed next state); fails back through fenced', async () => {
    assert.ok((await handler({ newState: 'active', reason: 'bootstrap' })).ok);
    assert.ok((await handler({ newState: 'failover', reason: 'eu-west-1 down' })).ok);
    const before = await scan(EU, tables.appConfig);
    assert.equal((await stored())?.state, 'failover');

    const refused = await handler({ newState: 'active', reason: 'eu-west-1 back' });
    assert.ok(!refused.ok, JSON.stringify(refused));
    assert.equal(refused.errorType, 'TransitionNotAllowed');
    assert.match(refused.error, /moving from failover to active is not allowed: from failover the state can move to fenced \(fail back through fenced/);
    assert.match(refused.error, /nothing was written$/);
    assert.deepEqual(await scan(EU, tables.appConfig), before, 'the refused move must not write anything');

    const fenced = await handler({ newState: 'fenced', reason: 'fail back: stop writes while replication settles' });
    assert.ok(fenced.ok, JSON.stringify(fenced));
    assert.deepEqual({ state: fenced.state, previousState: fenced.previousState, version: fenced.version }, { state: 'fenced', previousState: 'failover', version: 3 });
    const active = await handler({ newState: 'active', reason: 'fail back: primary takes writes again' });
    assert.ok(active.ok, JSON.stringify(active));
    assert.deepEqual({ state: active.state, previousState: active.previousState, version: active.version }, { state: 'active', previousState: 'fenced', version: 4 });
    assert.deepEqual(
      { state: (await stored())?.state, previousState: (await stored())?.previousState, version: (await stored())?.version },
      { state: 'active', previousState: 'fenced', version: 4 },
    );
  });

  // The runbook rule spelled out independently of STATE_TRANSITIONS, so a vacuous table fails here.
  const RUNBOOK: Array<[string, string, 'moved' | 'no-op' | RegExp]> = [
    ['active', 'active', 'no-op'],
    ['active', 'fenced', 'moved'],
    ['active', 'failover', 'moved'],
    ['fenced', 'active', 'moved'],
    ['fenced', 'fenced', 'no-op'],
    ['fenced', 'failover', 'moved'],
    ['failover', 'active', /from failover the state can move to fenced \(/],
    ['failover', 'fenced', 'moved'],
    ['failover', 'failover', 'no-op'],
  ];
  for (const [from, to, expected] of RUNBOOK) {
    it(`runbook: ${from} → ${to} ${expected instanceof RegExp ? 'is refused' : expected === 'moved' ? 'moves' : 'is a no-op'}`, async () => {
      await putItem(EU, tables.appConfig, { id: APP_STATE_ID, state: from, version: 7, updatedAt: '2026-01-01T00:00:00.000Z', reason: 'seeded' });
      const before = await stored();
      const res = await handler({ newState: to, reason: 'runbook check' });
      if (expected instanceof RegExp) {
        assert.ok(!res.ok, JSON.stringify(res));
        assert.equal(res.errorType, 'TransitionNotAllowed');
        assert.match(res.error, expected);
        assert.deepEqual(await stored(), before);
      } else {
        assert.ok(res.ok, JSON.stringify(res));
        assert.equal(res.changed, expected === 'moved');
        assert.equal(res.version, expected === 'moved' ? 8 : 7);
        if (expected === 'no-op') assert.deepEqual(await stored(), before);
        else assert.deepEqual({ state: (await stored())?.state, previousState: (await stored())?.previousState }, { state: to, previousState: from });
      }
    });
  }

  it('takes the transition table from deps (refuses a move outside it and writes nothing)', async () => {
    await handler({ newState: 'active', reason: 'bootstrap' });
    const before = await stored();
    const deps = { ...stateUpdaterDeps(), transitions: { active: ['fenced'], fenced: ['active'], failover: ['fenced'] } };
    const res = await updateState({ newState: 'failover', reason: 'x' }, deps);
    assert.ok(!res.ok);
    assert.equal(res.errorType, 'TransitionNotAllowed');
    assert.match(res.error, /moving from active to failover is not allowed: from active the state can move to fenced; nothing was written/);
    assert.deepEqual(await stored(), before);
    const allowed = await updateState({ newState: 'fenced', reason: 'x' }, deps);
    assert.ok(allowed.ok);
  });

  it('a write refused by a replicated-write conflict (MRSC: another region writing the item at once) is retried, not lost; other errors are not', async () => {
    await handler({ newState: 'active', reason: 'bootstrap' });
    const real = stateUpdaterDeps();
    const conflict = () => Object.assign(new Error('the item is being modified by a request in another Region'), { name: 'ReplicatedWriteConflictException' });
    let calls = 0;
    const slept: number[] = [];
    const res = await updateState(
      { newState: 'fenced', reason: 'under write load' },
      { ...real, sleep: async (ms: number) => void slept.push(ms), write: async (...a: Parameters<typeof real.write>) => (++calls <= 2 ? Promise.reject(conflict()) : real.write(...a)) },
    );
    assert.ok(res.ok, JSON.stringify(res));
    assert.equal(calls, 3, 'two conflicts, then the write');
    assert.equal(slept.length, 2, 'a backoff before each retry');
    assert.equal((await stored())?.state, 'fenced');
    let denied = 0;
    const refused = await updateState(
      { newState: 'active', reason: 'x' },
      { ...real, write: async () => { denied += 1; throw Object.assign(new Error('no'), { name: 'AccessDeniedException' }); } },
    );
    assert.ok(!refused.ok);
    assert.equal(denied, 1, 'not retried');
    assert.equal((await stored())?.state, 'fenced');
  });

  it('replaces an unknown stored state (repair) with a version-guarded write', async () => {
    await putItem(EU, tables.appConfig, { id: APP_STATE_ID, state: 'paused', updatedAt: '2026-01-01T00:00:00.000Z', reason: 'hand-edited' });
    const res = await handler({ newState: 'fenced', reason: 'repair' });
    assert.ok(res.ok, JSON.stringify(res));
    assert.equal(res.previousState, 'paused');
    assert.equal((await stored())?.version, 1);
  });

  for (const start of ['missing', 'existing'] as const) {
    it(`two updaters racing in one region from the same version (${start} item): exactly one wins`, async () => {
      if (start === 'existing') await handler({ newState: 'active', reason: 'bootstrap' });
      const real = stateUpdaterDeps();
      // a barrier: neither writes before both have read, so both try to write on the same version
      let reads = 0;
      let release: () => void = () => undefined;
      const bothRead = new Promise<void>((r) => (release = r));
      const deps = {
        ...real,
        read: async () => {
          const s = await real.read();
          reads += 1;
          if (reads === 2) release();
          await bothRead;
          return s;
        },
      };
      const [a, b] = await Promise.all([
        updateState({ newState: 'fenced', reason: 'operator A' }, deps),
        updateState({ newState: 'failover', reason: 'operator B' }, deps),
      ]);
      const winners = [a, b].filter((r) => r.ok);
      const losers = [a, b].filter((r) => !r.ok);
      assert.equal(winners.length, 1, JSON.stringify([a, b]));
      assert.equal(losers.length, 1);
      const loser = losers[0];
      assert.ok(!loser.ok);
      assert.equal(loser.errorType, 'StateConflict');
      assert.match(loser.error, start === 'missing' ? /expected no state item/ : /expected version 1/);
      assert.match(loser.error, /another update in region eu-west-1 won/);
      const winner = winners[0];
      assert.ok(winner.ok);
      const item = await stored();
      assert.equal(item?.state, winner.state);
      assert.equal(item?.reason, winner.reason);
      assert.equal(item?.version, start === 'missing' ? 1 : 2);
    });
  }

  it('answers ConfigError when APP_CONFIG_TABLE is unset, Unavailable when the table is missing', async () => {
    env({ APP_CONFIG_TABLE: undefined });
    const unset = await handler({ newState: 'fenced', reason: 'x' });
    assert.ok(!unset.ok);
    assert.equal(unset.errorType, 'ConfigError');
    assert.match(unset.error, /APP_CONFIG_TABLE is not set/);
    env({ APP_CONFIG_TABLE: 'no-such-table' });
    const missing = await handler({ newState: 'fenced', reason: 'x' });
    assert.ok(!missing.ok);
    assert.equal(missing.errorType, 'Unavailable');
    assert.match(missing.error, /reading the app state failed \(ResourceNotFoundException\); nothing was written/);
  });
});
