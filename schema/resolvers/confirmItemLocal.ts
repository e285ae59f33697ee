/** Pipeline function of putItem / deleteItem on localItems: after a failed local write, reads the item back (see items.ts); else passes through. */
import { type Context } from '@aws-appsync/utils';
import { confirmRequest, confirmResponse } from './items';

export function request(ctx: Context) {
  return confirmRequest(ctx, 'local');
}

export function response(ctx: Context) {
  return confirmResponse(ctx);
}
