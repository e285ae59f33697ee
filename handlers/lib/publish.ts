/**
 * The notifier's AppSync client: POSTs `publishItemChange` (schema/publish.ts, which selects every field of
 * ItemChange) to a region's GraphQL endpoint, SigV4-signed for service `appsync` (publishItemChange is
 * `@aws_iam`: only signed callers may publish), over a keep-alive agent, with retries.
 *
 * Retried (full-jitter exponential backoff, at most `maxAttempts` attempts in all):
 *   - HTTP 429 and any 5xx (a Retry-After header on them is honoured, capped at maxDelayMs);
 *   - network errors (connection refused/reset, request timeout);
 *   - a 200 whose GraphQL errors are throttling (errorType Throttling*, TooManyRequests*, *LimitExceeded*,
 *     Rate exceeded) or AppSync-side transient failures (InternalFailure, ServiceUnavailable);
 *   - a 2xx whose body is not GraphQL JSON (a broken intermediary).
 * Not retried — a failure for that record at once: any other 4xx (401/403: bad or unauthorised signature, 400:
 * bad request) and GraphQL errors of any other type (e.g. Unauthorized, validation errors), and an answer
 * without `data.publishItemChange`.
 *
 * A retry after a lost answer may publish the same change twice; subscribers can tell by (publishedRegion,
 * sequenceNumber). At-least-once is the contract (see handlers/notifier.ts).
 *
 * http:// endpoints are supported too (the local emulator, the tests' fake AppSync).
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import http from 'node:http';
import https from 'node:https';
import { PUBLISH_ITEM_CHANGE } from '../../schema/publish';
import type { ItemChangeInput } from './streamRecord';

/** What SignatureV4 takes: static credentials or a provider (typed from it, to need no extra type package). */
export type Credentials = ConstructorParameters<typeof SignatureV4>[0]['credentials'];

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
  /** Per attempt: no answer within this many ms counts as a network error. */
  requestTimeoutMs?: number;
  /** For tests: the jitter source (default Math.random) and the sleep. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export type PublishResult =
  | { ok: true; attempts: number }
  | { ok: false; attempts: number; retryable: boolean; reason: string };

/** One attempt's verdict. */
export type Attempt = { ok: true } | { ok: false; retryable: boolean; reason: string; retryAfterMs?: number };

const RETRYABLE_ERROR_TYPE = /throttl|toomanyrequests|limitexceeded|rate exceeded|internalfailure|serviceunavailable/i;

// One keep-alive agent per scheme for the whole process: warm Lambda invocations reuse the TLS connections.
const AGENTS = {
  'https:': new https.Agent({ keepAlive: true, maxSockets: 64 }),
  'http:': new http.Agent({ keepAlive: true, maxSockets: 64 }),
};

export class Publisher {
  private readonly url: URL;
  private readonly signer: SignatureV4;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly requestTimeoutMs: number;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(cfg: PublisherConfig) {
    this.url = new URL(cfg.url);
    if (this.url.protocol !== 'https:' && this.url.protocol !== 'http:') {
      throw new Error(`APPSYNC_URL must be an http(s) URL, got ${JSON.stringify(cfg.url)}`);
    }
    if (!cfg.region) throw new Error('the region to sign for is empty');
    this.signer = new SignatureV4({ service: 'appsync', region: cfg.region, credentials: cfg.credentials, sha256: Sha256 });
    this.maxAttempts = positiveInt(cfg.maxAttempts ?? PUBLISH_DEFAULTS.maxAttempts, 'maxAttempts');
    this.baseDelayMs = nonNegative(cfg.baseDelayMs ?? PUBLISH_DEFAULTS.baseDelayMs, 'baseDelayMs');
    this.maxDelayMs = nonNegative(cfg.maxDelayMs ?? PUBLISH_DEFAULTS.maxDelayMs, 'maxDelayMs');
    this.requestTimeoutMs = positiveInt(cfg.requestTimeoutMs ?? PUBLISH_DEFAULTS.requestTimeoutMs, 'requestTimeoutMs');
    this.random = cfg.random ?? Math.random;
    this.sleep = cfg.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /**
   * Publishes one change, retrying as described above. Never throws. With `deadlineAt` (epoch ms), no attempt is
   * started (and no backoff slept) that could not finish by then: the result is then a retryable failure.
   */
  async publish(input: ItemChangeInput, deadlineAt = Number.POSITIVE_INFINITY): Promise<PublishResult> {
    const body = JSON.stringify({ query: PUBLISH_ITEM_CHANGE, variables: { input } });
    let last: Attempt = { ok: false, retryable: true, reason: 'not attempted' };
    for (let attempt = 1; attempt <= this.maxAttempts; attempt += 1) {
      let wait = 0;
      if (attempt > 1) {
        const cap = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 2));
        const jitter = this.random() * cap;
        const hinted = !last.ok && last.retryAfterMs !== undefined ? Math.min(this.maxDelayMs, last.retryAfterMs) : 0;
        wait = Math.max(jitter, hinted);
      }
      if (Date.now() + wait + this.requestTimeoutMs > deadlineAt) {
        const why = last.ok ? '' : `; last error: ${last.reason}`;
        return { ok: false, attempts: attempt - 1, retryable: true, reason: `no time left in this invocation for attempt ${attempt}${why}` };
      }
      if (wait > 0) await this.sleep(wait);
      last = await this.attempt(body);
      if (last.ok) return { ok: true, attempts: attempt };
      if (!last.retryable) return { ok: false, attempts: attempt, retryable: false, reason: last.reason };
    }
    return { ok: false, attempts: this.maxAttempts, retryable: true, reason: `gave up after ${this.maxAttempts} attempts: ${last.ok ? '' : last.reason}` };
  }

  private async attempt(body: string): Promise<Attempt> {
    let signed: { headers: Record<string, string> };
    try {
      signed = (await this.signer.sign(
        new HttpRequest({
          method: 'POST',
          protocol: this.url.protocol,
          hostname: this.url.hostname,
          port: this.url.port ? Number(this.url.port) : undefined,
          path: this.url.pathname,
          query: Object.fromEntries(this.url.searchParams),
          headers: { host: this.url.host, 'content-type': 'application/json' },
          body,
        }),
      ));
    } catch (err) {
      // Usually the credential provider failing (e.g. a transient metadata-endpoint error): worth a retry.
      return { ok: false, retryable: true, reason: `signing failed: ${message(err)}` };
    }
    let res: RawResponse;
    try {
      res = await send(this.url, signed.headers, body, this.requestTimeoutMs);
    } catch (err) {
      return { ok: false, retryable: true, reason: `network error: ${message(err)}` };
    }
    return classify(res);
  }
}

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function send(url: URL, headers: Record<string, string>, body: string, timeoutMs: number): Promise<RawResponse> {
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      url,
      { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, agent: AGENTS[url.protocol as 'http:' | 'https:'] },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

interface GraphQLError {
  errorType?: unknown;
  message?: unknown;
}

/** The verdict on one HTTP answer (exported for tests). */
export function classify(res: RawResponse): Attempt {
  let parsed: { data?: { publishItemChange?: unknown } | null; errors?: GraphQLError[] } | undefined;
  try {
    parsed = JSON.parse(res.body);
  } catch {
    parsed = undefined;
  }
  const errors = Array.isArray(parsed?.errors) ? parsed.errors : [];
  const detail = errors.length > 0 ? errors.map(describeError).join('; ') : snippet(res.body);

  if (res.status === 429 || res.status >= 500) {
    return { ok: false, retryable: true, reason: `HTTP ${res.status}: ${detail}`, retryAfterMs: retryAfter(res.headers['retry-after']) };
  }
  if (res.status < 200 || res.status >= 300) {
    return { ok: false, retryable: false, reason: `HTTP ${res.status}: ${detail}` };
  }
  if (!parsed || typeof parsed !== 'object') {
    return { ok: false, retryable: true, reason: `HTTP ${res.status} with a body that is not GraphQL JSON: ${detail}` };
  }
  if (errors.length > 0) {
    const retryable = errors.some((e) => RETRYABLE_ERROR_TYPE.test(`${String(e.errorType ?? '')} ${String(e.message ?? '')}`));
    return { ok: false, retryable, reason: `GraphQL error: ${detail}` };
  }
  if (!parsed.data || parsed.data.publishItemChange == null) {
    return { ok: false, retryable: false, reason: `answer has no data.publishItemChange: ${snippet(res.body)}` };
  }
  return { ok: true };
}

function describeError(e: GraphQLError): string {
  return `${String(e?.errorType ?? 'Error')}: ${String(e?.message ?? '')}`;
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

function positiveInt(n: number, name: string): number {
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be an integer ≥ 1, got ${n}`);
  return n;
}

function nonNegative(n: number, name: string): number {
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a number ≥ 0, got ${n}`);
  return n;
}
