/** Pipeline function of putItem on localItems: writes when the stashed decision targets 'local', else passes through. */
import { type Context } from '@aws-appsync/utils';
import { putRequest, putResponse } from './items';

export function request(ctx: Context) {
  return putRequest(ctx, 'local');
}

export function response(ctx: Context) {
  return putResponse(ctx);
}
