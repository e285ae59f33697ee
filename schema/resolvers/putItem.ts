/** Mutation.putItem — pipeline: writeGuard → loadItemLocal → loadItemPrimary → putItemLocal → putItemPrimary (see items.ts, writeGuard.ts). */
import { type Context } from '@aws-appsync/utils';
import { checkPutInput, writeResult } from './items';

export function request(ctx: Context) {
  return checkPutInput(ctx);
}

export function response(ctx: Context) {
  return writeResult(ctx);
}
