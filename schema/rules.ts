/**
 * The runtime contract shared by the APPSYNC_JS resolvers (schema/resolvers) and the Lambda handlers
 * (handlers/): item validation limits, the app-state item layout and the write rule table (docs/architecture.md, "Write rules").
 *
 * This file is bundled into APPSYNC_JS resolvers, so it must stay inside that runtime's subset: no
 * try/catch/throw, no while or classic for loops, no ++/--, no `in`, no `new`, no regex literals, no imports, and
 * no globals or built-in methods but those AWS lists (no String(), Number(), Array.isArray...): the bundle check
 * (local/appsync/runtimeCheck.ts) refuses anything else.
 */

/** Ids: 1–128 characters of letters, digits and `_ . : -`, starting with a letter or digit. */
export const ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$';
export const ID_RULE = '1-128 characters of letters, digits and _ . : -, starting with a letter or digit';

/**
 * Values: a string of 1 to 16384 characters. 16384 UTF-16 code units are at most 64 KiB in UTF-8, well
 * under DynamoDB's 400 KB item limit (and measurable the same way in APPSYNC_JS, which has no TextEncoder).
 */
export const MAX_VALUE_CHARS = 16384;
export const VALUE_RULE = `a string of 1 to ${MAX_VALUE_CHARS} characters`;

/**
 * The largest version a write may name (expectedVersion, If-Match): a write stores version + 1, which must stay an
 * exact integer in JavaScript and in the SDK's number marshalling (at most Number.MAX_SAFE_INTEGER, 2^53 - 1), so
 * named versions stay below Number.MAX_SAFE_INTEGER - 1. Written out: APPSYNC_JS has no Number.MAX_SAFE_INTEGER.
 */
export const MAX_VERSION = 9007199254740989;

/**
 * A version over MAX_VERSION → the error naming the limit; null when within it. `what` names the field, `written`
 * is how the client wrote the number (a header's digits), when that differs from the parsed number.
 */
export function versionLimitProblem(what: string, version: number, written?: string): string | null {
  if (version <= MAX_VERSION) {
    return null;
  }
  const shown = written === undefined ? `${version}` : written;
  return `${what} ${shown} is over the limit: versions go up to ${MAX_VERSION} (2^53 - 3, so the version a write stores stays an exact integer)`;
}

/** List page size bounds for listItems. */
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** The app-config table holds the app state under this key, and one drain flag item per region. */
export const APP_STATE_ID = 'app-state';
export const drainFlagId = (region: string): string => `drain#${region}`;

export type AppStateName = 'active' | 'fenced' | 'failover';
export const APP_STATES: readonly AppStateName[] = ['active', 'fenced', 'failover'];
export type WriteMode = 'multi-master' | 'primary';
export const WRITE_MODES: readonly WriteMode[] = ['multi-master', 'primary'];

/**
 * State transitions the state updater allows (from → to), the runbook rule:
 * - active   → fenced | failover
 * - fenced   → active | failover
 * - failover → fenced ONLY: failing back goes through fenced, so writes stop in every region while the
 *   writes taken outside the primary replicate back; only then does `active` let the primary take writes again.
 * Same-state writes are no-ops, not errors (the updater answers changed: false before consulting this table).
 */
export const STATE_TRANSITIONS: Readonly<Record<AppStateName, readonly AppStateName[]>> = {
  active: ['fenced', 'failover'],
  fenced: ['active', 'failover'],
  failover: ['fenced'],
};

export interface WriteContext {
  /** App state as read from the app-config table; anything unknown is treated as `fenced` (fail closed). */
  state: string | null | undefined;
  writeMode: WriteMode;
  /** The region serving the request. */
  region: string;
  primaryRegion: string;
  /**
   * The state item's `writesFromMs` (epoch milliseconds), set by the state updater on a `failover` that makes
   * regions write locally which wrote to the primary before: until then they refuse writes (StateChanging), so that
   * every write that read the previous state has committed first (writeBoundMs). Absent or null: at once.
   */
  writesFromMs?: number | null;
  /** Now, epoch milliseconds: needed when writesFromMs is set (without it such a failover refuses, fail closed). */
  nowMs?: number;
}

/** Error codes, shared by GraphQL errors (errorType) and REST answers. */
export const WRITE_FENCED = 'WriteFenced';
export const WRITE_REJECTED_IN_PRIMARY = 'WriteRejectedInPrimary';
export const VERSION_CONFLICT = 'VersionConflict';
export const NOT_FOUND = 'NotFound';
export const BAD_INPUT = 'BadInput';
/**
 * A write that lost a race and can simply be retried: another writer changed the item between this write's read
 * and its conditional write, or DynamoDB refused it with ReplicatedWriteConflictException (multi-Region strong
 * consistency: another region is writing the same item). GraphQL answers carry errorInfo {retryable: true}.
 */
export const WRITE_CONFLICT = 'WriteConflict';
/**
 * The app state is changing: a failover whose regions wait out the write bound before writing locally, or (REST) a
 * written region that holds another state than the local replica. Temporary: retry after `retryAfterS`.
 */
export const STATE_CHANGING = 'StateChanging';

export type WriteDecision =
  | { allowed: true; target: 'local' | 'primary'; targetRegion: string }
  | { allowed: false; errorType: string; message: string; retryAfterS?: number };

/**
 * The longest a REST handler works on a request (handlers/lib/budget.ts), whatever the function's timeout: API
 * Gateway's default integration timeout for REST APIs (the deployed APIs keep it), after which the client has its
 * 504 and no use for an answer. The write bound (writeBoundMs) rests on this cap, not on API Gateway's timeout.
 */
export const REQUEST_WORK_CAP_MS = 29_000;
export const APPSYNC_REQUEST_LIMIT_MS = 30000;
export const DEFAULT_STATE_CACHE_MS = 1000;
/** The largest stateCacheMs: a longer cache only lengthens the bound (and every fenced dwell) for no gain in rate. */
export const MAX_STATE_CACHE_MS = 10000;

/**
 * The write bound: no write commits in a region later than this many milliseconds after a state change (a fence)
 * is visible in that region's replica. A write reads the state (strongly consistent) at most STATE_CACHE_MS before
 * the request that uses it starts (REST: the items function's per-container cache; GraphQL: the mutation's own
 * pipeline, no cache), and the request's work then ends within its own limit:
 * - REST: the items function's timeout (Lambda ends the invocation), and never later than REQUEST_WORK_CAP_MS, the
 *   cap handlers/lib/budget.ts puts on the handler's own work (it aborts every DynamoDB call at it), whichever
 *   comes first. API Gateway's integration timeout is no part of it: it answers the client 504 and leaves the
 *   function running (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html), and a Regional
 *   or private REST API's can be raised above 29 s since June 2024
 *   (https://aws.amazon.com/about-aws/whats-new/2024/06/amazon-api-gateway-integration-timeout-limit-29-seconds/).
 * - GraphQL: AppSync's 30 s (https://docs.aws.amazon.com/general/latest/gr/appsync.html, "Request execution time
 *   for mutations, queries, and subscriptions").
 * It assumes what every client of DynamoDB assumes: a write takes effect while the call that carries it is open,
 * never after the caller has given up on it.
 * The state updater waits this bound out: the fenced dwell before `active`, and `writesFromMs` on a failover.
 *
 * `itemsFunctionTimeoutMs` is the items function's Lambda timeout; `graphqlRequestLimitMs` AppSync's request limit
 * (30 s, not configurable), which only the local emulator runs shorter, when it scales the bound down
 * (local/writeBound.ts).
 */
export function writeBoundMs(stateCacheMs: number, itemsFunctionTimeoutMs: number, graphqlRequestLimitMs: number = APPSYNC_REQUEST_LIMIT_MS): number {
  return Math.max(stateCacheMs + Math.min(itemsFunctionTimeoutMs, REQUEST_WORK_CAP_MS), graphqlRequestLimitMs);
}

/**
 * The write rule table (docs/architecture.md, "Write rules"):
 *
 * | state    | multi-master               | primary                                    |
 * |----------|----------------------------|--------------------------------------------|
 * | active   | write to the local replica | write to the primary region's replica      |
 * | fenced   | reject every write         | reject every write                         |
 * | failover | write locally, except in the primary (rejected), both modes            |
 */
export function decideWrite(ctx: WriteContext): WriteDecision {
  const state = ctx.state;
  if (state === 'active') {
    if (ctx.writeMode === 'primary') {
      return { allowed: true, target: 'primary', targetRegion: ctx.primaryRegion };
    }
    return { allowed: true, target: 'local', targetRegion: ctx.region };
  }
  if (state === 'failover') {
    if (ctx.region === ctx.primaryRegion) {
      return {
        allowed: false,
        errorType: WRITE_REJECTED_IN_PRIMARY,
        message: `writes are rejected in the primary region ${ctx.primaryRegion} during failover; write through another region`,
      };
    }
    const from = ctx.writesFromMs;
    if (typeof from === 'number') {
      const now = ctx.nowMs;
      if (typeof now !== 'number' || now < from) {
        const waitS = typeof now === 'number' ? Math.max(1, Math.ceil((from - now) / 1000)) : 30;
        return {
          allowed: false,
          errorType: STATE_CHANGING,
          message: `failover: ${ctx.region} takes writes in ${waitS} s, once every write that read the previous state has committed (the write bound); nothing was written, retry then`,
          retryAfterS: waitS,
        };
      }
    }
    return { allowed: true, target: 'local', targetRegion: ctx.region };
  }
  if (state === 'fenced') {
    return { allowed: false, errorType: WRITE_FENCED, message: 'the application is fenced (read-only): writes are rejected, nothing was written' };
  }
  return {
    allowed: false,
    errorType: WRITE_FENCED,
    message: `app state is ${state === null || state === undefined ? 'missing' : `unknown (${JSON.stringify(state)})`}: writes are rejected until it is one of active, fenced, failover`,
  };
}

const ID_FIRST_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const ID_CHARS = `${ID_FIRST_CHARS}_.:-`;
export const ID_MAX_LENGTH = 128;

/**
 * Checks an id against ID_PATTERN's rule; returns an error message or null. Written with plain string
 * methods rather than a regex or a passed-in matcher so it means the same in Node and in APPSYNC_JS (which
 * has no regex literals and may not accept functions passed as values).
 */
export function idProblem(id: unknown): string | null {
  if (typeof id !== 'string' || id.length === 0) {
    return `id is required: ${ID_RULE}`;
  }
  let ok = id.length <= ID_MAX_LENGTH && ID_FIRST_CHARS.indexOf(id.charAt(0)) >= 0;
  if (ok) {
    for (const ch of id.split('')) {
      if (ID_CHARS.indexOf(ch) < 0) {
        ok = false;
        break;
      }
    }
  }
  if (!ok) {
    return `id ${JSON.stringify(id.length > 40 ? `${id.slice(0, 40)}…` : id)} is invalid: ${ID_RULE}`;
  }
  return null;
}

/** Checks a value; returns an error message or null. */
export function valueProblem(value: unknown): string | null {
  if (value === undefined || value === null) {
    return `value is required: ${VALUE_RULE}`;
  }
  if (typeof value !== 'string') {
    return `value must be a string (got ${typeof value}): ${VALUE_RULE}`;
  }
  if (value.length === 0) {
    return `value is empty: ${VALUE_RULE}`;
  }
  if (value.length > MAX_VALUE_CHARS) {
    return `value is ${value.length} characters, over the limit: ${VALUE_RULE}`;
  }
  const lone = loneSurrogateAt(value);
  if (lone >= 0) {
    return `value holds a lone UTF-16 surrogate (${JSON.stringify(value.charAt(lone)).slice(1, -1)} at character ${lone}), which cannot be stored as UTF-8: send whole characters (a surrogate pair, or the character itself)`;
  }
  return null;
}

/**
 * The index of the first lone UTF-16 surrogate in `s` (a high surrogate U+D800–U+DBFF not followed by a low one,
 * or a low surrogate U+DC00–U+DFFF not preceded by a high one), or -1. Such a string has no UTF-8 form, and
 * DynamoDB stores strings as UTF-8
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html). What
 * DynamoDB does with one is not documented (refuse it, or replace it), while DynamoDB Local (Java, UTF-16 inside)
 * stores it; validation refuses it so that the emulator and AWS cannot differ. Single-character string comparisons compare UTF-16 code units, and split('') splits into
 * code units: both exist in APPSYNC_JS, where charCodeAt and regexes do not.
 */
export function loneSurrogateAt(s: string): number {
  let pendingHigh = -1;
  let at = -1;
  let i = 0;
  for (const ch of s.split('')) {
    const low = ch >= '\uDC00' && ch <= '\uDFFF';
    if (pendingHigh >= 0 && !low) {
      at = pendingHigh;
      break;
    }
    if (pendingHigh < 0 && low) {
      at = i;
      break;
    }
    pendingHigh = !low && ch >= '\uD800' && ch <= '\uDBFF' ? i : -1;
    i = i + 1;
  }
  if (at < 0 && pendingHigh >= 0) {
    at = pendingHigh;
  }
  return at;
}

/**
 * The app states in which decideWrite gives the same decision (allowed, same target) as it gave for the state a
 * write read: a write to another region's replica (writeMode primary) also reads that replica's state, and goes
 * ahead only when it is one of these, so the bound holds in the replica written to (writeBoundMs).
 */
export function statesAllowingTarget(ctx: Omit<WriteContext, 'state'>, target: 'local' | 'primary'): AppStateName[] {
  const out: AppStateName[] = [];
  for (const state of APP_STATES) {
    const d = decideWrite({ state: state, writeMode: ctx.writeMode, region: ctx.region, primaryRegion: ctx.primaryRegion });
    if (d.allowed && d.target === target) {
      out.push(state);
    }
  }
  return out;
}

/** Client write ids (idempotency keys): 1–64 characters of letters, digits and `_ . : -`. */
export const WRITE_ID_MAX_LENGTH = 64;
export const WRITE_ID_RULE = `1-${WRITE_ID_MAX_LENGTH} characters of letters, digits and _ . : -`;

/** Checks an optional write id (null/undefined = not given); returns an error message or null. */
export function writeIdProblem(writeId: unknown): string | null {
  if (writeId === undefined || writeId === null) {
    return null;
  }
  if (typeof writeId !== 'string' || writeId.length === 0 || writeId.length > WRITE_ID_MAX_LENGTH) {
    return `writeId is invalid: ${WRITE_ID_RULE}`;
  }
  for (const ch of writeId.split('')) {
    if (ID_CHARS.indexOf(ch) < 0) {
      return `writeId ${JSON.stringify(writeId)} is invalid: ${WRITE_ID_RULE}`;
    }
  }
  return null;
}
