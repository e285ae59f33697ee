/**
 * `stateCacheMs`: how long an items function container reuses its strongly consistent read of the app state
 * (handlers/lib/stateCache.ts), in milliseconds. Default 1000. It trades state reads for the write bound: each
 * container reads the state item at most once per stateCacheMs whatever its write rate, and a fence reaches every
 * container at most stateCacheMs after it is visible; the bound (schema/rules.ts writeBoundMs) is stateCacheMs +
 * the items function's timeout, or AppSync's 30 s request limit when that is longer. 0 reads the state on every
 * write. Pure (no @pulumi imports).
 */
import { DEFAULT_STATE_CACHE_MS, MAX_STATE_CACHE_MS } from '../schema/rules';
import { type ConfigProblem, show } from './problems';

export function parseStateCacheMs(raw: string | undefined, problems: ConfigProblem[]): number {
  if (raw === undefined || raw.trim() === '') return DEFAULT_STATE_CACHE_MS;
  const n = Number(raw.trim());
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n > MAX_STATE_CACHE_MS) {
    problems.push({
      key: 'stateCacheMs',
      value: show(raw),
      allowed: `a whole number of milliseconds from 0 to ${MAX_STATE_CACHE_MS} (default ${DEFAULT_STATE_CACHE_MS}): how long an items container reuses its app state read; the write bound grows with it (README, "Fence and replication windows")`,
    });
    return DEFAULT_STATE_CACHE_MS;
  }
  return n;
}
