/**
 * Which region's state updater a state change goes through when the caller names none: the same rule for
 * `npm run state` against AWS (scripts/state.ts) and for the emulator's admin API (local/drills.ts), so both
 * pick the region the updater itself insists on (handlers/lib/stateRules.ts) and say why.
 */
import { stateRegionFor } from '../handlers/lib/stateRules';

/** The stack's regions and primary region, as config/ validated them. */
export interface StackInfo {
  regions: readonly string[];
  primaryRegion: string;
}

/**
 * The region whose updater to invoke when --region is not given, and why. `failover` is declared when the
 * primary is likely down, so it goes to the first other region; everything else to the primary.
 */
export function defaultRegion(newState: string, stack: string, info: StackInfo): { region: string; why: string } {
  const designated = stateRegionFor(newState, info.regions, info.primaryRegion).region;
  if (newState !== 'failover') {
    return { region: designated, why: `stack ${stack}'s primaryRegion, where ${newState} is set (the updater refuses it elsewhere)` };
  }
  const other = designated === info.primaryRegion ? undefined : designated;
  if (other === undefined) {
    return {
      region: info.primaryRegion,
      why: `note: stack ${stack} has only one region, so failover goes through the primary ${info.primaryRegion}'s updater (there is no other region to fail over to)`,
    };
  }
  return {
    region: other,
    why: `failover goes through the first of stack ${stack}'s regions (${info.regions.join(', ')}) that is not the primary ${info.primaryRegion}, which is likely the region that is down (the updater refuses it elsewhere)`,
  };
}
