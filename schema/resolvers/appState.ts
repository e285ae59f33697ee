/**
 * Query.appState — unit resolver on appConfig: the app-state item (APP_STATE_ID) and what it means here.
 * The item's attributes: state ('active' | 'fenced' | 'failover'), updatedAt, reason.
 * A missing item or an unknown state is reported as state `fenced`, writable false, with a reason saying so:
 * that is what decideWrite() does with it (writes fail closed), and AppState.state is a non-null enum.
 */
import { type Context, util } from '@aws-appsync/utils';
import { APP_STATE_ID, APP_STATES } from '../rules';
import { decideHere } from './decideHere';
import { SETTINGS } from './settings';

export function request() {
  return { operation: 'GetItem', key: util.dynamodb.toMapValues({ id: APP_STATE_ID }), consistentRead: true };
}

export function response(ctx: Context) {
  if (ctx.error) {
    util.error(ctx.error.message, ctx.error.type);
  }
  const item = ctx.result ?? null;
  const stored = item === null ? null : item.state;
  const decision = decideHere(item);
  const known = APP_STATES.indexOf(stored) >= 0;
  let reason = item === null ? null : (item.reason ?? null);
  if (!known) {
    reason = item === null ? 'app state item is missing: treated as fenced (writes fail closed)' : `app state ${JSON.stringify(stored)} is unknown: treated as fenced (writes fail closed)`;
  }
  return {
    state: known ? stored : 'fenced',
    region: SETTINGS.region,
    writeMode: SETTINGS.writeMode,
    primaryRegion: SETTINGS.primaryRegion,
    writable: decision.allowed,
    updatedAt: item === null ? null : (item.updatedAt ?? null),
    reason: reason,
  };
}
