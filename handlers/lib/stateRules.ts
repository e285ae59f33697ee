/**
 * Who may change the app state, where, and when (issue 13 item 5), shared by the state updater (which enforces
 * it), `npm run state` (which picks the region by it) and the emulator's admin API.
 *
 * - One designated region per change, derived from stack config alone, so every updater agrees without talking to
 *   the others: `failover` is declared in the failover region (the first region in config order that is not the
 *   primary: failover is what one does when the primary is down), every other state (`fenced`, `active`) is set
 *   in the primary region. A single-region stack uses its only region for everything. Two operators changing the
 *   state to the same value therefore always go through the same replica, where the updater's version check
 *   orders them; only a failover declared while someone fences or activates through the primary can still race
 *   (two replicas, last writer wins), and the updater's read-back of every region shows it.
 * - A minimum time in `fenced` before `active` (MIN_FENCED_SECONDS, default 60 s, env STATE_MIN_FENCED_SECONDS):
 *   failing back goes failover → fenced → active, and `fenced` exists so that the writes taken outside the primary
 *   replicate back before the primary takes writes again. 60 s is many times the global table's typical
 *   replication lag (under a second) and short enough for a runbook; check ReplicationLatency before `active`.
 *
 * Environment (set by components/lambdaEnv.ts for the stateUpdater function):
 * | STATE_REGIONS              | the stack's regions, config order, comma-separated (required) |
 * | STATE_MIN_FENCED_SECONDS   | optional, default 60; 0 turns the wait off (the local emulator) |
 */
import { ConfigError } from './env';

export const DEFAULT_MIN_FENCED_SECONDS = 60;
export const MAX_MIN_FENCED_SECONDS = 3600;

export interface StateRules {
  /** The stack's regions, config order. */
  regions: readonly string[];
  primaryRegion: string;
  minFencedSeconds: number;
}

/** The region whose updater sets `newState`, and why (for messages). */
export function stateRegionFor(newState: string, regions: readonly string[], primaryRegion: string): { region: string; why: string } {
  if (newState !== 'failover') return { region: primaryRegion, why: `${newState} is set in the primary region ${primaryRegion}` };
  const other = regions.find((r) => r !== primaryRegion);
  if (other === undefined) return { region: primaryRegion, why: `failover is declared in the primary region ${primaryRegion}, the stack's only region` };
  return { region: other, why: `failover is declared in ${other}, the first of the stack's regions (${regions.join(', ')}) that is not the primary ${primaryRegion}` };
}

/** Reads STATE_REGIONS and STATE_MIN_FENCED_SECONDS; a missing or bad value is a ConfigError naming it. */
export function loadStateRules(env: Record<string, string | undefined>, primaryRegion: string): StateRules {
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
  return { regions, primaryRegion, minFencedSeconds };
}

/**
 * fenced → active too early: the message, or null when allowed. `fencedSince` is the stored item's updatedAt (the
 * time it became fenced); an item without a readable one is allowed (a hand-made item must stay repairable).
 */
export function fencedTooShort(fencedSince: string | undefined, now: Date, minFencedSeconds: number): string | null {
  if (minFencedSeconds <= 0 || !fencedSince) return null;
  const since = Date.parse(fencedSince);
  if (!Number.isFinite(since)) return null;
  const elapsedMs = now.getTime() - since;
  const minMs = minFencedSeconds * 1000;
  if (elapsedMs >= minMs) return null;
  const allowedAt = new Date(since + minMs).toISOString();
  return (
    `the state has been fenced for ${Math.max(0, Math.floor(elapsedMs / 1000))} s (since ${fencedSince}); active is allowed after ${minFencedSeconds} s in fenced ` +
    `(STATE_MIN_FENCED_SECONDS), so that writes taken elsewhere replicate back first: retry at ${allowedAt} or later; nothing was written`
  );
}
