/**
 * Pipeline function 1 of putItem / deleteItem, on appConfig: reads the app state (consistent read, in the same
 * pipeline as the write, which bounds how late a write can follow a fence: writeBoundMs in schema/rules.ts) and
 * applies the write rule table (docs/architecture.md, "Write rules"; decideWrite in schema/rules.ts). A rejected
 * write ends the pipeline here with util.error(message, WriteFenced | WriteRejectedInPrimary | StateChanging, the
 * last with errorInfo {retryable, retryAfterS}): no write function runs, nothing is written.
 * An allowed decision is stashed as ctx.stash.decision ({target: 'local' | 'primary', targetRegion}) for the write
 * functions, each of which runs only when the target is its own data source.
 */
import { type Context, util } from '@aws-appsync/utils';
import { APP_STATE_ID } from '../rules';
import { decideHere } from './decideHere';

export function request() {
  return { operation: 'GetItem', key: util.dynamodb.toMapValues({ id: APP_STATE_ID }), consistentRead: true };
}

export function response(ctx: Context) {
  if (ctx.error) {
    util.error(`app state could not be read, so the write was not attempted: ${ctx.error.message}`, ctx.error.type);
  }
  const decision = decideHere(ctx.result ? ctx.result : null);
  if (!decision.allowed) {
    util.error(decision.message, decision.errorType, null, typeof decision.retryAfterS === 'number' ? { retryable: true, retryAfterS: decision.retryAfterS } : null);
  }
  ctx.stash.decision = decision;
  return decision;
}
