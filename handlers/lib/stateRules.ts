/**
 * Who may change the app state, where, and when, shared by the state updater (which enforces it), `npm run state`
 * (which picks the region by it) and the emulator's admin API.
 *
 * - One designated region per change, derived from stack config alone, so every updater agrees without talking to
 *   the others: `failover` is declared in the failover region (the first region in config order that is not the
 *   primary: failover is what one does when the primary is down), every other state (`fenced`, `active`) is set
 *   in the primary region. A single-region stack uses its only region for everything. Two operators changing the
 *   state to the same value therefore always go through the same replica, where the updater's version check
 *   orders them; only a failover declared while someone fences or activates through the primary can still race
 *   (two replicas, last writer wins), and the updater's read-back of every region shows it.
 * - The write bound (STATE_WRITE_BOUND_MS, schema/rules.ts writeBoundMs; 30 s as deployed by default): a write
 *   that read the state before a change can still commit up to that long after the change is visible. So:
 *   - `fenced → active` needs the state to have been fenced for the larger of MIN_FENCED_SECONDS (default 60 s,
 *     env STATE_MIN_FENCED_SECONDS) and the bound: failing back goes failover → fenced → active, and `fenced`
 *     exists so that the writes taken outside the primary commit and replicate back before the primary takes
 *     writes again. 60 s is many times the global table's typical replication lag (under a second) and short
 *     enough for a runbook; check ReplicationLatency before `active`.
 *   - a `failover` that makes regions write locally that wrote to the primary before (writeMode primary) stores
 *     `writesFromMs`: those regions refuse writes (StateChanging) until the writes that read the previous state
 *     have committed — the bound after the change (from `active`), or after the fence (from `fenced`).
 *
 * Environment (set by components/lambdaEnv.ts for the stateUpdater function):
 * | STATE_REGIONS              | the stack's regions, config order, comma-separated (required) |
 * | STATE_MIN_FENCED_SECONDS   | optional, default 60; 0 leaves only the write bound (the local emulator) |
 * | STATE_WRITE_BOUND_MS       | optional, default 30000 (the bound for the longest REST request the handler's budget allows) |
 */
import { DEFAULT_STATE_CACHE_MS, REQUEST_WORK_CAP_MS, writeBoundMs, type WriteMode } from '../../schema/rules';
import type { AppStateItem } from './appState';
import { ConfigError } from './env';

export const DEFAULT_MIN_FENCED_SECONDS = 60;
export const MAX_MIN_FENCED_SECONDS = 3600;
/** Without STATE_WRITE_BOUND_MS: the bound of the longest REST request the handler's budget allows, with the default cache. */
export const DEFAULT_WRITE_BOUND_MS = writeBoundMs(DEFAULT_STATE_CACHE_MS, REQUEST_WORK_CAP_MS);
export const MAX_WRITE_BOUND_MS = 600_000;

export interface StateRules {
  /** The stack's regions, config order. */
  regions: readonly string[];
  primaryRegion: string;
  minFencedSeconds: number;
  /** The write bound (schema/rules.ts writeBoundMs) of this deployment. */
  writeBoundMs: number;
  writeMode: WriteMode;
}

/** The region whose updater sets `newState`, and why (for messages). */
export function stateRegionFor(newState: string, regions: readonly string[], primaryRegion: string): { region: string; why: string } {
  if (newState !== 'failover') return { region: primaryRegion, why: `${newState} is set in the primary region ${primaryRegion}` };
  const other = regions.find((r) => r !== primaryRegion);
  if (other === undefined) return { region: primaryRegion, why: `failover is declared in the primary region ${primaryRegion}, the stack's only region` };
  return { region: other, why: `failover is declared in ${other}, the first of the stack's regions (${regions.join(', ')}) that is not the primary ${primaryRegion}` };
}

/** Reads STATE_REGIONS, STATE_MIN_FENCED_SECONDS and STATE_WRITE_BOUND_MS; a missing or bad value is a ConfigError naming it. */
export function loadStateRules(env: Record<string, string | undefined>, primaryRegion: string, writeMode: WriteMode = 'multi-master'): StateRules {
  const raw = (env.STATE_REGIONS ?? '').trim();
  if (raw === '') throw new ConfigError('environment variable STATE_REGIONS is not set (the stack regions, comma-separated)');
  const regions = raw.split(',').map((r) => r.trim());
  if (regions.some((r) => !/^[a-z]{2}(-[a-z]+)+-\d$/.test(r))) throw new ConfigError(`environment variable STATE_REGIONS is ${JSON.stringify(raw)}: allowed is a comma-separated list of AWS regions`);
  if (!regions.includes(primaryRegion)) throw new ConfigError(`environment variable STATE_REGIONS (${raw}) does not list PRIMARY_REGION ${primaryRegion}`);
  const minRaw = (env.STATE_MIN_FENCED_SECONDS ?? '').trim();
  let minFencedSeconds = DEFAULT_MIN_FENCED_SECONDS;
  if (minRaw !== '') {
    minFencedSeconds = Number(minRaw);
    if (!Number.isInteger(minFencedSeconds) || minFencedSeconds < 0 || minFencedSeconds > MAX_MIN_FENCED_SECONDS) {
      throw new ConfigError(`environment variable STATE_MIN_FENCED_SECONDS is ${JSON.stringify(minRaw)}: allowed is an integer from 0 to ${MAX_MIN_FENCED_SECONDS}`);
    }
  }
  const boundRaw = (env.STATE_WRITE_BOUND_MS ?? '').trim();
  let bound = DEFAULT_WRITE_BOUND_MS;
  if (boundRaw !== '') {
    bound = Number(boundRaw);
    if (!Number.isInteger(bound) || bound < 0 || bound > MAX_WRITE_BOUND_MS) {
      throw new ConfigError(`environment variable STATE_WRITE_BOUND_MS is ${JSON.stringify(boundRaw.slice(0, 40))}: allowed is an integer from 0 to ${MAX_WRITE_BOUND_MS}`);
    }
  }
  return { regions, primaryRegion, minFencedSeconds, writeBoundMs: bound, writeMode };
}

/**
 * The `writesFromMs` of a new `failover` item (see the header), or null when no region starts writing locally that
 * did not before: multi-master regions write locally in `active` already, and a fence older than the bound has
 * nothing left in flight.
 */
export function failoverWritesFrom(current: AppStateItem | null, rules: Pick<StateRules, 'writeMode' | 'writeBoundMs'>, nowMs: number): number | null {
  if (rules.writeMode !== 'primary' || !current) return null;
  if (current.state === 'active') return nowMs + rules.writeBoundMs;
  if (current.state === 'fenced') {
    const since = current.updatedAt ? Date.parse(current.updatedAt) : NaN;
    const from = (Number.isFinite(since) ? since : nowMs) + rules.writeBoundMs;
    return from > nowMs ? from : null;
  }
  return null;
}

/**
 * fenced → active too early: the message, or null when allowed. `fencedSince` is the stored item's updatedAt (the
 * time it became fenced); an item without a readable one is allowed (a hand-made item must stay repairable). The
 * dwell is the larger of minFencedSeconds and the write bound.
 */
export function fencedTooShort(fencedSince: string | undefined, now: Date, minFencedSeconds: number, writeBoundMs = 0): string | null {
  const minMs = Math.max(minFencedSeconds * 1000, writeBoundMs);
  if (minMs <= 0 || !fencedSince) return null;
  const since = Date.parse(fencedSince);
  if (!Number.isFinite(since)) return null;
  const elapsedMs = now.getTime() - since;
  if (elapsedMs >= minMs) return null;
  const allowedAt = new Date(since + minMs).toISOString();
  const why =
    writeBoundMs >= minFencedSeconds * 1000
      ? `the write bound of ${writeBoundMs / 1000} s: writes that read the state before the fence may commit until then`
      : 'STATE_MIN_FENCED_SECONDS, so that writes taken elsewhere replicate back first';
  return (
    `the state has been fenced for ${Math.max(0, Math.floor(elapsedMs / 1000))} s (since ${fencedSince}); active is allowed after ${minMs / 1000} s in fenced ` +
    `(${why}): retry at ${allowedAt} or later; nothing was written`
  );
}
