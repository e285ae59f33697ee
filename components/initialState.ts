/**
 * The app-state item a new stack starts with, in DynamoDB JSON: written once by `pulumi up` (components/appState.ts,
 * as an aws.dynamodb.TableItem) and by the local emulator when it creates its tables, so both start from the very
 * same item. No @pulumi imports (the emulator loads it).
 */
import { APP_STATE_ID } from '../schema/rules';
import { HASH_KEY } from '../schema/tables';

export const INITIAL_STATE_REASON = 'initial state, written by pulumi up when the stack was created';

/** `{id, state: active, updatedAt, reason, version: 1}`; updatedAt is midnight UTC of `now`: stable within a day. */
export function initialStateItem(now: Date): Record<string, { S: string } | { N: string }> {
  return {
    [HASH_KEY]: { S: APP_STATE_ID },
    state: { S: 'active' },
    updatedAt: { S: new Date(Math.floor(now.getTime() / 86_400_000) * 86_400_000).toISOString() },
    reason: { S: INITIAL_STATE_REASON },
    version: { N: '1' },
  };
}
