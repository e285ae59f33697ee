/** Pipeline function of putItem / deleteItem on primaryItems: loads the item when the stashed decision targets 'primary', else passes through. */
import { type Context } from '@aws-appsync/utils';
import { loadRequest, loadResponse } from './items';

export function request(ctx: Context) {
  return loadRequest(ctx, 'primary');
}

export function response(ctx: Context) {
  return loadResponse(ctx);
}
