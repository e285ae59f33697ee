/** Pipeline function of putItem / deleteItem on localItems: loads the item when the stashed decision targets 'local', else passes through. */
import { type Context } from '@aws-appsync/utils';
import { loadRequest, loadResponse } from './items';

export function request(ctx: Context) {
  return loadRequest(ctx, 'local');
}

export function response(ctx: Context) {
  return loadResponse(ctx);
}
