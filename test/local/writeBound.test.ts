/**
 * The emulator's write bound (local/writeBound.ts): AWS's 30 s by default; a shorter bound B scales the request
 * limits it is made of — AppSync requests end at B, the items function at B − stateCacheMs (never above its
 * deployed 10 s) — and the state updaters' STATE_WRITE_BOUND_MS, computed from those limits by
 * components/lambdaEnv.ts as for the deployed functions, is B. Out-of-range bounds are refused, naming the value.
 */
import assert from 'node:assert/strict';
import { lambdaEnvironments } from '../../components/lambdaEnv';
import { describeWriteBound, emulatedWriteBound, WriteBoundError } from '../../local/writeBound';

/** STATE_WRITE_BOUND_MS as the state updater gets it, with these limits and cache. */
function updaterBound(stateCacheMs: number, limits?: { itemsTimeoutMs: number; graphqlRequestLimitMs: number }): number {
  const env = lambdaEnvironments<string>({ itemsTable: 'items', appConfigTable: 'app-config', primaryRegion: 'eu-west-1', writeMode: 'multi-master', graphqlUrl: '', stateCacheMs, requestLimits: limits });
  return Number(env.stateUpdater.STATE_WRITE_BOUND_MS);
}

describe('the emulator\'s write bound (local/writeBound.ts)', () => {
  it('is AWS\'s by default: AppSync\'s 30 s, the items function\'s deployed 10 s, the bound the deployed updater gets', () => {
    const b = emulatedWriteBound(undefined, 1000);
    assert.deepEqual(b, { boundMs: 30_000, awsBoundMs: 30_000, graphqlRequestLimitMs: 30_000, itemsTimeoutMs: 10_000, stateCacheMs: 1000 });
    assert.equal(updaterBound(1000, b), 30_000);
    assert.equal(updaterBound(1000), 30_000, 'as deployed (no limits given)');
    assert.equal(describeWriteBound(b), 'write bound 30 s (as in AWS): GraphQL requests end at 30 s, the items function at 10 s');
    // the largest cache leaves the bound at AppSync's 30 s (10 s + 10 s < 30 s)
    assert.equal(emulatedWriteBound(undefined, 10_000).boundMs, 30_000);
  });

  it('scaled: AppSync requests end at B, the items function at B − stateCacheMs (at most 10 s), and the updater waits out B', () => {
    const cases: Array<[bound: number, cache: number, items: number, says: string]> = [
      [5000, 1000, 4000, 'write bound 5 s (AWS: 30 s, scaled 1:6): GraphQL requests end at 5 s, the items function at 4 s'],
      [4000, 1000, 3000, 'write bound 4 s (AWS: 30 s, scaled 1:7.5): GraphQL requests end at 4 s, the items function at 3 s'],
      [3000, 1000, 2000, 'write bound 3 s (AWS: 30 s, scaled 1:10): GraphQL requests end at 3 s, the items function at 2 s'],
      [12_000, 0, 10_000, 'write bound 12 s (AWS: 30 s, scaled 1:2.5): GraphQL requests end at 12 s, the items function at 10 s'],
      [15_000, 10_000, 5000, 'write bound 15 s (AWS: 30 s, scaled 1:2): GraphQL requests end at 15 s, the items function at 5 s'],
      [30_000, 1000, 10_000, 'write bound 30 s (as in AWS): GraphQL requests end at 30 s, the items function at 10 s'],
    ];
    for (const [bound, cache, items, says] of cases) {
      const b = emulatedWriteBound(bound, cache);
      assert.deepEqual([b.boundMs, b.graphqlRequestLimitMs, b.itemsTimeoutMs], [bound, bound, items], `${bound} ms, stateCacheMs ${cache}`);
      assert.equal(updaterBound(cache, b), bound, `the updater's bound for ${bound} ms, stateCacheMs ${cache}`);
      assert.equal(describeWriteBound(b), says);
    }
    // every bound the emulator accepts: the updater's bound, computed from the enforced limits, is that bound
    for (const cache of [0, 1000, 2500, 10_000]) {
      for (let bound = cache + 2000; bound <= 30_000; bound += 250) assert.equal(updaterBound(cache, emulatedWriteBound(bound, cache)), bound, `${bound} ms, stateCacheMs ${cache}`);
    }
  });

  it('refuses a bound under stateCacheMs + 2 s, over 30 s or not a whole number of ms, naming it', () => {
    const refused = (bound: number, cache: number, what?: string) => {
      try {
        emulatedWriteBound(bound, cache, what);
      } catch (err) {
        assert.ok(err instanceof WriteBoundError, String(err));
        return err.message;
      }
      return assert.fail(`${bound} ms was accepted`);
    };
    assert.equal(refused(2999, 1000), 'writeBoundMs 2999: a whole number of milliseconds from 3000 (stateCacheMs 1000 + 2000 for the items function) to 30000 (AWS\'s bound)');
    assert.equal(refused(4999, 3000), 'writeBoundMs 4999: a whole number of milliseconds from 5000 (stateCacheMs 3000 + 2000 for the items function) to 30000 (AWS\'s bound)');
    for (const bad of [30_001, 4500.5, Number.NaN, 0, -5000]) assert.match(refused(bad, 1000), new RegExp(`^writeBoundMs ${String(bad).replace('.', '\\.')}: a whole number of milliseconds from 3000 `));
    assert.match(refused(60_000, 1000, '--write-bound'), /^--write-bound 60000: /);
  });
});
