/**
 * Mutation.publishItemChange — unit resolver on the NONE data source, called only by the notifier (IAM): returns
 * its input as the ItemChange, so AppSync fans it out to onItemChange subscribers. Checks id and kind (and the
 * nested item's id, when given, must be the same id).
 */
import { type Context, util } from '@aws-appsync/utils';
import { BAD_INPUT, idProblem } from '../rules';

const KINDS = ['CREATED', 'UPDATED', 'DELETED'];

export function request(ctx: Context) {
  const input = ctx.args.input ?? {};
  const problem = idProblem(input.id);
  if (problem !== null) {
    util.error(problem, BAD_INPUT);
  }
  if (KINDS.indexOf(input.kind) < 0) {
    util.error(`kind ${JSON.stringify(input.kind)} is invalid: one of ${KINDS.join(', ')}`, BAD_INPUT);
  }
  if (input.item && input.item.id !== input.id) {
    util.error(`item.id ${JSON.stringify(input.item.id)} differs from id ${JSON.stringify(input.id)}`, BAD_INPUT);
  }
  return { payload: input };
}

export function response(ctx: Context) {
  return ctx.result;
}
