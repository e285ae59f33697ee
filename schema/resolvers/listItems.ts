/**
 * Query.listItems — unit resolver on localItems: one Scan page of the local replica.
 * limit: omitted/null → DEFAULT_PAGE_SIZE; otherwise an integer 1..MAX_PAGE_SIZE, else BadInput.
 * nextToken: the opaque token of the previous page; a token the data source cannot use → BadInput.
 * Strongly consistent pages with `consistency: strong`, eventually consistent otherwise.
 * A Scan page may hold fewer than `limit` items and still carry a nextToken; clients page until it is null.
 */
import { type Context, util } from '@aws-appsync/utils';
import { BAD_INPUT, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../rules';
import { SETTINGS } from './settings';

const MAX_TOKEN_CHARS = 4096;

export function request(ctx: Context) {
  const limit = ctx.args.limit;
  const nextToken = ctx.args.nextToken;
  if (limit !== undefined && limit !== null && (limit < 1 || limit > MAX_PAGE_SIZE)) {
    util.error(`limit ${limit} is out of range: give 1 to ${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE})`, BAD_INPUT);
  }
  if (nextToken !== undefined && nextToken !== null && (nextToken.length === 0 || nextToken.length > MAX_TOKEN_CHARS)) {
    util.error('nextToken is invalid: pass the nextToken of the previous page unchanged', BAD_INPUT);
  }
  const req: { operation: 'Scan'; limit: number; consistentRead: boolean; nextToken?: string } = {
    operation: 'Scan',
    limit: limit ?? DEFAULT_PAGE_SIZE,
    consistentRead: SETTINGS.consistency === 'strong',
  };
  if (nextToken) {
    req.nextToken = nextToken;
  }
  return req;
}

export function response(ctx: Context) {
  if (ctx.error) {
    if (ctx.args.nextToken) {
      util.error(`nextToken is invalid: pass the nextToken of the previous page unchanged (${ctx.error.message})`, BAD_INPUT);
    }
    util.error(ctx.error.message, ctx.error.type);
  }
  return { items: ctx.result.items ?? [], nextToken: ctx.result.nextToken ?? null };
}
