/**
 * The state updater: invoked directly (Lambda Invoke, never public) by `npm run state` or an operator.
 *
 * Event: `{newState, reason}`; the capitalised `{NewState}` (and `Reason`) are accepted too. Any other field is
 * refused, AppId and TableName included (the table comes from APP_CONFIG_TABLE and there is one app per stack,
 * so neither has a meaning here).
 * - newState must be one of APP_STATES; reason a non-empty string (after trimming) of at most 500 characters.
 * - The current state item is read strongly consistently from the local app-config replica; the move must be
 *   in STATE_TRANSITIONS (schema/rules.ts), the runbook rule: active → fenced | failover; fenced → active |
 *   failover; failover → fenced only (failing back goes failover → fenced → active, so writes stop everywhere
 *   while replication settles before the primary takes writes again). A refused move answers
 *   TransitionNotAllowed naming the states allowed from the current one. Asking for the current state is a
 *   no-op answer (changed: false), nothing written. A stored state that is not a known one can be replaced by
 *   any valid state (repair).
 * - Where and when (handlers/lib/stateRules.ts): each change has ONE designated region, from config alone —
 *   `failover` is declared in the failover region (the first region that is not the primary), every other state is
 *   set in the primary — and an updater refuses a change that is not its region's (NotStateRegion, naming the
 *   region to use). fenced → active also needs the larger of STATE_MIN_FENCED_SECONDS (default 60) and the write
 *   bound (STATE_WRITE_BOUND_MS) in fenced (FencedTooShort, naming when it becomes allowed). A failover that makes
 *   regions write locally which wrote to the primary before (writeMode primary) stores `writesFromMs`, the moment
 *   those regions start taking writes (stateRules.ts failoverWritesFrom).
 * - The write is a PutItem conditional on the version it read (or on the item's absence), against the LOCAL
 *   replica. So of two updaters racing in the same region from the same version exactly one wins; the other
 *   answers StateConflict. With the region rule, two changes to the same state always race in one region; a
 *   failover declared while the primary fences or activates still writes two replicas (last writer wins), which
 *   the read-back shows.
 * - Takeover: when the designated region is down (say the primary and the failover region both are), an event
 *   with `takeover: "<why>"` lets another region's updater make the change, but only if the designated region's
 *   replica cannot be reached from here (probed with one GetItem: a timeout, a connection error or a 5xx server
 *   error after the SDK's retries, see probeOutcome); the stored item records {takeover: {from, why, probe}}. A
 *   designated region that answers the read, or answers a 4xx error such as ThrottlingException or
 *   AccessDeniedException, refuses the takeover (NotStateRegion, saying what it answered).
 * - Read-back: after a change the updater reads the state item from EVERY region's replica (consistent reads, each
 *   region's own replica; a global table cannot be read strongly across regions) until every region shows the new
 *   version or the read-back budget (READBACK_MS, and the invocation's remaining time) runs out, and answers what
 *   each region sees: `readBack: {converged, waitedMs, regions: {<region>: {state, version, updatedAt,
 *   updatedRegion} | {error}}, raced?}`.
 * - Time: the whole invocation's work is capped by context.getRemainingTimeInMillis() (minus SAFETY_MS); each
 *   DynamoDB call gets at most CALL_TIMEOUT_MS and never more than what is left. A write that times out may or
 *   may not be stored: the answer says so (Unavailable), and the next read tells.
 * - A missing state item is created (version 1, previousState null) — only for a valid newState and reason.
 * - Stored: {id: APP_STATE_ID, state, version, updatedAt, reason, previousState, updatedRegion, writesFromMs?}.
 *
 * Answer (returned, never thrown, so the caller always gets JSON):
 *   `{ok: true, changed, state, previousState, version, updatedAt, reason, updatedRegion, writesFromMs?}` or
 *   `{ok: false, errorType, error}` with errorType BadInput | TransitionNotAllowed | NotStateRegion |
 *   FencedTooShort | StateConflict | Unavailable | ConfigError; nothing is written on any error (but a timed-out
 *   write, which says so).
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { APP_STATE_ID, APP_STATES, BAD_INPUT, STATE_TRANSITIONS, type AppStateName } from '../schema/rules';
import { readAppState, type AppStateItem } from './lib/appState';
import { documentClient, errorName, isConditionFailed } from './lib/dynamo';
import { ConfigError, loadConfig } from './lib/env';
import { failoverWritesFrom, fencedTooShort, loadStateRules, stateRegionFor, type StateRules } from './lib/stateRules';
import { backoffMs } from './lib/budget';
import { isRetryableConflict } from './lib/errors';

export const MAX_REASON_CHARS = 500;
export const TRANSITION_NOT_ALLOWED = 'TransitionNotAllowed';
export const STATE_CONFLICT = 'StateConflict';
export const NOT_STATE_REGION = 'NotStateRegion';
export const FENCED_TOO_SHORT = 'FencedTooShort';
/** How long the read-back waits for every region to show the change (replication is typically under a second). */
export const READBACK_MS = 5000;
/** Kept free of the invocation's remaining time, to answer (and log) before Lambda's timeout. */
export const SAFETY_MS = 500;
/** The most one DynamoDB call may take. */
export const CALL_TIMEOUT_MS = 2000;
/** Below this much time left the updater does not start a change at all. */
export const MIN_START_MS = 1000;
const READBACK_POLL_MS = 200;
const EVENT_FIELDS = ['newState', 'NewState', 'reason', 'Reason', 'takeover'];

export interface StateUpdateEvent {
  newState?: unknown;
  NewState?: unknown;
  reason?: unknown;
  Reason?: unknown;
  /** Why the change's designated region cannot be used (see "Takeover" in the header). */
  takeover?: unknown;
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
      /** failover: when the regions newly writing locally start taking writes (epoch ms), see stateRules.ts */
      writesFromMs?: number;
      /** What each region's replica shows after the change (absent for a no-op). */
      readBack?: ReadBack;
    }
  | { ok: false; errorType: string; error: string };

export type RegionView = { state: string; version: number | null; updatedAt: string | null; updatedRegion: string | null } | { error: string };

export interface ReadBack {
  /** Every region shows this change. */
  converged: boolean;
  waitedMs: number;
  regions: Record<string, RegionView>;
  /** Set when a region holds a different change of the same or a later version: another update raced this one. */
  raced?: string;
}

export interface StoredState extends AppStateItem {
  id: string;
  state: string;
  version: number;
  updatedAt: string;
  reason: string;
  previousState: string | null;
  updatedRegion: string;
  /** Set by a takeover: the designated region that could not be reached, and why the operator took over. */
  takeover?: { from: string; why: string; probe: string };
  writesFromMs?: number;
}

export interface StateUpdaterDeps {
  region: string;
  /** Designated regions and the fenced dwell (handlers/lib/stateRules.ts); absent = no region rule, no dwell. */
  rules?: StateRules;
  read(signal?: AbortSignal): Promise<AppStateItem | null>;
  /** Writes `item` only if the stored version is `ifVersion` (null = only if there is no item); false if not. */
  write(item: StoredState, ifVersion: number | null, signal?: AbortSignal): Promise<boolean>;
  /** Reads the state item of another region's replica (read-back); absent = read back the local replica only. */
  readIn?(region: string, signal?: AbortSignal): Promise<AppStateItem | null>;
  now(): Date;
  transitions?: Readonly<Record<string, readonly string[]>>;
  /** Epoch ms by which the answer must be ready (from getRemainingTimeInMillis); absent = no cap. */
  deadline?: number;
  /** Read-back budget (default READBACK_MS). */
  readBackMs?: number;
  sleep?(ms: number): Promise<void>;
}

const failure = (errorType: string, error: string): StateUpdateAnswer => ({ ok: false, errorType, error });

/** Validates the event; returns the new state and reason, or the problem. */
export function parseStateEvent(event: unknown): { newState: AppStateName; reason: string; takeover?: string } | { problem: string } {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    return { problem: 'the event must be a JSON object {"newState": "active|fenced|failover", "reason": "..."}' };
  }
  const e = event as Record<string, unknown>;
  const unknown = Object.keys(e).filter((k) => !EVENT_FIELDS.includes(k));
  if (unknown.length > 0) {
    return { problem: `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')}: allowed are newState (or NewState), reason and takeover` };
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
  if (e.takeover !== undefined && (typeof e.takeover !== 'string' || e.takeover.trim() === '' || e.takeover.length > MAX_REASON_CHARS)) {
    return { problem: `takeover must be a non-empty string of at most ${MAX_REASON_CHARS} characters saying why the designated region cannot be used` };
  }
  return { newState: newState as AppStateName, reason: reason.trim(), ...(typeof e.takeover === 'string' ? { takeover: e.takeover.trim() } : {}) };
}

/** Errors that mean no answer came back in time. */
const UNREACHABLE_NAMES = new Set(['TimeoutError', 'AbortError']);
/** Node's socket and DNS errors (and undici's): the connection failed, no answer came back. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);

/**
 * What a failed takeover probe says about the designated replica. Only unreachability lets a takeover through:
 * - a timeout or a connection error with no HTTP answer (the SDK's error then has no `$metadata.httpStatusCode`);
 * - a server error (HTTP 5xx) still there after the SDK's retries: an impaired DynamoDB answers 500
 *   InternalServerError or 503 ServiceUnavailable, both retryable server errors
 *   (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html), and whether the
 *   probe ends on such an answer or on a timeout depends only on retry timing, so both count the same.
 * A 4xx answer — ThrottlingException, AccessDeniedException, ResourceNotFoundException — means the region is up
 * and serving requests (the fault is the caller's or the table's), so its own updater is the one to use. An error
 * that is none of these (no answer, but no timeout or connection error either) is not proof of unreachability
 * and refuses too.
 */
export function probeOutcome(err: unknown): { unreachable: true; probe: string } | { unreachable: false; answered: string } {
  const e = (typeof err === 'object' && err !== null ? err : {}) as { code?: unknown; cause?: { code?: unknown }; $metadata?: { httpStatusCode?: unknown } };
  const name = errorName(err);
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number' && status >= 500) return { unreachable: true, probe: `HTTP ${status} ${name}` };
  if (typeof status === 'number') return { unreachable: false, answered: `answered (${name}, HTTP ${status}), so it is reachable` };
  if (UNREACHABLE_NAMES.has(name)) return { unreachable: true, probe: name };
  const code = typeof e.code === 'string' ? e.code : typeof e.cause?.code === 'string' ? e.cause.code : undefined;
  if (code !== undefined && UNREACHABLE_CODES.has(code)) return { unreachable: true, probe: code };
  const text = err instanceof Error ? `: ${err.message.slice(0, 200)}` : '';
  return { unreachable: false, answered: `could not be probed (${name}${code ? ` ${code}` : ''}${text}), which is neither a timeout nor a connection error, so it is not known to be unreachable` };
}

/** The pure core. */
/** Tries of the state write when a write conflict cancels it (see the write below). */
export const STATE_WRITE_ATTEMPTS = 8;

export async function updateState(event: unknown, deps: StateUpdaterDeps): Promise<StateUpdateAnswer> {
  const parsed = parseStateEvent(event);
  if ('problem' in parsed) return failure(BAD_INPUT, parsed.problem);
  const { newState, reason } = parsed;
  const left = () => (deps.deadline === undefined ? Infinity : deps.deadline - deps.now().getTime());
  const callSignal = () => AbortSignal.timeout(Math.max(1, Math.min(CALL_TIMEOUT_MS, left())));

  let takeover: StoredState['takeover'];
  if (deps.rules) {
    const designated = stateRegionFor(newState, deps.rules.regions, deps.rules.primaryRegion);
    if (designated.region !== deps.region) {
      const refuse = `this is ${deps.region}'s state updater, but ${designated.why}: invoke ${designated.region}'s updater (npm run state -- ${newState} picks it); one region per change keeps two operators from both succeeding in different replicas`;
      if (parsed.takeover === undefined || !deps.readIn) return failure(NOT_STATE_REGION, `${refuse}. Nothing was written`);
      // takeover: allowed only while the designated region's replica cannot be reached from here
      try {
        await deps.readIn(designated.region, callSignal());
        return failure(NOT_STATE_REGION, `${refuse}; takeover refused: ${designated.region}'s replica answers, so use its updater. Nothing was written`);
      } catch (err) {
        const probe = probeOutcome(err);
        if (!probe.unreachable) {
          return failure(NOT_STATE_REGION, `${refuse}; takeover refused: ${designated.region}'s replica ${probe.answered}: use its updater. Nothing was written`);
        }
        takeover = { from: designated.region, why: parsed.takeover, probe: probe.probe };
      }
    }
  }
  if (left() < MIN_START_MS) {
    return failure('Unavailable', `only ${Math.max(0, Math.round(left()))} ms of the invocation are left, under the ${MIN_START_MS} ms a change needs; nothing was written`);
  }
  let current: AppStateItem | null;
  try {
    current = await deps.read(callSignal());
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
      ...(current.writesFromMs !== undefined ? { writesFromMs: current.writesFromMs } : {}),
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
  if (current && current.state === 'fenced' && newState === 'active' && deps.rules) {
    const tooShort = fencedTooShort(current.updatedAt, deps.now(), deps.rules.minFencedSeconds, deps.rules.writeBoundMs);
    if (tooShort) return failure(FENCED_TOO_SHORT, tooShort);
  }
  const ifVersion = current ? (current.version ?? 0) : null;
  // one clock reading for both: writesFromMs is promised to be at least updatedAt + the write bound
  const at = deps.now();
  const writesFromMs = newState === 'failover' && deps.rules ? failoverWritesFrom(current, deps.rules, at.getTime()) : null;
  const item: StoredState = {
    id: APP_STATE_ID,
    state: newState,
    version: (ifVersion ?? 0) + 1,
    updatedAt: at.toISOString(),
    reason,
    previousState: current ? current.state : null,
    updatedRegion: deps.region,
    ...(takeover ? { takeover } : {}),
    ...(writesFromMs !== null ? { writesFromMs } : {}),
  };
  try {
    // No item write includes this item (the write path reads it, handlers/items.ts), so what can still refuse this
    // write for a moment is MRSC's ReplicatedWriteConflictException (another region's updater writing it at once):
    // retry conflicts with jittered backoff inside the time budget instead of failing the change.
    let won: boolean | undefined;
    for (let attempt = 1; won === undefined; attempt++) {
      try {
        won = await deps.write(item, ifVersion, callSignal());
      } catch (err) {
        const pause = backoffMs(attempt);
        if (!isRetryableConflict(err) || attempt >= STATE_WRITE_ATTEMPTS || left() < pause + CALL_TIMEOUT_MS) throw err;
        await (deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms))))(pause);
      }
    }
    if (!won) {
      return failure(
        STATE_CONFLICT,
        `the app state changed while updating it (expected ${ifVersion === null ? 'no state item' : `version ${ifVersion}`}): another update in region ${deps.region} won; re-read the state and retry. Nothing was written`,
      );
    }
  } catch (err) {
    const name = errorName(err);
    if (name === 'TimeoutError' || name === 'AbortError') {
      return failure('Unavailable', `writing the app state timed out (${name}): it may or may not be stored; re-read the state before retrying`);
    }
    return failure('Unavailable', `writing the app state failed (${name})`);
  }
  const { id: _id, ...rest } = item;
  void _id;
  const readBack = await readBackEverywhere(item, deps, left);
  return { ok: true, changed: true, ...rest, state: newState, readBack };
}

function view(s: AppStateItem | null): RegionView {
  if (!s) return { state: 'missing', version: null, updatedAt: null, updatedRegion: null };
  return { state: s.state, version: s.version ?? null, updatedAt: s.updatedAt ?? null, updatedRegion: s.updatedRegion ?? null };
}

/** Reads the state back from every region until all show `item` or the budget runs out (see the header). */
export async function readBackEverywhere(item: StoredState, deps: StateUpdaterDeps, left: () => number): Promise<ReadBack> {
  const regions = deps.rules?.regions ?? [deps.region];
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = deps.now().getTime();
  const budgetEnd = started + Math.min(deps.readBackMs ?? READBACK_MS, Math.max(0, left()));
  const seen: Record<string, RegionView> = {};
  const shows = (v: RegionView | undefined) => !!v && !('error' in v) && v.version === item.version && v.updatedAt === item.updatedAt && v.state === item.state;
  for (;;) {
    const pending = regions.filter((r) => !shows(seen[r]));
    await Promise.all(
      pending.map(async (r) => {
        const signal = AbortSignal.timeout(Math.max(1, Math.min(CALL_TIMEOUT_MS, budgetEnd - deps.now().getTime(), left())));
        try {
          const s = r === deps.region || !deps.readIn ? await deps.read(signal) : await deps.readIn(r, signal);
          seen[r] = view(s);
        } catch (err) {
          seen[r] = { error: errorName(err) };
        }
      }),
    );
    const converged = regions.every((r) => shows(seen[r]));
    const raced = regions.find((r) => {
      const v = seen[r];
      return !!v && !('error' in v) && v.version !== null && v.version >= item.version && !shows(v);
    });
    const now = deps.now().getTime();
    if (converged || raced !== undefined || now + READBACK_POLL_MS >= budgetEnd) {
      const out: ReadBack = { converged, waitedMs: now - started, regions: seen };
      if (raced !== undefined) {
        const v = seen[raced] as { state: string; version: number; updatedRegion: string | null };
        out.raced = `${raced} holds version ${v.version} (${v.state}, written in ${v.updatedRegion ?? 'an unknown region'}), not this change: another update raced it and the global table keeps the last writer; re-read the state and decide`;
      }
      return out;
    }
    await sleep(READBACK_POLL_MS);
  }
}

export function stateUpdaterDeps(deadline?: number): StateUpdaterDeps {
  const cfg = loadConfig(['appConfigTable']);
  const rules = loadStateRules(process.env, cfg.primaryRegion, cfg.writeMode);
  const doc = documentClient(cfg.region);
  return {
    region: cfg.region,
    rules,
    deadline,
    read: (signal) => readAppState(doc, cfg.appConfigTable, signal),
    readIn: (region, signal) => readAppState(documentClient(region), cfg.appConfigTable, signal),
    write: async (item, ifVersion, signal) => {
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
          { abortSignal: signal },
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

/** The part of Lambda's context the updater uses. */
export interface InvocationContext {
  getRemainingTimeInMillis(): number;
}

export async function handler(event: unknown, context?: InvocationContext): Promise<StateUpdateAnswer> {
  let deps: StateUpdaterDeps;
  try {
    deps = stateUpdaterDeps(context ? Date.now() + context.getRemainingTimeInMillis() - SAFETY_MS : undefined);
  } catch (err) {
    if (err instanceof ConfigError) return failure('ConfigError', `the function is misconfigured: ${err.message}`);
    throw err;
  }
  const answer = await updateState(event, deps);
  console.log(JSON.stringify({ stateUpdate: answer }));
  return answer;
}
