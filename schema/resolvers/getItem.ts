/**
 * Query.getItem — unit resolver on localItems: reads the local replica; eventually consistent, strongly consistent
 * with `consistency: strong` (multi-Region strong consistency: the newest write of any region).
 */
import { type Context, util } from '@aws-appsync/utils';
import { BAD_INPUT, idProblem } from '../rules';
import { SETTINGS } from './settings';

export function request(ctx: Context) {
  const id = ctx.args.id;
  const problem = idProblem(id);
  if (problem !== null) {
    util.error(problem, BAD_INPUT);
  }
  return { operation: 'GetItem', key: util.dynamodb.toMapValues({ id: id }), consistentRead: SETTINGS.consistency === 'strong' };
}

export function response(ctx: Context) {
  if (ctx.error) {
    util.error(ctx.error.message, ctx.error.type);
  }
  return ctx.result ?? null;
}
