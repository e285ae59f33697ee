/**
 * Pipeline function 2 of putItem / deleteItem, on primaryAppConfig (the app-config replica in the primary region):
 * in writeMode primary outside the primary, reads the primary's app state, which must allow the write writeGuard
 * decided on, since the primary's replica is the one written to; passes through otherwise (see items.ts).
 */
import { type Context } from '@aws-appsync/utils';
import { targetGuardRequest, targetGuardResponse } from './items';

export function request(ctx: Context) {
  return targetGuardRequest(ctx);
}

export function response(ctx: Context) {
  return targetGuardResponse(ctx);
}
