/** Mutation.putItem — pipeline: writeGuard → targetGuard → loadItemLocal → loadItemPrimary → putItemLocal → putItemPrimary → confirmItemLocal → confirmItemPrimary (see items.ts, writeGuard.ts). */
import { type Context } from '@aws-appsync/utils';
import { checkPutInput, writeResult } from './items';

export function request(ctx: Context) {
  return checkPutInput(ctx);
}

export function response(ctx: Context) {
  return writeResult(ctx);
}
