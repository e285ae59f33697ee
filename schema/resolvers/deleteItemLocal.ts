/** Pipeline function of deleteItem on localItems: writes when the stashed decision targets 'local', else passes through. */
import { type Context } from '@aws-appsync/utils';
import { deleteRequest, deleteResponse } from './items';

export function request(ctx: Context) {
  return deleteRequest(ctx, 'local');
}

export function response(ctx: Context) {
  return deleteResponse(ctx);
}
