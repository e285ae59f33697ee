/** Query.getItem — unit resolver on localItems: reads the local replica (eventually consistent, like any read). */
import { type Context, util } from '@aws-appsync/utils';
import { BAD_INPUT, idProblem } from '../rules';

export function request(ctx: Context) {
  const id = ctx.args.id;
  const problem = idProblem(id);
  if (problem !== null) {
    util.error(problem, BAD_INPUT);
  }
  return { operation: 'GetItem', key: util.dynamodb.toMapValues({ id: id }) };
}

export function response(ctx: Context) {
  if (ctx.error) {
    util.error(ctx.error.message, ctx.error.type);
  }
  return ctx.result ?? null;
}
