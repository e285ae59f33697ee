/**
 * Parsers for what a client controls in a REST request besides the body: the If-Match and Idempotency-Key headers,
 * version numbers given as text (query string), and the caller identity API Gateway's authorizer put in the
 * request context.
 *
 * Every parser here is linear in its input and refuses anything longer than a small cap before looking at it,
 * so a hostile header costs microseconds (the former If-Match regex backtracked cubically on leading whitespace:
 * 8,000 spaces took 55 s). API Gateway passes headers of up to 10 KB
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html); the caps are far below that.
 */
import { WRITE_ID_RULE, versionLimitProblem, writeIdProblem } from '../../schema/rules';

/** Longest If-Match we look at: `W/"<16 digits>"` plus generous whitespace. */
export const MAX_IF_MATCH_CHARS = 64;
/** Longest version text we look at (the largest safe integer has 16 digits). */
export const MAX_VERSION_CHARS = 32;
/** Longest caller identity (a JWT `sub`) stored as updatedBy. */
export const MAX_CALLER_CHARS = 256;

function show(raw: string): string {
  return JSON.stringify(raw.length > 40 ? `${raw.slice(0, 40)}…` : raw);
}

/**
 * A version given as text (query string, If-Match): a whole number from 0 to MAX_VERSION (schema/rules.ts), without
 * leading zeros. A longer run of digits is refused naming the limit.
 */
export function parseVersionText(raw: string, what: string): { version: number } | { problem: string } {
  const invalid = { problem: `${what} ${show(raw)} is invalid: it must be a whole number ≥ 0` };
  if (raw.length === 0 || raw.length > MAX_VERSION_CHARS) return invalid;
  for (let i = 0; i < raw.length; i += 1) {
    const c = raw.charCodeAt(i);
    if (c < 48 || c > 57) return invalid;
  }
  if (raw.length > 1 && raw[0] === '0') return invalid;
  const n = Number(raw);
  const over = versionLimitProblem(what, n, raw);
  if (over) return { problem: over };
  return { version: n };
}

/** `If-Match: <n>`, `"<n>"` or `W/"<n>"` (surrounding whitespace allowed); absent → {}. */
export function parseIfMatch(header: string | undefined): { version?: number } | { problem: string } {
  if (header === undefined) return {};
  const hint = ' (send If-Match: <version> or "<version>")';
  if (header.length > MAX_IF_MATCH_CHARS) {
    return { problem: `If-Match is ${header.length} characters, over the limit of ${MAX_IF_MATCH_CHARS}${hint}` };
  }
  let s = header.trim();
  if (s.startsWith('W/')) s = s.slice(2);
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) s = s.slice(1, -1);
  const parsed = parseVersionText(s, 'If-Match');
  return 'problem' in parsed ? { problem: `${parsed.problem}${hint}` } : parsed;
}

/** Longest Idempotency-Key we look at: a quoted key of WRITE_ID_MAX_LENGTH plus generous whitespace. */
export const MAX_IDEMPOTENCY_KEY_CHARS = 96;

/**
 * `Idempotency-Key: "<key>"` (the IETF draft's form, an RFC 8941 sf-string:
 * https://datatracker.ietf.org/doc/html/draft-ietf-httpapi-idempotency-key-header), or the key without quotes as
 * many clients send it; the key follows the writeId rule (schema/rules.ts), since it becomes the write's writeId.
 * Absent → {}.
 */
export function parseIdempotencyKey(header: string | undefined): { key?: string } | { problem: string } {
  if (header === undefined) return {};
  const rule = ` (send Idempotency-Key: "<key>", the key ${WRITE_ID_RULE}; a UUID fits)`;
  if (header.length > MAX_IDEMPOTENCY_KEY_CHARS) return { problem: `Idempotency-Key is ${header.length} characters, over the limit of ${MAX_IDEMPOTENCY_KEY_CHARS}${rule}` };
  let s = header.trim();
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) s = s.slice(1, -1);
  if (writeIdProblem(s) !== null) return { problem: `Idempotency-Key ${show(header)} is invalid${rule}` };
  return { key: s };
}

/** The header's name, lower-cased as the handlers' answers spell their headers. */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

/** A writeId as an Idempotency-Key header value: the draft's quoted sf-string, which parseIdempotencyKey reads back. */
export function idempotencyKeyValue(writeId: string): string {
  return `"${writeId}"`;
}

/** What API Gateway puts in `requestContext.authorizer` (REQUEST/TOKEN authorizer context, or Cognito claims). */
export interface AuthorizerContext {
  sub?: unknown;
  principalId?: unknown;
  claims?: { sub?: unknown } | null;
}

/**
 * The caller's subject: the project's token authorizer's `context.sub`, else its `principalId`, else a Cognito
 * authorizer's `claims.sub`. Null when there is none (API key) or it is not a usable string.
 */
export function callerIdentity(authorizer: AuthorizerContext | null | undefined): string | null {
  if (!authorizer || typeof authorizer !== 'object') return null;
  for (const candidate of [authorizer.sub, authorizer.principalId, authorizer.claims?.sub]) {
    if (typeof candidate === 'string' && candidate.length > 0 && candidate.length <= MAX_CALLER_CHARS) return candidate;
  }
  return null;
}
