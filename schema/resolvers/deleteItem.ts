/** Mutation.deleteItem — pipeline: writeGuard → targetGuard → loadItemLocal → loadItemPrimary → deleteItemLocal → deleteItemPrimary → confirmItemLocal → confirmItemPrimary (see items.ts, writeGuard.ts). */
import { type Context } from '@aws-appsync/utils';
import { checkDeleteInput, writeResult } from './items';

export function request(ctx: Context) {
  return checkDeleteInput(ctx);
}

export function response(ctx: Context) {
  return writeResult(ctx);
}
