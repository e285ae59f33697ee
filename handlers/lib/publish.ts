/**
 * The notifier's AppSync client: POSTs `publishItemChange` (schema/publish.ts, which selects every field of
 * ItemChange) to a region's GraphQL endpoint, SigV4-signed for service `appsync` (publishItemChange is
 * `@aws_iam`: only signed callers may publish), over a keep-alive agent (handlers/lib/signedPost.ts), with retries.
 *
 * Every attempt is bounded as a whole (DNS, connect, socket wait, answer) by an AbortSignal timeout of
 * min(requestTimeoutMs, time left before the caller's deadline); no attempt starts that could not finish by then.
 *
 * The verdict on each answer (`classify`, which never throws, whatever the body):
 *   - retryable here (full-jitter exponential backoff, at most `maxAttempts` attempts): HTTP 429 and any 5xx (a
 *     Retry-After on them is honoured, capped at maxDelayMs); network errors and timeouts; a 200 whose GraphQL
 *     errors are throttling (Throttling*, TooManyRequests*, *LimitExceeded*, Rate exceeded) or AppSync-side
 *     transient failures (InternalFailure, ServiceUnavailable); a 2xx whose body is not GraphQL JSON;
 *   - `permanent`: the record itself is refused and will be refused every time — HTTP 400/413/422, or GraphQL
 *     errors that are not throttling, transient or authorization (validation errors, BadInput, …). The notifier
 *     dead-letters these instead of reporting them (handlers/notifier.ts);
 *   - neither (not retried here, reported to Lambda): authorization failures (401/403, GraphQL Unauthorized /
 *     AccessDenied / expired tokens) and other 4xx or a 200 without `data.publishItemChange`: the function or its
 *     deployment is wrong, not the record, so every record would fail alike and a retry after a fix can succeed.
 * A 2xx with `data.publishItemChange` and no errors is a delivery. GraphQL answers a partial result as data plus
 * errors (https://spec.graphql.org/October2021/#sec-Errors): a field that fails is null with an error naming its
 * path, and a failing non-null field nulls its parent (https://spec.graphql.org/October2021/#sec-Handling-Field-Errors),
 * as AppSync's util.appendError adds an error without interrupting the resolver "so that data can be returned to
 * the caller" (quoted from AppSync's utility reference in
 * https://repost.aws/questions/QUNrZtWov2RY-_mF1Q2X517w). Subscribers receive what the mutation answered. So data
 * plus errors is a delivery only when the echo holds every field that was sent (sent non-null → echoed non-null,
 * the item's fields included): the mutation ran and subscribers got the whole change, so retrying or
 * dead-lettering it would deliver it twice; the errors are returned (`errors`) for the notifier to log. With this
 * schema a failing non-null field of `item` nulls `item` while publishItemChange stays non-null: subscribers got
 * `item: null`, the change's data is lost to them, and that answer is `permanent` (dead-lettered, naming the
 * fields that came back null) like any other refusal of the record.
 *
 * Failure reasons name the error type and an excerpt of the message (GraphQL messages cut to 160 characters,
 * other bodies to 200); the item's value is never in them: it is cut out of everything the server sends back
 * BEFORE anything is cut to length (cutting first would leave a prefix of the value that no longer matches it),
 * and an echo the server itself cut short (a run of the value's first 8 or more characters) is cut out too.
 *
 * A retry after a lost answer may publish the same change twice; subscribers can tell by (publishedRegion,
 * sequenceNumber). At-least-once is the contract (see handlers/notifier.ts).
 */
import type http from 'node:http';
import type { LookupFunction } from 'node:net';
import { PUBLISH_ITEM_CHANGE } from '../../schema/publish';
import { type Credentials, makeSigner, post, type RawResponse, requestIdOf, sign } from './signedPost';
import type { ItemChangeInput } from './streamRecord';
import type { SignatureV4 } from '@smithy/signature-v4';

export type { Credentials, RawResponse };

export const PUBLISH_DEFAULTS = {
  maxAttempts: 5,
  baseDelayMs: 100,
  maxDelayMs: 5000,
  requestTimeoutMs: 5000,
} as const;

export interface PublisherConfig {
  /** The region's GraphQL endpoint, https://<id>.appsync-api.<region>.amazonaws.com/graphql (or http:// locally). */
  url: string;
  /** The region to sign for (the notifier's own region). */
  region: string;
  /** Static credentials or a provider (e.g. the default chain); a provider is asked on every signing. */
  credentials: Credentials;
  /** Attempts in all, first one included (≥ 1). */
  maxAttempts?: number;
  /** Backoff before retry n (n = 1, 2, …) is uniform in [0, min(maxDelayMs, baseDelayMs · 2^(n-1))). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Per attempt, everything included: no whole answer within this many ms is a TimeoutError (retryable). */
  requestTimeoutMs?: number;
  /** For tests: the jitter source (default Math.random), the sleep, a DNS lookup and an HTTP agent. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  lookup?: LookupFunction;
  agent?: http.Agent;
}

export type PublishFailure = {
  ok: false;
  attempts: number;
  /** worth retrying later (Lambda's retry of the batch) */
  retryable: boolean;
  /** the record itself is refused: retrying it can never succeed */
  permanent: boolean;
  reason: string;
  /** a short machine-readable name: HTTP status, GraphQL errorType, TimeoutError, ECONNREFUSED, … */
  errorName: string;
  /** AppSync's request id of the last answer, when there was one */
  requestId?: string;
};
export type PublishResult = { ok: true; attempts: number; requestId?: string; errors?: string } | PublishFailure;

/** One attempt's verdict. `errors`: GraphQL errors that came back with the delivered data (value cut out). */
export type Attempt =
  | { ok: true; requestId?: string; errors?: string }
  | { ok: false; retryable: boolean; permanent: boolean; reason: string; errorName: string; requestId?: string; retryAfterMs?: number };

const RETRYABLE_ERROR_TYPE = /throttl|toomanyrequests|limitexceeded|rate exceeded|internalfailure|serviceunavailable/i;
const AUTH_ERROR_TYPE = /unauthori[sz]ed|accessdenied|forbidden|expiredtoken|invalidsignature|signaturedoesnotmatch|unrecognizedclient|invalidclienttokenid|missingauthenticationtoken/i;
/** HTTP statuses that refuse the request itself (its body), not the caller. */
const PERMANENT_STATUS = new Set([400, 413, 422]);
const MESSAGE_EXCERPT = 160;

export class Publisher {
  private readonly url: URL;
  private readonly signer: SignatureV4;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly requestTimeoutMs: number;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly transport: { lookup?: LookupFunction; agent?: http.Agent };

  constructor(cfg: PublisherConfig) {
    this.url = new URL(cfg.url);
    if (this.url.protocol !== 'https:' && this.url.protocol !== 'http:') {
      throw new Error(`APPSYNC_URL must be an http(s) URL, got ${JSON.stringify(cfg.url)}`);
    }
    if (!cfg.region) throw new Error('the region to sign for is empty');
    this.signer = makeSigner({ service: 'appsync', region: cfg.region, credentials: cfg.credentials });
    this.maxAttempts = positiveInt(cfg.maxAttempts ?? PUBLISH_DEFAULTS.maxAttempts, 'maxAttempts');
    this.baseDelayMs = nonNegative(cfg.baseDelayMs ?? PUBLISH_DEFAULTS.baseDelayMs, 'baseDelayMs');
    this.maxDelayMs = nonNegative(cfg.maxDelayMs ?? PUBLISH_DEFAULTS.maxDelayMs, 'maxDelayMs');
    this.requestTimeoutMs = positiveInt(cfg.requestTimeoutMs ?? PUBLISH_DEFAULTS.requestTimeoutMs, 'requestTimeoutMs');
    this.random = cfg.random ?? Math.random;
    this.sleep = cfg.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.transport = { lookup: cfg.lookup, agent: cfg.agent };
  }

  /**
   * Publishes one change, retrying as described above. Never throws. With `deadlineAt` (epoch ms), no attempt is
   * started (and no backoff slept) that could not finish by then: the result is then a retryable failure.
   */
  async publish(input: ItemChangeInput, deadlineAt = Number.POSITIVE_INFINITY): Promise<PublishResult> {
    const body = JSON.stringify({ query: PUBLISH_ITEM_CHANGE, variables: { input } });
    const secret = input.item?.value;
    let last: Attempt | undefined;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt += 1) {
      let wait = 0;
      if (attempt > 1 && last && !last.ok) {
        const cap = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 2));
        const jitter = this.random() * cap;
        const hinted = last.retryAfterMs !== undefined ? Math.min(this.maxDelayMs, last.retryAfterMs) : 0;
        wait = Math.max(jitter, hinted);
      }
      if (Date.now() + wait + this.requestTimeoutMs > deadlineAt) {
        const why = last && !last.ok ? `; last error: ${last.reason}` : '';
        return {
          ok: false,
          attempts: attempt - 1,
          retryable: true,
          permanent: false,
          reason: redact(`no time left in this invocation for attempt ${attempt}${why}`, secret),
          errorName: last && !last.ok ? last.errorName : 'DeadlineReached',
          ...(last && !last.ok && last.requestId ? { requestId: last.requestId } : {}),
        };
      }
      if (wait > 0) await this.sleep(wait);
      last = await this.attempt(body, Math.min(this.requestTimeoutMs, deadlineAt - Date.now()), secret, input);
      if (last.ok) return { ok: true, attempts: attempt, ...(last.requestId ? { requestId: last.requestId } : {}), ...(last.errors ? { errors: last.errors } : {}) };
      if (!last.retryable) return failure(last, attempt, secret);
    }
    const final = last as Extract<Attempt, { ok: false }>;
    return failure({ ...final, reason: `gave up after ${this.maxAttempts} attempts: ${final.reason}` }, this.maxAttempts, secret);
  }

  private async attempt(body: string, timeoutMs: number, secret: string | undefined, sent: ItemChangeInput): Promise<Attempt> {
    let headers: Record<string, string>;
    try {
      headers = await sign(this.signer, this.url, { 'content-type': 'application/json' }, body);
    } catch (err) {
      // Usually the credential provider failing (e.g. a transient metadata-endpoint error): worth a retry.
      return { ok: false, retryable: true, permanent: false, reason: `signing failed: ${message(err)}`, errorName: errorName(err, 'SigningFailed') };
    }
    let res: RawResponse;
    try {
      res = await post(this.url, headers, body, timeoutMs, this.transport);
    } catch (err) {
      return { ok: false, retryable: true, permanent: false, reason: `network error: ${message(err)}`, errorName: errorName(err, 'NetworkError') };
    }
    return classify(res, secret, sent);
  }
}

function failure(a: Extract<Attempt, { ok: false }>, attempts: number, secret: string | undefined): PublishFailure {
  return {
    ok: false,
    attempts,
    retryable: a.retryable,
    permanent: a.permanent,
    reason: redact(a.reason, secret),
    errorName: a.errorName,
    ...(a.requestId ? { requestId: a.requestId } : {}),
  };
}

/** Values shorter than this are cut out only where they stand alone (inside a word, "a" would shred the message). */
const REDACT_MIN_LENGTH = 4;
/** A run of at least this many of the value's first characters counts as an echo of it (the server may cut it). */
const ECHO_PREFIX = 8;

/**
 * `text` without the item's value (raw or JSON-escaped): an error message may echo variables. Cut out are: every
 * occurrence of the value's first min(8, length) characters together with as much of the rest of the value as
 * follows, so an echo the server cut short goes too; for a value under 4 characters, only occurrences not inside
 * a word.
 */
export function redact(text: string, secret: string | undefined): string {
  if (!secret) return text;
  let out = text;
  for (const form of new Set([secret, JSON.stringify(secret).slice(1, -1)])) out = redactForm(out, form);
  return out;
}

function redactForm(text: string, form: string): string {
  if (form.length < REDACT_MIN_LENGTH) {
    const escaped = form.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return text.replace(new RegExp(`(?<![\\p{L}\\p{N}])${escaped}(?![\\p{L}\\p{N}])`, 'gu'), '<value>');
  }
  const head = form.slice(0, Math.min(form.length, ECHO_PREFIX));
  let out = '';
  let from = 0;
  for (let at = text.indexOf(head, from); at >= 0; at = text.indexOf(head, from)) {
    let end = at + head.length;
    while (end < text.length && end - at < form.length && text[end] === form[end - at]) end += 1;
    out += `${text.slice(from, at)}<value>`;
    from = end;
  }
  return out + text.slice(from);
}

/**
 * The fields `sent` held (non-null) that `echo` lacks or holds as null, `item` first-level fields as `item.<name>`
 * (`item` alone when the whole item is null): what subscribers did not get.
 */
export function missingFromEcho(sent: ItemChangeInput, echo: unknown): string[] {
  const got = echo !== null && typeof echo === 'object' ? (echo as Record<string, unknown>) : {};
  const missing: string[] = [];
  for (const [k, v] of Object.entries(sent)) {
    if (v === null || v === undefined) continue;
    if (got[k] === null || got[k] === undefined) {
      missing.push(k);
      continue;
    }
    if (k === 'item' && typeof v === 'object') {
      const item = typeof got.item === 'object' ? (got.item as Record<string, unknown>) : {};
      for (const [f, fv] of Object.entries(v as unknown as Record<string, unknown>)) if (fv !== null && fv !== undefined && (item[f] === null || item[f] === undefined)) missing.push(`item.${f}`);
    }
  }
  return missing;
}

/**
 * The verdict on one HTTP answer (exported for tests). Never throws, whatever the body holds. `secret` (the item's
 * value) is cut out of every text taken from the answer before that text is cut to length. `sent` is the input
 * the answer is to: data plus errors is a delivery only when the echo holds all of it (see the header); without
 * `sent`, never.
 */
export function classify(res: RawResponse, secret?: string, sent?: ItemChangeInput): Attempt {
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.body);
  } catch {
    parsed = undefined;
  }
  const obj = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  const errors = Array.isArray(obj?.errors) ? (obj.errors as unknown[]).map((e) => errorFields(e, secret)) : [];
  const body = redact(res.body, secret);
  const detail = errors.length > 0 ? listErrors(errors) : snippet(body);
  const requestId = requestIdOf(res.headers ?? {});
  const rid = requestId ? { requestId } : {};
  const firstType = errors[0]?.type;

  if (res.status === 429 || res.status >= 500) {
    return { ok: false, retryable: true, permanent: false, reason: `HTTP ${res.status}: ${detail}`, errorName: firstType ?? `HTTP${res.status}`, retryAfterMs: retryAfter(res.headers?.['retry-after']), ...rid };
  }
  if (res.status < 200 || res.status >= 300) {
    const auth = res.status === 401 || res.status === 403 || errors.some((e) => AUTH_ERROR_TYPE.test(e.type));
    return { ok: false, retryable: false, permanent: !auth && PERMANENT_STATUS.has(res.status), reason: `HTTP ${res.status}: ${detail}`, errorName: firstType ?? `HTTP${res.status}`, ...rid };
  }
  if (!obj) {
    return { ok: false, retryable: true, permanent: false, reason: `HTTP ${res.status} with a body that is not a GraphQL JSON object: ${detail}`, errorName: 'MalformedResponse', ...rid };
  }
  const data = obj.data;
  const echo = data !== null && typeof data === 'object' ? (data as Record<string, unknown>).publishItemChange : undefined;
  if (echo != null) {
    if (errors.length === 0) return { ok: true, ...rid };
    const missing = sent ? missingFromEcho(sent, echo) : ['(the input sent is unknown)'];
    // delivered whole: the mutation ran and subscribers got every field sent; the errors are logged, never a reason to resend
    if (missing.length === 0) return { ok: true, ...rid, errors: listErrors(errors) };
    // subscribers got the change without these fields (item: null when a non-null field of item failed): lost data
    return {
      ok: false,
      retryable: false,
      permanent: true,
      reason: `partial answer: publishItemChange came back without ${missing.join(', ')}, so subscribers got the change without it; GraphQL error: ${detail}`,
      errorName: 'PartialAnswer',
      ...rid,
    };
  }
  if (errors.length > 0) {
    const retryable = errors.some((e) => RETRYABLE_ERROR_TYPE.test(`${e.type} ${e.message}`));
    const auth = errors.some((e) => AUTH_ERROR_TYPE.test(e.type));
    return { ok: false, retryable, permanent: !retryable && !auth, reason: `GraphQL error: ${detail}`, errorName: firstType ?? 'GraphQLError', ...rid };
  }
  return { ok: false, retryable: false, permanent: false, reason: `answer has no data.publishItemChange: ${snippet(body)}`, errorName: 'NoData', ...rid };
}

/** At most this many GraphQL errors are named in a reason. */
const MAX_ERRORS_LISTED = 5;

function listErrors(errors: readonly { type: string; message: string }[]): string {
  const shown = errors.slice(0, MAX_ERRORS_LISTED).map((e) => `${e.type}: ${e.message}`).join('; ');
  return errors.length > MAX_ERRORS_LISTED ? `${shown}; and ${errors.length - MAX_ERRORS_LISTED} more` : shown;
}

/**
 * errorType and an excerpt of the message of one GraphQL error entry, whatever it is (null, a string, …): the
 * value is cut out of both first, then the type is cut to 80 and the message to 160 characters.
 */
function errorFields(e: unknown, secret: string | undefined): { type: string; message: string } {
  const o = e !== null && typeof e === 'object' ? (e as Record<string, unknown>) : {};
  const type = typeof o.errorType === 'string' && o.errorType ? redact(o.errorType, secret).slice(0, 80) : 'Error';
  const raw = redact(typeof o.message === 'string' ? o.message : e === null || typeof e !== 'object' ? String(e) : '', secret);
  return { type, message: raw.length > MESSAGE_EXCERPT ? `${raw.slice(0, MESSAGE_EXCERPT)}…` : raw };
}

function retryAfter(header: string | string[] | undefined): number | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  if (!v) return undefined;
  const secs = Number(v);
  if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function snippet(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s || '(empty body)';
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** TimeoutError, or the system error code (ECONNREFUSED, ENOTFOUND, …), or the error's name. */
function errorName(err: unknown, fallback: string): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    if (err.name === 'TimeoutError') return 'TimeoutError';
    if (typeof code === 'string' && code) return code;
    return err.name && err.name !== 'Error' ? err.name : fallback;
  }
  return fallback;
}

function positiveInt(n: number, name: string): number {
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be an integer ≥ 1, got ${n}`);
  return n;
}

function nonNegative(n: number, name: string): number {
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a number ≥ 0, got ${n}`);
  return n;
}
