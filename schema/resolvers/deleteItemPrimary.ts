/** Pipeline function of deleteItem on primaryItems: writes when the stashed decision targets 'primary', else passes through. */
import { type Context } from '@aws-appsync/utils';
import { deleteRequest, deleteResponse } from './items';

export function request(ctx: Context) {
  return deleteRequest(ctx, 'primary');
}

export function response(ctx: Context) {
  return deleteResponse(ctx);
}
