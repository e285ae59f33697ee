/**
 * The write rule table (decideWrite in schema/rules.ts) applied in this region, to an app-state item as read (null:
 * there is none), at AppSync's clock: what writeGuard, targetGuard and Query.appState each decide from the item they
 * read, so the three cannot drift apart. Bundled into each resolver that uses it, with that region's SETTINGS.
 */
import { util } from '@aws-appsync/utils';
import { decideWrite, type WriteDecision } from '../rules';
import { SETTINGS } from './settings';

export function decideHere(item: { state?: string | null; writesFromMs?: number | null } | null): WriteDecision {
  return decideWrite({
    state: item === null ? null : item.state,
    writesFromMs: item === null ? null : item.writesFromMs,
    nowMs: util.time.nowEpochMilliSeconds(),
    writeMode: SETTINGS.writeMode,
    region: SETTINGS.region,
    primaryRegion: SETTINGS.primaryRegion,
  });
}
