/**
 * The state updater: invoked directly (Lambda Invoke, never public) by `npm run state` or an operator.
 *
 * Event: `{newState, reason}`; seed 003's `{NewState}` (and `Reason`) are accepted too. Any other field is
 * refused (the table comes from APP_CONFIG_TABLE, there is one app per stack, so seed 003's AppId/TableName
 * have no meaning here).
 * - newState must be one of APP_STATES; reason a non-empty string (after trimming) of at most 500 characters.
 * - The current state item is read strongly consistently from the local app-config replica; the move must be
 *   in STATE_TRANSITIONS (schema/rules.ts), the runbook rule: active → fenced | failover; fenced → active |
 *   failover; failover → fenced only (failing back goes failover → fenced → active, so writes stop everywhere
 *   while replication settles before the primary takes writes again). A refused move answers
 *   TransitionNotAllowed naming the states allowed from the current one. Asking for the current state is a
 *   no-op answer (changed: false), nothing written. A stored state that is not a known one can be replaced by
 *   any valid state (repair).
 * - The write is a PutItem conditional on the version it read (or on the item's absence), against the LOCAL
 *   replica. So of two updaters racing in the SAME region from the same version exactly one wins; the other
 *   answers StateConflict. Across regions this does not hold: each region's updater checks and writes its own
 *   replica of the global table, so updaters invoked in two regions at about the same time can both answer
 *   ok (often with the same version number), and global-table replication then keeps the last writer's item
 *   everywhere. Drive state changes through one region's updater at a time (`npm run state` picks one) and
 *   re-read the state (GET /state in each region) after changing it.
 * - A missing state item is created (version 1, previousState null) — only for a valid newState and reason.
 * - Stored: {id: APP_STATE_ID, state, version, updatedAt, reason, previousState, updatedRegion}.
 *
 * Answer (returned, never thrown, so the caller always gets JSON):
 *   `{ok: true, changed, state, previousState, version, updatedAt, reason, updatedRegion}` or
 *   `{ok: false, errorType, error}` with errorType BadInput | TransitionNotAllowed | StateConflict |
 *   Unavailable | ConfigError; nothing is written on any error.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { APP_STATE_ID, APP_STATES, BAD_INPUT, STATE_TRANSITIONS, type AppStateName } from '../schema/rules';
import { readAppState, type AppStateItem } from './lib/appState';
import { documentClient, errorName, isConditionFailed } from './lib/dynamo';
import { ConfigError, loadConfig } from './lib/env';

export const MAX_REASON_CHARS = 500;
export const TRANSITION_NOT_ALLOWED = 'TransitionNotAllowed';
export const STATE_CONFLICT = 'StateConflict';
const EVENT_FIELDS = ['newState', 'NewState', 'reason', 'Reason'];

export interface StateUpdateEvent {
  newState?: unknown;
  NewState?: unknown;
  reason?: unknown;
  Reason?: unknown;
}

export type StateUpdateAnswer =
  | {
      ok: true;
      changed: boolean;
      state: AppStateName;
      previousState: string | null;
      version: number;
      updatedAt: string;
      reason: string;
      updatedRegion: string;
    }
  | { ok: false; errorType: string; error: string };

export interface StoredState extends AppStateItem {
  id: string;
  state: string;
  version: number;
  updatedAt: string;
  reason: string;
  previousState: string | null;
  updatedRegion: string;
}

export interface StateUpdaterDeps {
  region: string;
  read(): Promise<AppStateItem | null>;
  /** Writes `item` only if the stored version is `ifVersion` (null = only if there is no item); false if not. */
  write(item: StoredState, ifVersion: number | null): Promise<boolean>;
  now(): Date;
  transitions?: Readonly<Record<string, readonly string[]>>;
}

const failure = (errorType: string, error: string): StateUpdateAnswer => ({ ok: false, errorType, error });

/** Validates the event; returns the new state and reason, or the problem. */
export function parseStateEvent(event: unknown): { newState: AppStateName; reason: string } | { problem: string } {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    return { problem: 'the event must be a JSON object {"newState": "active|fenced|failover", "reason": "..."}' };
  }
  const e = event as Record<string, unknown>;
  const unknown = Object.keys(e).filter((k) => !EVENT_FIELDS.includes(k));
  if (unknown.length > 0) {
    return { problem: `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')}: allowed are newState (or NewState) and reason` };
  }
  if (e.newState !== undefined && e.NewState !== undefined && e.newState !== e.NewState) {
    return { problem: `newState ${JSON.stringify(e.newState)} and NewState ${JSON.stringify(e.NewState)} disagree: give one` };
  }
  if (e.reason !== undefined && e.Reason !== undefined && e.reason !== e.Reason) {
    return { problem: 'reason and Reason disagree: give one' };
  }
  const newState = e.newState ?? e.NewState;
  if (newState === undefined || newState === null) return { problem: `newState is required: one of ${APP_STATES.join(', ')}` };
  if (typeof newState !== 'string' || !(APP_STATES as readonly string[]).includes(newState)) {
    return { problem: `newState ${JSON.stringify(newState)} is not a state: allowed are ${APP_STATES.join(', ')} (case-sensitive)` };
  }
  const reason = e.reason ?? e.Reason;
  if (typeof reason !== 'string' || reason.trim() === '') {
    return { problem: `reason is required: a non-empty string of at most ${MAX_REASON_CHARS} characters saying why the state changes` };
  }
  if (reason.length > MAX_REASON_CHARS) {
    return { problem: `reason is ${reason.length} characters, over the limit of ${MAX_REASON_CHARS}` };
  }
  return { newState: newState as AppStateName, reason: reason.trim() };
}

/** The pure core. */
export async function updateState(event: unknown, deps: StateUpdaterDeps): Promise<StateUpdateAnswer> {
  const parsed = parseStateEvent(event);
  if ('problem' in parsed) return failure(BAD_INPUT, parsed.problem);
  const { newState, reason } = parsed;

  let current: AppStateItem | null;
  try {
    current = await deps.read();
  } catch (err) {
    return failure('Unavailable', `reading the app state failed (${errorName(err)}); nothing was written`);
  }
  const transitions: Readonly<Record<string, readonly string[]>> = deps.transitions ?? STATE_TRANSITIONS;
  if (current && current.state === newState) {
    return {
      ok: true,
      changed: false,
      state: newState,
      previousState: current.previousState ?? null,
      version: current.version ?? 0,
      updatedAt: current.updatedAt ?? '',
      reason: current.reason ?? '',
      updatedRegion: current.updatedRegion ?? '',
    };
  }
  const allowed = current ? transitions[current.state] : undefined;
  if (current && allowed && !allowed.includes(newState)) {
    const failBack = current.state === 'failover' && newState === 'active' && allowed.includes('fenced');
    return failure(
      TRANSITION_NOT_ALLOWED,
      `moving from ${current.state} to ${newState} is not allowed: from ${current.state} the state can move to ${allowed.join(', ') || 'nothing'}` +
        (failBack ? ' (fail back through fenced: set fenced, let replication settle, then active)' : '') +
        '; nothing was written',
    );
  }
  const ifVersion = current ? (current.version ?? 0) : null;
  const item: StoredState = {
    id: APP_STATE_ID,
    state: newState,
    version: (ifVersion ?? 0) + 1,
    updatedAt: deps.now().toISOString(),
    reason,
    previousState: current ? current.state : null,
    updatedRegion: deps.region,
  };
  try {
    const won = await deps.write(item, ifVersion);
    if (!won) {
      return failure(
        STATE_CONFLICT,
        `the app state changed while updating it (expected ${ifVersion === null ? 'no state item' : `version ${ifVersion}`}): another update in region ${deps.region} won; re-read the state and retry. Nothing was written`,
      );
    }
  } catch (err) {
    return failure('Unavailable', `writing the app state failed (${errorName(err)})`);
  }
  const { id: _id, ...rest } = item;
  void _id;
  return { ok: true, changed: true, ...rest, state: newState };
}

export function stateUpdaterDeps(): StateUpdaterDeps {
  const cfg = loadConfig(['appConfigTable']);
  const doc = documentClient(cfg.region);
  return {
    region: cfg.region,
    read: () => readAppState(doc, cfg.appConfigTable),
    write: async (item, ifVersion) => {
      try {
        await doc.send(
          new PutCommand({
            TableName: cfg.appConfigTable,
            Item: { ...item },
            ...(ifVersion === null
              ? { ConditionExpression: 'attribute_not_exists(#id)', ExpressionAttributeNames: { '#id': 'id' } }
              : ifVersion === 0
                ? {
                    // a hand-made item without a (numeric) version: still guard on it having none
                    ConditionExpression: 'attribute_exists(#id) AND (attribute_not_exists(#version) OR #version = :zero)',
                    ExpressionAttributeNames: { '#id': 'id', '#version': 'version' },
                    ExpressionAttributeValues: { ':zero': 0 },
                  }
                : {
                    ConditionExpression: '#version = :v',
                    ExpressionAttributeNames: { '#version': 'version' },
                    ExpressionAttributeValues: { ':v': ifVersion },
                  }),
          }),
        );
        return true;
      } catch (err) {
        if (isConditionFailed(err)) return false;
        throw err;
      }
    },
    now: () => new Date(),
  };
}

export async function handler(event: unknown): Promise<StateUpdateAnswer> {
  let deps: StateUpdaterDeps;
  try {
    deps = stateUpdaterDeps();
  } catch (err) {
    if (err instanceof ConfigError) return failure('ConfigError', `the function is misconfigured: ${err.message}`);
    throw err;
  }
  const answer = await updateState(event, deps);
  console.log(JSON.stringify({ stateUpdate: answer }));
  return answer;
}
