/** Pipeline function of putItem on primaryItems: writes when the stashed decision targets 'primary', else passes through. */
import { type Context } from '@aws-appsync/utils';
import { putRequest, putResponse } from './items';

export function request(ctx: Context) {
  return putRequest(ctx, 'primary');
}

export function response(ctx: Context) {
  return putResponse(ctx);
}
