/** Mutation.deleteItem — pipeline: writeGuard → loadItemLocal → loadItemPrimary → deleteItemLocal → deleteItemPrimary (see items.ts, writeGuard.ts). */
import { type Context } from '@aws-appsync/utils';
import { checkDeleteInput, writeResult } from './items';

export function request(ctx: Context) {
  return checkDeleteInput(ctx);
}

export function response(ctx: Context) {
  return writeResult(ctx);
}
