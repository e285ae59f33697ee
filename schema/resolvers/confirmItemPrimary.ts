/** Pipeline function of putItem / deleteItem on primaryItems: after a failed write to the primary, reads the item back (see items.ts); else passes through. */
import { type Context } from '@aws-appsync/utils';
import { confirmRequest, confirmResponse } from './items';

export function request(ctx: Context) {
  return confirmRequest(ctx, 'primary');
}

export function response(ctx: Context) {
  return confirmResponse(ctx);
}
