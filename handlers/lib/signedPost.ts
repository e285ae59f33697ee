/**
 * One SigV4-signed HTTP POST with a hard time bound: the transport the notifier's two outbound calls share
 * (handlers/lib/publish.ts → AppSync, handlers/lib/deadLetter.ts → SQS).
 *
 * Why a bound on the whole attempt: `req.setTimeout` only starts once a socket is assigned and connected, so DNS,
 * connect and waiting for a free socket of the agent were unbounded (a stalled lookup was seen still pending
 * after 8 s with a 500 ms timeout). Here every attempt carries an `AbortSignal.timeout`, which aborts the request
 * wherever it is — lookup, connect, socket queue, upload or reading the answer — and the caller sees a
 * `TimeoutError`.
 *
 * Signing uses @smithy/signature-v4 (the SDK's own signer) with @smithy/hash-node (node:crypto). One keep-alive agent per
 * scheme per process: warm Lambda invocations reuse the TLS connections. http:// is for the local emulator and
 * the tests' fakes.
 */
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';

/** What SignatureV4 takes: static credentials or a provider (typed from it, to need no extra type package). */
export type Credentials = ConstructorParameters<typeof SignatureV4>[0]['credentials'];

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Sockets per scheme: above the largest publish concurrency config allows (config/notifier.ts), so no publish waits for a socket. */
export const MAX_SOCKETS = 512;
const AGENTS = {
  'https:': new https.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS }),
  'http:': new http.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS }),
};

export interface SignedPostOptions {
  url: URL;
  service: string;
  region: string;
  credentials: Credentials;
  /** For tests: a DNS lookup to use instead of the system's, and an agent instead of the shared one. */
  lookup?: LookupFunction;
  agent?: http.Agent;
}

export function makeSigner(o: Pick<SignedPostOptions, 'service' | 'region' | 'credentials'>): SignatureV4 {
  // SHA-256 and HMAC from node:crypto (the SDK's own Node hasher): the pure-JS one cost ~1 ms a signature
  return new SignatureV4({ service: o.service, region: o.region, credentials: o.credentials, sha256: Hash.bind(null, 'sha256') });
}

/**
 * The User-Agent every notifier call sends. AWS WAF's AWSManagedRulesCommonRuleSet (on the AppSync API whenever
 * `waf` is on, prod's default) blocks requests without one (rule NoUserAgent_HEADER:
 * https://repost.aws/knowledge-center/waf-block-http-requests-no-user-agent,
 * https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-baseline.html), which would stop
 * every publishItemChange. SigV4 leaves user-agent unsigned (it is in the signer's always-unsignable headers),
 * so proxies that rewrite it cannot break the signature.
 */
export const NOTIFIER_USER_AGENT = 'global-appsync-notifier';

/**
 * Signs `body` with `headers` (host, content-type and x-amz-* are added/kept; user-agent is added, unsigned) for
 * the URL's path and query.
 */
export async function sign(signer: SignatureV4, url: URL, headers: Record<string, string>, body: string): Promise<Record<string, string>> {
  const signed = await signer.sign(
    new HttpRequest({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { host: url.host, 'user-agent': NOTIFIER_USER_AGENT, ...headers },
      body,
    }),
  );
  return signed.headers as Record<string, string>;
}

/**
 * POSTs `body` with the signed `headers`; rejects with a TimeoutError (`name === 'TimeoutError'`) when no whole
 * answer arrived within `timeoutMs` counted from this call, whatever stage the request was in.
 */
export function post(url: URL, headers: Record<string, string>, body: string, timeoutMs: number, o: Pick<SignedPostOptions, 'lookup' | 'agent'> = {}): Promise<RawResponse> {
  const mod = url.protocol === 'https:' ? https : http;
  const signal = AbortSignal.timeout(Math.max(1, Math.floor(timeoutMs)));
  return new Promise((resolve, reject) => {
    const fail = (err: unknown): void => {
      // An abort surfaces as an AbortError whose cause is the signal's TimeoutError: report the timeout itself.
      if (signal.aborted) reject(timeoutError(timeoutMs));
      else reject(err);
    };
    const req = mod.request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        agent: o.agent ?? AGENTS[url.protocol as 'http:' | 'https:'],
        signal,
        ...(o.lookup ? { lookup: o.lookup } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', fail);
        res.on('aborted', () => fail(new Error('answer aborted')));
      },
    );
    req.on('error', fail);
    req.end(body);
  });
}

function timeoutError(ms: number): Error {
  const e = new Error(`no complete answer within ${Math.round(ms)} ms (lookup, connect, socket wait and answer included)`);
  e.name = 'TimeoutError';
  return e;
}

/** The request id AWS answers with (AppSync: x-amzn-requestid; SQS JSON: x-amzn-requestid too). */
export function requestIdOf(headers: http.IncomingHttpHeaders): string | undefined {
  const v = headers['x-amzn-requestid'] ?? headers['x-amz-request-id'];
  return Array.isArray(v) ? v[0] : v;
}
